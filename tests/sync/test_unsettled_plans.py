"""A plan made over an update a dead process left ``sending`` is settled against the CRM before it
is sent: the stall pass (or the people pass) plans from the values we stored, which miss what the
dead process's batch applied, so sending its plan blind would apply that update a second time
(Salesforce sandbox, real HTTP; SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from connectors.base import FieldUpdate
from integration.demo.seed import demo_seed
from integration.store import outbox
from integration.store.models import Connection
from integration.store.records import crm_values_by_key
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.lease import leased
from integration.sync.reevaluate import reevaluate
from tests.sync.crms import connect_provisioned, start_crm

RECORDS = 120


def test_a_stall_pass_over_updates_a_dead_process_landed_sends_none_again(services):
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    try:
        cid = connect_provisioned(services, crm, "unsettled")
        # A sync that plans every update and sends none (its lease passed on at the first claim).
        with leased(services, cid, "test:planner") as lease:
            with services.session() as s:
                s.execute(update(Connection).where(Connection.id == cid).values(
                    lease_owner="test:other", lease_expires_at=utcnow() + timedelta(minutes=5)))
            sync_connection(services, cid, lease=lease)
        with services.session() as s:
            s.execute(update(Connection).where(Connection.id == cid).values(
                lease_owner=None, lease_expires_at=None))
            s.commit()
            planned = outbox.counts(s, cid)["pending"]
            # A process claims them, hands them to the CRM, which applies them, and dies before
            # it records the outcome; their time in flight is over (claimed with none).
            items = outbox.claim_due(s, cid, RECORDS)
            conn = s.get(Connection, cid)
        connector = services.open_connector(conn)
        assert all(r.ok for r in connector.push(
            [FieldUpdate(i.object, i.crm_id, outbox.item_values(i)) for i in items]))
        landed = crm.record_updates()
        assert len(items) == planned == len(landed) and set(landed.values()) == {1}

        # The next holder's stall pass plans from the stored values, which miss what landed.
        assert reevaluate(services, cid).queued == planned
        with services.session() as s:
            assert outbox.counts(s, cid) == {"sending": planned}  # to be asked of the CRM first
        flushed = flush_outbox(services, cid, connector)
        assert (flushed.reconciled, flushed.written, flushed.failed) == (planned, 0, 0)
        assert crm.record_updates() == landed, "an update was applied twice"
        with services.session() as s:
            assert outbox.counts(s, cid) == {}
            held = crm_values_by_key(s, cid, [(i.object, i.crm_id) for i in items])
            assert all(held[(i.object, i.crm_id)][1]["journey_stage"] == i.values["journey_stage"]
                       for i in items)  # the CRM's values are known again: nothing more is planned
        assert reevaluate(services, cid).queued == 0
    finally:
        crm.stop()
