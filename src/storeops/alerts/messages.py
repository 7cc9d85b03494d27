"""Alert notifications in Chinese or English (the ``alerts`` message catalog)."""

from __future__ import annotations

from datetime import date
from typing import Any

from storeops.i18n import gettext, normalize_locale
from storeops.kpi import KPIS
from storeops.notify import Notification

DOMAIN = "alerts"


def _(locale: str, message: str) -> str:
    return gettext(locale, DOMAIN, message)


def level_name(level: str, locale: str) -> str:
    names = {"red": _(locale, "Red alert"), "yellow": _(locale, "Yellow alert"),
             "blue": _(locale, "Blue alert")}  # fmt: skip
    return names.get(level, level)


def store_name(store_id: str, locale: str) -> str:
    return _(locale, "Whole chain") if store_id == "*" else store_id


def condition_text(kind: str, params: dict[str, Any], locale: str) -> str:
    if kind == "threshold":
        op = _(locale, "above") if params["op"] == "above" else _(locale, "below")
        text = _(locale, "{op} {value}").format(op=op, value=f"{params['value']:g}")
        days = int(params.get("consecutive_days", 1))
        if days > 1:
            text += _(locale, " for {days} days in a row").format(days=days)
        return text
    return _(locale, "unusual for this weekday (robust z-score at least {z})").format(
        z=f"{params['z']:g}"
    )


def notification(
    *,
    alert_id: int,
    rule_id: int,
    rule_name: str,
    kind: str,
    params: dict[str, Any],
    level: str,
    kpi: str,
    store_id: str,
    day: date,
    value: float | None,
    expected: float | None,
    score: float | None,
    locale: str = "zh_CN",
) -> Notification:
    """The notification for one alert (its dedup key: rule, store, day)."""
    loc = normalize_locale(locale)
    k = KPIS[kpi]
    subject = _(loc, "{level}: {kpi} at {store} on {day}").format(
        level=level_name(level, loc), kpi=k.name(loc), store=store_name(store_id, loc),
        day=day.isoformat(),
    )  # fmt: skip
    lines = [
        f"**{_(loc, 'Value')}**: {k.format(value, loc)}",
    ]
    if expected is not None:
        label = _(loc, "Threshold") if kind == "threshold" else _(loc, "Expected about")
        lines.append(f"**{label}**: {k.format(expected, loc)}")
    if score is not None:
        lines.append(f"**{_(loc, 'Robust z-score')}**: {score:+.1f}")
    lines.append(
        f"**{_(loc, 'Rule')}**: {rule_name} — {k.name(loc)} {condition_text(kind, params, loc)}"
    )
    lines.append("")
    lines.append(
        _(loc, "Alert {id}: acknowledge it on the dashboard's alerts page or with "
               "`storeops alerts ack {id}`.").format(id=alert_id)
    )  # fmt: skip
    return Notification(
        subject=subject,
        text="\n".join(lines),
        level=level,  # type: ignore[arg-type]
        dedup_key=f"alert:{rule_id}:{store_id}:{day.isoformat()}",
    )
