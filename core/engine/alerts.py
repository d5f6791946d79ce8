"""Budget alerts: when committed + reserved spend crosses a threshold of the daily or monthly cap, say so once per
period: in the log, in the database (`budget_alerts`), and as a JSON POST to the optional webhook."""
from __future__ import annotations

import aiohttp
from loguru import logger
from sqlalchemy.exc import IntegrityError

from core.engine.notifications import EventName, notify
from core.schema import budget_alerts
from core.settings import Budget
from core.storage import Database, utcnow

WEBHOOK_TIMEOUT_S = 10


def crossed_thresholds(used: float, cap: float, thresholds: list[int]) -> list[int]:
    """The thresholds (% of `cap`) that `used` has reached, lowest first; none for a cap of 0 (no cap)."""
    return [pct for pct in sorted(thresholds) if cap > 0 and used + 1e-9 >= cap * pct / 100]


class BudgetAlerts:
    def __init__(self, db: Database, caps: Budget) -> None:
        self.db = db
        self.caps = caps

    async def check(self, day: str, day_used: float, month: str, month_used: float) -> list[dict[str, object]]:
        """Raise every alert newly due at these amounts (committed + reserved) in `day` and `month`; returns them,
        each one only ever once."""
        raised = []
        for scope, period, used, cap in (("daily", day, day_used, self.caps.daily_limit_usd),
                                         ("monthly", month, month_used, self.caps.monthly_limit_usd)):
            for pct in crossed_thresholds(used, cap, self.caps.alert_thresholds_pct):
                if await self._record(scope, period, pct, used, cap):
                    raised.append({"scope": scope, "period": period, "threshold_pct": pct,
                                   "used_usd": round(used, 2), "cap_usd": cap,
                                   "message": f"{scope} budget {period}: ${used:.2f} of ${cap:.2f} used "
                                              f"({pct}% alert)"})
        for alert in raised:
            logger.warning(f"budget alert: {alert['message']}")
            await notify(self.db, EventName.BUDGET_ALERT, alert)
            await self._post(alert)
        return raised

    async def _record(self, scope: str, period: str, pct: int, used: float, cap: float) -> bool:
        """True when this alert is new (the unique key makes concurrent checks raise it once)."""
        try:
            async with self.db.transaction() as conn:
                await conn.execute(budget_alerts.insert().values(scope=scope, period=period, threshold_pct=pct,
                                                                 used_usd=used, cap_usd=cap, created_at=utcnow()))
            return True
        except IntegrityError:
            return False

    async def _post(self, alert: dict[str, object]) -> None:
        url = self.caps.alert_webhook_url
        if not url:
            return
        try:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(url, json=alert) as response:
                if response.status >= 300:
                    logger.warning(f"budget alert webhook answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning(f"budget alert webhook unreachable: {type(exc).__name__}")
