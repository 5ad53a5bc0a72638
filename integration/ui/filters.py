"""The period and filter bar every analytics page shares (``templates/filter_bar.html``).

A page reads its query string with :func:`filter_bar` and gets the :class:`RecordFilter` to run its
queries with (:mod:`integration.view_args` reads the period and filters), the choices the bar
draws, and the query parameters its links carry. The owner filter is an owner id, shown by name.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Mapping
from urllib.parse import urlencode

from sqlmodel import Session

from integration.analytics import FILTER_NAMES, RecordFilter, filter_values
from integration.analytics_cache import CachedAnalytics
from integration.store.owners import owner_names
from integration.view_args import (ROLLING, Period, chosen_filters, parse_period, quarter_period,
                                   record_filter)
from mapping import JourneyMap

#: Quarters offered in the period menu besides the current one.
PAST_QUARTERS = 4


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
    chosen = chosen_filters(args)
    flt = replace(record_filter(period, chosen), **fixed)
    periods = period_choices(today)
    if period.choice not in dict(periods):  # an older quarter given in the URL
        periods.insert(len(ROLLING), (period.choice, period.label))
    return FilterBar(period, chosen, options, periods, flt)
