"""Bulk "create tasks for owners" from the records page: for the ticked records or the whole
view, a confirmation saying what it comes to, then the tasks queued for the worker (see
:func:`integration.sync.tasks.request_tasks`). A form post with the session's CSRF token."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for

from connectors import registry
from integration.api.helpers import services
from integration.record_pages import matching_ids
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.sync.tasks import REQUEST_LIMIT, TaskRequest, request_tasks
from integration.ui import bp
from integration.ui.access import page_connection, signed_in
from integration.ui.records_page import list_view
from mapping.model import TaskRule


@bp.post("/connections/<int:connection_id>/records/tasks")
@signed_in
def records_tasks(connection_id: int):
    """Create tasks for the owners of the chosen records (``scope=selected`` with ``record`` row
    ids, or ``scope=all`` for the whole view of the query string): first a confirmation saying
    how many tasks it comes to, then (``confirm=1``) queue them for the worker."""
    now = utcnow()
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, _ = connection_map(db, conn.id)
        view = list_view(db, conn.id, jmap)
        base = url_for("ui.records_page", connection_id=conn.id)
        back = f"{base}?{urlencode(view.params())}"
        scope = request.form.get("scope")
        if scope == "all":
            ids = matching_ids(db, conn.id, view.bar.flt, limit=REQUEST_LIMIT + 1)
        elif scope == "selected":
            ids = _row_ids(request.form.getlist("record"))
        else:
            abort(400, "Say which records: scope=selected or scope=all.")
    if not ids:
        flash("Select the records to create tasks for first.", "error")
        return redirect(back, 303)
    if len(ids) > REQUEST_LIMIT:
        flash(f"Tasks are created for at most {REQUEST_LIMIT} records at once, and this comes to "
              "more. Narrow the view (stalled only, a stage, an owner, a shorter period) or "
              "select rows.", "error")
        return redirect(back, 303)
    confirmed = request.form.get("confirm") == "1"
    result = request_tasks(services(), conn.id, ids, now, dry_run=not confirmed)
    if not confirmed:
        return render_template("records_tasks.html", conn=conn, result=result, scope=scope,
                               ids=ids, back=back, action=f"{base}/tasks?{urlencode(view.params())}",
                               crm_label=registry.spec(conn.crm).label,
                               due_days=(jmap.tasks or TaskRule()).due_in_days)
    flash(_created_text(result), "ok")
    return redirect(back, 303)


def _row_ids(values: list[str]) -> list[int]:
    """Row ids posted by the list's check boxes; 400 for anything else."""
    if len(values) > REQUEST_LIMIT + 1:
        values = values[:REQUEST_LIMIT + 1]  # over the limit either way; no need to parse more
    try:
        return [int(v) for v in values]
    except ValueError:
        abort(400, "record: row ids only.")


def _created_text(result: TaskRequest) -> str:
    """What the flash message says after tasks were queued."""
    parts = [f"{result.planned + result.retried} task(s) queued for {result.owners} owner(s); the "
             "worker creates them in the CRM within seconds."]
    if result.already:
        parts.append(f"{result.already} record(s) already had their task.")
    if result.ineligible:
        parts.append(f"{result.ineligible} record(s) get none (closed or not on the map).")
    return " ".join(parts)
