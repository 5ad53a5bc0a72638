"""The records page: every record, or the stalled ones, to search, sort, page through, export,
and hand to their owners as CRM tasks (``records_tasks``).

It takes what the dashboard's drill-down links carry (the period and filter bar's parameters,
``stage=``, ``stalled=``) plus ``q`` (search), ``sort``/``order``, ``after`` (the next page's
cursor, see :mod:`integration.record_pages`) and ``count=exact``. A view shows its exact count
when it is kept (the worker keeps the page's first ones) or asked for with ``count=exact``;
otherwise it counts up to ``COUNT_LIMIT`` matches ("1,000+ records", with a link that counts them
all), so its first page never waits for every match to be read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import abort, render_template, request, url_for

from integration.analytics import RecordFilter
from integration.analytics_cache import CachedAnalytics
from integration.api.helpers import services
from integration.journey_view import record_summary
from integration.record_pages import DIRECTIONS, SORTS, UNPLACED, CursorError, read_page, view_count
from integration.store.models import RecordState
from integration.store.owners import owner_names
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.sync.tasks import REQUEST_LIMIT
from integration.ui import bp
from integration.ui.access import page_connection, signed_in
from integration.ui.filters import FilterBar, filter_bar
from integration.view_args import FilterError

#: Records per page.
PAGE_SIZE = 50
#: The table's columns: (sort key, heading); every one sorts.
COLUMNS = (("name", "Record"), ("stage", "Stage"), ("persona", "Persona"), ("owner", "Owner"),
           ("entered_at", "Entered"), ("days_over", "Days over"),
           ("next_best_action", "Next best action"))
TRUE = ("1", "true", "yes")
DEFAULT_SORT = "days_over"
#: The longest search or stage the page takes (as the REST API), and the longest page cursor.
MAX_TEXT, MAX_CURSOR = 200, 400


@dataclass(frozen=True)
class ListView:
    """What the page shows, from its query string: the bar, the page's own narrowing (stalled
    only, one stage, a search) and the order."""

    bar: FilterBar
    stalled: bool
    stage: str | None
    q: str | None
    sort: str
    order: str

    def params(self, **changes: Any) -> dict[str, str]:
        """Query parameters that keep this view (less the page), with ``changes`` (None drops)."""
        mine = {"stalled": "1" if self.stalled else None, "stage": self.stage, "q": self.q,
                "sort": self.sort, "order": self.order}
        merged = {**self.bar.params(), **mine, **changes}
        return {k: v for k, v in merged.items() if v is not None}

    def csv_url(self, connection_id: int) -> str:
        """The REST API's CSV export of this view (every matching record, this order)."""
        args = {k: v for k, v in self.bar.api_params().items() if k != "period"}
        args.update({k: v for k, v in (("stalled", "true" if self.stalled else None),
                                       ("stage", self.stage), ("q", self.q)) if v})
        args.update(sort=self.sort, order=self.order, format="csv")
        return f"/api/v1/connections/{connection_id}/records?{urlencode(args)}"


def list_view(db: Any, connection_id: int, jmap: Any) -> ListView:
    """The view the query string asks for; 400 for a period, filter or sort that cannot be used."""
    sort = request.args.get("sort") or DEFAULT_SORT
    if sort not in SORTS:
        abort(400, f"Sort by one of: {', '.join(SORTS)}.")
    order = request.args.get("order") or ("desc" if SORTS[sort].descending_first else "asc")
    if order not in DIRECTIONS:
        abort(400, "Order is asc or desc.")
    stalled = (request.args.get("stalled") or "").lower() in TRUE
    stage = request.args.get("stage") or None
    q = (request.args.get("q") or "").strip() or None
    for name, value, most in (("Search", q, MAX_TEXT), ("Stage", stage, MAX_TEXT),
                              ("The page link", request.args.get("after"), MAX_CURSOR)):
        if value is not None and len(value) > most:
            abort(400, f"{name}: at most {most} characters.")
    fixed = {"stalled": True if stalled else None, "stage": stage, "q": q}
    try:
        bar = filter_bar(db, connection_id, jmap, request.args, utcnow().date(),
                         **{k: v for k, v in fixed.items() if v is not None})
    except FilterError as exc:
        abort(400, str(exc))
    return ListView(bar, stalled, stage, q, sort, order)


@bp.get("/connections/<int:connection_id>/records")
@signed_in
def records_page(connection_id: int):
    """Records (or the stalled ones) filtered, searched and sorted, a page at a time."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, _ = connection_map(db, conn.id)
        view = list_view(db, conn.id, jmap)
        exact, after = exact_count_asked(), request.args.get("after") or None
        try:
            page = read_page(db, conn.id, view.bar.flt, jmap, sort=view.sort,
                             descending=view.order == "desc", limit=PAGE_SIZE,
                             after=after)
        except CursorError as exc:
            abort(400, f"This page link no longer works ({exc}).")
        cache = CachedAnalytics(db, conn.id, jmap)
        total = view_count(cache, view.bar.flt, exact=exact, first_page=None if after else page)
        unplaced = view_count(cache, UNPLACED)
        rows = row_summaries(db, conn.id, page.rows)
    base = url_for("ui.records_page", connection_id=conn.id)
    return render_template(
        "records.html", conn=conn, view=view, bar=view.bar, rows=rows, total=total,
        columns=COLUMNS, base=base, stage_label=stage_label(jmap, view.stage), unplaced=unplaced,
        next_url=f"{base}?{urlencode(view.params(after=page.next))}" if page.next else None,
        first_url=(f"{base}?{urlencode(view.params())}" if after else None),
        sort_url=lambda key: f"{base}?{urlencode(view.params(sort=key, order=_flip(view, key)))}",
        view_url=lambda **changes: f"{base}?{urlencode(view.params(**changes))}",
        count_url=f"{base}?{urlencode(view.params(count='exact', after=after))}",
        tasks_url=f"{base}/tasks?{urlencode(view.params())}", bulk_limit=REQUEST_LIMIT)


def exact_count_asked() -> bool:
    """Whether the query string asks for the view's exact count (``count=exact``); 400 for
    another value."""
    asked = request.args.get("count")
    if asked not in (None, "", "exact"):
        abort(400, "Count: exact, or leave it out.")
    return asked == "exact"


def row_summaries(db: Any, connection_id: int, rows: list[RecordState]) -> list[dict[str, Any]]:
    """The rows as the records table shows them (``records_table.html``): each record's summary
    with its owner's name, and its row id (what the bulk task form sends)."""
    names = owner_names(db, connection_id, [r.owner_id for r in rows])
    return [{**record_summary(r, names.get(r.owner_id or "")), "row_id": r.id} for r in rows]


def first_rows(db: Any, connection_id: int, flt: RecordFilter, jmap: Any, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` records of the records page for ``flt`` in its default order (most
    days over first), for a page that shows the top of the list and links to the rest."""
    return row_summaries(db, connection_id, read_page(db, connection_id, flt, jmap, sort=DEFAULT_SORT,
                                                      limit=limit).rows)


def stage_label(jmap: Any, stage: str | None) -> str | None:
    """The map's label of ``stage`` (the key itself for a stage the map does not name)."""
    try:
        return jmap.label(stage) if stage else None
    except KeyError:  # a stage an older map had
        return stage


def _flip(view: ListView, key: str) -> str:
    """The order a column heading's link asks for: the other direction on the sorted column,
    the column's own default on the others."""
    if key == view.sort:
        return "asc" if view.order == "desc" else "desc"
    return "desc" if SORTS[key].descending_first else "asc"
