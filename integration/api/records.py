"""Records: filter, search, period, JSON pages (with their count when asked) or a streamed CSV;
one record with its timeline."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator

from flask import Response, jsonify, stream_with_context

from integration.analytics import RecordFilter
from integration.analytics_cache import CachedAnalytics
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import (caller_connection, choice_arg, int_arg, record_filter, services,
                                     text_arg)
from integration.journey_view import record_journey, record_summary
from integration.record_pages import DIRECTIONS, SORTS, CursorError, read_page, stream_sorted, view_count
from integration.store.owners import owner_names
from integration.sync.map_in_force import connection_map

#: Answer formats of the record list.
FORMATS = ("json", "csv")
#: How a JSON page counts the records of its view (``count=``): up to ``COUNT_LIMIT``, or all.
COUNTS = ("capped", "exact")
#: The CSV export's columns, in order: the record list's fields, less the nested CRM values.
CSV_COLUMNS = ("object", "id", "name", "stage", "stage_label", "crm_stage", "pipeline", "persona",
               "persona_label", "owner_id", "owner_name", "amount", "stalled", "days_in_stage", "expected_days",
               "days_over", "stage_entered_at", "next_best_action", "email", "company", "url",
               "updated_at")
#: Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/connections/<ref>/records")
@require_tenant
def records_list(ref: str):
    """Records filtered, searched and sorted, as a JSON page or the whole list as CSV; with
    ``count``, the page also says how many records the view holds (``total``, ``total_exact``)."""
    sort = choice_arg("sort", list(SORTS)) or "days_over"
    order = choice_arg("order", list(DIRECTIONS))
    descending = None if order is None else order == "desc"
    answer = choice_arg("format", list(FORMATS)) or "json"
    counting = choice_arg("count", list(COUNTS))
    limit, after = int_arg("limit", 100, low=1, high=1000), text_arg("after", 400)
    flt = record_filter()
    with services().session() as session:
        conn = caller_connection(session, ref)
        jmap, _ = connection_map(session, conn.id)
        if answer == "csv":
            return _csv_response(conn.id, conn.name, flt, jmap, sort, descending)
        try:
            page = read_page(session, conn.id, flt, jmap, sort=sort, descending=descending,
                             limit=limit, after=after)
        except CursorError as exc:
            raise ApiError(400, "BAD_PARAMETER", f"after: {exc}") from None
        names = owner_names(session, conn.id, [r.owner_id for r in page.rows])
        body = {"records": [record_summary(r, names.get(r.owner_id or "")) for r in page.rows],
                "limit": limit, "sort": sort,
                "order": order or ("desc" if SORTS[sort].descending_first else "asc"),
                "next": page.next}
        if counting is not None:
            total = view_count(CachedAnalytics(session, conn.id, jmap), flt,
                               exact=counting == "exact", first_page=None if after else page)
            body.update(total=total.value, total_exact=total.exact)
        return jsonify(body)


def _csv_response(connection_id: int, name: str, flt: RecordFilter, jmap: Any, sort: str,
                  descending: bool | None) -> Response:
    """Every matching record as CSV, streamed from its own session a page of rows at a time."""
    def rows() -> Iterator[dict[str, Any]]:
        with services().session() as session:
            # owner names: one small table per connection, read once for the whole export
            names = owner_names(session, connection_id)
            for row in stream_sorted(session, connection_id, flt, jmap, sort=sort,
                                     descending=descending):
                yield record_summary(row, names.get(row.owner_id or ""))

    filename = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "records"
    return Response(stream_with_context(csv_lines(rows())), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}-records.csv"'})


def csv_lines(summaries: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then one CSV line per record summary (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(value) for value in values])
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for summary in summaries:
        yield line(summary[column] for column in CSV_COLUMNS)


def _cell(value: Any) -> Any:
    """A value as a CSV cell: dates in ISO form, empty for None, formulas defused with a quote."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@bp.get("/connections/<ref>/records/<object>/<crm_id>")
@require_tenant
def records_show(ref: str, object: str, crm_id: str):
    """One record with its place on the map and its journey timeline."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        view = record_journey(session, conn.id, object, crm_id,
                              base_url=services().settings.base_url)
    if view is None:
        raise ApiError(404, "NOT_FOUND", f"no {object} {crm_id!r} in this connection")
    return jsonify(view)
