"""Write-backs leave while the pull goes on, on SQLite and PostgreSQL: a sync stopped after its
first page has already written that page's plans through the outbox, and the next sync finishes
the rest without writing any record twice (the sandbox counts updates per record)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.store import outbox
from integration.store.models import OutboxItem, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync import engine
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.sync.crms import start_crm

RECORDS = 1600  # one Salesforce query page, three and a bit pages of the engine


class Stopped(Exception):
    """The test stops the sync here, as a kill would."""


@pytest.fixture()
def sf(services):
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"pages-{utcnow().timestamp()}")
        conn = connect(s, services, tenant_id=tenant.id, name="sf", crm="salesforce",
                       values=crm.settings())
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    yield crm, connection_id
    crm.stop()


def stored_count(services, connection_id: int) -> int:
    with services.session() as s:
        return s.exec(select(func.count()).select_from(RecordState)
                      .where(RecordState.connection_id == connection_id)).one()


def test_a_sync_stopped_after_its_first_page_has_written_that_page(services, sf):
    crm, connection_id = sf
    seen = {}

    def stop_at_first_write(what, done, total):
        if what == "write":
            seen.update(stored=stored_count(services, connection_id),
                        written=sum(crm.record_updates().values()))
            raise Stopped

    with pytest.raises(Stopped):
        sync_connection(services, connection_id, progress=stop_at_first_write)
    # the first write went out when a whole claim of write-backs was stored, before the pull ended
    assert engine.PAGE <= seen["stored"] < RECORDS
    assert seen["written"] > 0
    with services.session() as s:
        seen["sending"] = outbox.counts(s, connection_id).get("sending", 0)
        assert seen["sending"] > 0  # stopped mid-push

    resumed = sync_connection(services, connection_id)
    assert resumed.status == "succeeded" and resumed.failed == 0
    with services.session() as s:
        # what the stopped sync had in flight waits until no call carrying it can still land...
        assert outbox.counts(s, connection_id) == {"sending": seen["sending"]}
        s.execute(update(OutboxItem).where(OutboxItem.connection_id == connection_id,
                                           OutboxItem.status == "sending")
                  .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    # ...and is then read back from the CRM: what landed is not sent again, the rest is
    settled = sync_connection(services, connection_id)
    assert settled.status == "succeeded" and settled.failed == 0
    with services.session() as s:
        assert outbox.counts(s, connection_id) == {}
    updates = crm.record_updates()
    assert len(updates) == RECORDS and max(updates.values()) == 1
