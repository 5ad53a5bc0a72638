"""A view's period and filters from its query parameters: what every analytics page (and the
worker warming the views people opened, ``integration/store/opened_views.py``) reads them with.

The period is ``period`` = ``30d`` / ``90d`` / ``365d`` (the last N days, today included), a
quarter (``2026-Q3``), ``custom`` with ``from``/``to`` (ISO dates, both days included) or ``all``;
``from`` and ``to`` alone mean custom. The filters are those of the REST API (``crm``, ``object``,
``pipeline``, ``persona``, ``owner``, ``country``, ``lead_source``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping

from integration.analytics import FILTER_NAMES, RecordFilter

#: The rolling periods, by their query value: days back from today (today included).
ROLLING = {"30d": 30, "90d": 90, "365d": 365}
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
#: The bar's filter labels, in the order drawn.
FILTER_TITLES = {"crm": "CRM", "object": "Object", "pipeline": "Pipeline", "persona": "Persona",
                 "owner": "Owner", "country": "Country", "lead_source": "Lead source"}
MAX_TEXT = 200


class FilterError(ValueError):
    """A period or filter in the query string that cannot be used; the message says why."""


@dataclass(frozen=True)
class Period:
    """A chosen period: its query value, its days (both included; None for open) and its label."""

    choice: str
    first: date | None
    last: date | None
    label: str

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as [since, until) in UTC, for :class:`RecordFilter`."""
        since = datetime.combine(self.first, time(), timezone.utc) if self.first else None
        until = (datetime.combine(self.last + timedelta(days=1), time(), timezone.utc)
                 if self.last is not None and self.last < date.max else None)
        return since, until


def quarter_period(year: int, number: int) -> Period:
    """Calendar quarter ``number`` (1-4) of ``year``."""
    first = date(year, 3 * number - 2, 1)
    after = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return Period(f"{year}-Q{number}", first, after - timedelta(days=1), f"{year} Q{number}")


def _iso_day(args: Mapping[str, str], name: str) -> date | None:
    raw = args.get(name) or ""
    if not raw:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise FilterError(f"{name}: a date as YYYY-MM-DD, not {raw[:40]!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"{name}: {raw!r} is not a date") from None


def parse_period(args: Mapping[str, str], today: date) -> Period:
    """The period a query string chooses (see the module docstring); all time when none."""
    choice = args.get("period") or ("custom" if args.get("from") or args.get("to") else "all")
    if choice in ROLLING:
        days = ROLLING[choice]
        return Period(choice, today - timedelta(days=days - 1), today, f"Last {days} days")
    if choice == "all":
        return Period("all", None, None, "All time")
    quarter = QUARTER.fullmatch(choice)
    if quarter:
        return quarter_period(int(quarter.group(1)), int(quarter.group(2)))
    if choice != "custom":
        raise FilterError(f"period: one of {', '.join(ROLLING)}, all, custom or a quarter "
                          f"like {today.year}-Q1, not {choice[:40]!r}")
    first, last = _iso_day(args, "from"), _iso_day(args, "to")
    if first and last and first > last:
        raise FilterError(f"from ({first}) is after to ({last})")
    label = f"{first or '…'} – {last or '…'}"
    return Period("custom", first, last, label)


def chosen_filters(args: Mapping[str, str]) -> dict[str, str]:
    """The filters ``args`` sets (empty ones left out), each at most :data:`MAX_TEXT` long."""
    chosen = {}
    for name in FILTER_NAMES:
        value = args.get(name) or ""
        if len(value) > MAX_TEXT:
            raise FilterError(f"{FILTER_TITLES[name]}: at most {MAX_TEXT} characters")
        if value:
            chosen[name] = value
    return chosen


def view_filter(args: Mapping[str, str], today: date) -> RecordFilter:
    """The RecordFilter of the period and filters ``args`` choose, on ``today``. Raises
    :class:`FilterError`."""
    return record_filter(parse_period(args, today), chosen_filters(args))


def record_filter(period: Period, chosen: Mapping[str, str]) -> RecordFilter:
    """The RecordFilter of a parsed period and filters (:func:`chosen_filters`)."""
    since, until = period.bounds()
    return RecordFilter(**chosen, since=since, until=until)
