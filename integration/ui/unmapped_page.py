"""Records the map does not place, grouped by reason and CRM stage, each with its fix (see
:mod:`integration.unmapped`)."""
from __future__ import annotations

from flask import render_template

from integration.api.helpers import services
from integration.sync.map_in_force import connection_map
from integration.ui import bp
from integration.ui.access import page_connection, signed_in
from integration.unmapped import ownerless_counts, unmapped_summary
from mapping.unmapped import NAMED_SINCE, NO_SOURCE, NO_STAGE, STAGE_NOT_NAMED

#: How the page names each reason in its summary line.
REASON_WORDS = {STAGE_NOT_NAMED: "in CRM stages the map does not name",
                NO_STAGE: "without a stage in the CRM", NO_SOURCE: "of objects the map has no source for",
                NAMED_SINCE: "waiting for the next sync to place them"}


@bp.get("/connections/<int:connection_id>/unmapped")
@signed_in
def unmapped_page(connection_id: int):
    """The records the map does not place, grouped by reason and CRM stage, each with its fix;
    and the records it places that have no owner."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, _ = connection_map(db, conn.id)
        summary = unmapped_summary(db, conn.id, conn.crm, jmap)
        ownerless = ownerless_counts(db, conn.id)
    return render_template("unmapped.html", conn=conn, summary=summary, reasons=REASON_WORDS,
                           ownerless=ownerless)
