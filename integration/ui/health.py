"""Sync health: recent runs, API quota, CRM errors by code with their records, parked write-backs
(with retry), and the webhook deliveries the CRM sent."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import render_template
from sqlmodel import select

from connectors import registry
from integration.api.connections import outbox_item_to_dict
from integration.api.helpers import services
from integration.status import connection_status, run_to_dict
from integration.store import outbox
from integration.store.models import WebhookDelivery
from integration.store.runs import list_runs
from integration.ui import bp
from integration.ui.access import page_connection, signed_in


def errors_by_code(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outbox items that carry a CRM error, grouped by the CRM's error code (most records first)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if item["error_code"]:
            groups[item["error_code"]].append(item)
    return sorted(({"code": code, "records": rows} for code, rows in groups.items()),
                  key=lambda g: (-len(g["records"]), g["code"]))


def run_error_totals(runs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Error codes summed over the listed runs."""
    totals: dict[str, int] = defaultdict(int)
    for run in runs:
        for code, n in (run["errors"] or {}).items():
            totals[code] += n
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


@bp.get("/connections/<int:connection_id>/health")
@signed_in
def health(connection_id: int):
    """The sync health page of one connection."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        status = connection_status(db, conn.id)
        runs = [run_to_dict(r) for r in list_runs(db, conn.id, 20)]
        items = [outbox_item_to_dict(i) for i in outbox.list_items(db, conn.id, None, 500)]
        deliveries = list(db.exec(select(WebhookDelivery)
                                  .where(WebhookDelivery.connection_id == conn.id)
                                  .order_by(WebhookDelivery.id.desc()).limit(15)))
    parked = [i for i in items if i["status"] == "parked"]
    return render_template("health.html", conn=conn, status=status, runs=runs,
                           error_groups=errors_by_code(items), run_errors=run_error_totals(runs),
                           parked=parked, deliveries=deliveries, spec=registry.spec(conn.crm),
                           label=registry.spec(conn.crm).label)
