"""Numbers from outside (a provider's headers and answers) kept within sane ranges: a server can send `inf`, `nan`,
`1e20` or a negative, and none of them may crash or stall a worker."""
from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import Any

MAX_WAIT_S = 3600.0
"""The longest a provider may make us wait (Retry-After, retry-after-ms, a poll hint): one hour. A longer pause is
not worth trusting a header for (the job fails over or waits in the queue meanwhile); `inf` or a date years ahead
would pause a provider for good, and `1e20` s overflows the clock arithmetic."""

MAX_COUNT = 2**63 - 1
"""The largest count (likes, views, traffic) we keep: a 64-bit integer, the most SQLite and PostgreSQL (BIGINT) hold. A
file or a server can write 10**30; storing it would raise OverflowError and stop the whole trend cycle."""


def as_number(value: Any) -> float | None:
    """A JSON value as a float; None for anything else (a string, a bool) and for an integer too big for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def bounded(value: float | None, low: float, high: float) -> float | None:
    """`value` within [low, high] (an infinity at its end); None for None or NaN, which say nothing."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, low), high)


def wait_s(value: float | None) -> float | None:
    """A wait a provider asked for, within [0, MAX_WAIT_S]."""
    return bounded(value, 0.0, MAX_WAIT_S)


def charge_usd(value: float | None) -> float | None:
    """What a provider says it charged: a finite amount of 0 or more, else ignored (None: the estimate counts)."""
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def retry_after(headers: Any) -> float | None:
    """Seconds to wait, from `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date, within
    [0, MAX_WAIT_S] (a header of `inf` or a date in the year 9999 is a long wait, not a crash); None when unreadable."""
    if headers is None:
        return None
    milliseconds = header_number(headers, "retry-after-ms")
    if milliseconds is not None:
        return wait_s(milliseconds / 1000)
    seconds = header_number(headers, "Retry-After")
    return wait_s(seconds if seconds is not None else _seconds_until(headers.get("Retry-After")))


def header_number(headers: Mapping[str, str], name: str) -> float | None:
    """A numeric header as sent (`inf` and `nan` included, for the caller to bound); None when absent or garbage."""
    try:
        return float(headers.get(name) or "")
    except ValueError:
        return None


def _seconds_until(date: str | None) -> float | None:
    """Seconds from now to an HTTP date (negative when it has passed); None when it is no date."""
    if not date:
        return None
    try:
        return email.utils.parsedate_to_datetime(date).timestamp() - time.time()
    except (TypeError, ValueError, OverflowError):
        return None
