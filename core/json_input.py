"""JSON from outside (a trend file, a metrics export) parsed within a nesting depth. Python's parser recurses: 100,000
`[` raise RecursionError, and a value nested just under the interpreter's limit parses, then raises it wherever it is
printed or validated. No file we read nests more than a few levels."""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def parse_json(text: str) -> Any:
    """`json.loads`, with nesting deeper than MAX_DEPTH and an integer of over 4,300 digits (int() would take seconds)
    a ValueError saying so; a syntax error stays a JSONDecodeError (with its line)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        raise ValueError("a number of over 4300 digits") from None
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    if _deeper_than(data, MAX_DEPTH):
        raise ValueError(TOO_DEEP)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` deep, looked at level by level (no recursion)."""
    level = [data]
    for _ in range(limit + 1):
        level = [node for node in level if isinstance(node, (list, dict))]
        if not level:
            return False
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)]
    return True
