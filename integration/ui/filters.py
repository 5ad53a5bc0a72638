"""The period and filter bar every analytics page shares (``templates/filter_bar.html``).

A page reads its query string with :func:`filter_bar` and gets the :class:`RecordFilter` to run its
queries with, the choices the bar draws, and the query parameters its links carry. The period is
``period`` = ``30d`` / ``90d`` / ``365d`` (the last N days, today included), a quarter
(``2026-Q3``), ``custom`` with ``from``/``to`` (ISO dates, both days included) or ``all``; ``from``
and ``to`` alone mean custom. The filters are those of the REST API (``crm``, ``object``,
``pipeline``, ``persona``, ``owner`` (an owner id, shown by name), ``country``, ``lead_source``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlencode

from sqlmodel import Session

from integration.analytics import FILTER_NAMES, RecordFilter, filter_values
from integration.analytics_cache import CachedAnalytics
from integration.store.owners import owner_names
from mapping import JourneyMap

#: The rolling periods, by their query value: days back from today (today included).
ROLLING = {"30d": 30, "90d": 90, "365d": 365}
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
#: The bar's filter labels, in the order drawn.
FILTER_TITLES = {"crm": "CRM", "object": "Object", "pipeline": "Pipeline", "persona": "Persona",
                 "owner": "Owner", "country": "Country", "lead_source": "Lead source"}
#: Quarters offered in the period menu besides the current one.
PAST_QUARTERS = 4
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


def period_choices(today: date) -> list[tuple[str, str]]:
    """The period menu: rolling periods, this quarter and the previous ones, all time, custom."""
    year, number = today.year, (today.month - 1) // 3 + 1
    quarters = []
    for _ in range(PAST_QUARTERS + 1):
        quarters.append(quarter_period(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return ([(key, f"Last {days} days") for key, days in ROLLING.items()]
            + [(q.choice, q.label) for q in quarters] + [("all", "All time"), ("custom", "Custom dates")])


@dataclass(frozen=True)
class FilterBar:
    """What a page chose in the bar: the period, the filters, and the filter to query with."""

    period: Period
    chosen: dict[str, str]
    options: dict[str, list[tuple[str, str]]]
    periods: list[tuple[str, str]]
    flt: RecordFilter

    def params(self, **extra: Any) -> dict[str, str]:
        """Query parameters that keep this period and these filters (for the page's own links)."""
        period = {"period": self.period.choice} if self.period.choice != "all" else {}
        if self.period.choice == "custom":
            period.update({k: v.isoformat() for k, v in (("from", self.period.first),
                                                          ("to", self.period.last)) if v})
        return {**period, **self.chosen, **{k: str(v) for k, v in extra.items() if v is not None}}

    def api_params(self, **extra: Any) -> dict[str, str]:
        """The same choice as the REST API and the records view take it: ``from``/``to`` dates
        (plus ``period`` so a page shows the preset's name) and the filters."""
        dates = {k: v.isoformat() for k, v in (("from", self.period.first), ("to", self.period.last))
                 if v}
        return {**self.params(), **dates, **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                            for k, v in extra.items() if v is not None}}

    def records_url(self, connection_id: int, **extra: Any) -> str:
        """The records view narrowed to this choice and ``extra`` (stage=..., stalled=true)."""
        return f"/connections/{connection_id}/records?{urlencode(self.api_params(**extra))}"


def _chosen(args: Mapping[str, str]) -> dict[str, str]:
    chosen = {}
    for name in FILTER_NAMES:
        value = args.get(name) or ""
        if len(value) > MAX_TEXT:
            raise FilterError(f"{FILTER_TITLES[name]}: at most {MAX_TEXT} characters")
        if value:
            chosen[name] = value
    return chosen


def filter_options(db: Session, connection_id: int, jmap: JourneyMap) -> dict[str, list[tuple[str, str]]]:
    """Each filter's choices in this connection's records, as (value, label): personas by their
    map label, owners by their name (sorted by it). Kept in the analytics cache until the
    connection's data changes."""
    return CachedAnalytics(db, connection_id, jmap).get(
        "filter_options", RecordFilter(), lambda: _options(db, connection_id, jmap))


def _options(db: Session, connection_id: int, jmap: JourneyMap) -> dict[str, list[tuple[str, str]]]:
    options = {name: [(v, v) for v in filter_values(db, connection_id, name)] for name in FILTER_NAMES}
    options["persona"] = [(key, _persona_label(jmap, key)) for key, _ in options["persona"]]
    names = owner_names(db, connection_id, [v for v, _ in options["owner"]])
    options["owner"] = sorted(((v, names.get(v, v)) for v, _ in options["owner"]),
                              key=lambda pair: pair[1].lower())
    return options


def _persona_label(jmap: JourneyMap, key: str) -> str:
    try:
        return jmap.persona_label(key)
    except KeyError:
        return key


def filter_bar(db: Session, connection_id: int, jmap: JourneyMap, args: Mapping[str, str],
               today: date, **fixed: Any) -> FilterBar:
    """The bar as the query string ``args`` sets it; ``fixed`` adds RecordFilter fields the page
    sets itself (``stalled=True``, ``stage=...``). Raises :class:`FilterError`."""
    return _bar(args, today, filter_options(db, connection_id, jmap), fixed)


def workspace_filter_bar(db: Session, connections: list[tuple[int, JourneyMap]],
                         args: Mapping[str, str], today: date) -> FilterBar:
    """The bar of a page over several connections (the workspace), given as (id, map in force):
    each filter offers the choices of any of them."""
    merged: dict[str, dict[str, str]] = {name: {} for name in FILTER_NAMES}
    for connection_id, jmap in connections:
        for name, pairs in filter_options(db, connection_id, jmap).items():
            for value, label in pairs:
                merged[name].setdefault(value, label)
    options = {name: sorted(pairs.items(), key=lambda pair: (pair[1].lower(), pair[0]))
               for name, pairs in merged.items()}
    return _bar(args, today, options, {})


def _bar(args: Mapping[str, str], today: date, options: dict[str, list[tuple[str, str]]],
         fixed: dict[str, Any]) -> FilterBar:
    period = parse_period(args, today)
    chosen = _chosen(args)
    since, until = period.bounds()
    flt = replace(RecordFilter(**chosen, since=since, until=until), **fixed)
    periods = period_choices(today)
    if period.choice not in dict(periods):  # an older quarter given in the URL
        periods.insert(len(ROLLING), (period.choice, period.label))
    return FilterBar(period, chosen, options, periods, flt)
