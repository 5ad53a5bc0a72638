"""``kill -9`` in the middle of a push, then run again: the CRM ends in the state the map wants,
no update is lost, and none is applied twice (the sandbox counts updates per record)."""
from __future__ import annotations

import json

from connectors.salesforce.composite import RECORDS_PER_CALL
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from mapping import default_map_text
from tests.cli.shell import connect_sandbox, database_url, journey, slow_sync
from tests.kill_nine import assert_applied_once_as_the_map_wants, kill_nine_when, statuses
from tests.sync.crms import start_crm

#: Three write calls (1,000 updates a composite call): the kill lands after the first.
RECORDS = 2500


def test_kill_nine_mid_push_then_resume(env, tmp_path):
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    db = database_url(env)
    try:
        connect_sandbox(crm, "sf", default_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "sf", env=env, latency_ms=400)  # a write batch can be killed during
        kill_nine_when(proc, lambda: sum(crm.record_updates().values()) >= RECORDS_PER_CALL)
        applied_before = sum(crm.record_updates().values())
        assert RECORDS_PER_CALL <= applied_before < RECORDS * 0.9, applied_before
        assert statuses(db, "outboxitem").get("sending", 0) > 0  # caught mid-push

        crm.faults(latency_ms=0)
        resumed = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert resumed["status"] == "succeeded" and resumed["failed"] == 0
        assert statuses(db, "outboxitem") == {}
        assert_applied_once_as_the_map_wants(crm)
    finally:
        crm.stop()
