"""A holder that lost its lease without knowing (stalled past it, cut off from the database) sends
nothing more: its sync stops at the first claim, which finds the lease another's, and leaves every
planned update pending for the new holder (Salesforce sandbox, real HTTP; SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from integration.demo.seed import demo_seed
from integration.store import outbox
from integration.store.models import Connection
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.lease import leased
from tests.sync.crms import connect_provisioned, start_crm


def test_a_holder_whose_lease_passed_on_claims_and_sends_nothing(services):
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=300, leads=0, sf_contacts=0,
                                            deals=0, hs_contacts=0))
    try:
        cid = connect_provisioned(services, crm, "lease-fence")
        with leased(services, cid, "test:old-holder") as lease:
            # Its lease lapsed while it stalled, and another process took the connection.
            with services.session() as s:
                s.execute(update(Connection).where(Connection.id == cid).values(
                    lease_owner="test:new-holder",
                    lease_expires_at=utcnow() + timedelta(minutes=5)))
            summary = sync_connection(services, cid, lease=lease)
        assert summary.status == "partial" and summary.errors == {"LEASE_LOST": 1}
        assert summary.read == 300 and crm.record_updates() == {}
        with services.session() as s:
            assert outbox.counts(s, cid) == {"pending": 300}  # all left to the new holder
            assert s.get(Connection, cid).lease_owner == "test:new-holder"
    finally:
        crm.stop()
