"""``kill -9`` while a write batch is on its way to the CRM, and another process takes the lease
over at once: the batch lands after the new holder started, yet no update is applied twice (the
new holder leaves the batch's updates ``sending`` until no call carrying them can still land, then
reads them back); the CRM ends in the state the map wants and nothing is lost (the sandbox counts
updates per record)."""
from __future__ import annotations

import json
import time

from connectors.salesforce.composite import RECORDS_PER_CALL
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from mapping import default_map_text
from tests.cli.shell import (IN_FLIGHT_SECONDS, LANDING_MS, SHORT_IN_FLIGHT, connect_sandbox,
                             database_url, journey, slow_sync)
from tests.kill_nine import assert_applied_once_as_the_map_wants, kill_nine_in_flight, statuses
from tests.sync.crms import start_crm

#: Five write calls (1,000 updates a composite call): the kill lands on one after the first, with
#: calls enough left that a call slipping past the latency switch on a loaded machine is no miss.
RECORDS = 4500


def test_kill_nine_mid_push_then_take_over_at_once(env, tmp_path):
    env = {**env, **SHORT_IN_FLIGHT}
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    db = database_url(env)
    try:
        connect_sandbox(crm, "sf", default_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "sf", env=env, latency_ms=400)
        kill_nine_in_flight(proc, crm, "composite", latency_ms=LANDING_MS,
                            ready=lambda: sum(crm.record_updates().values()) >= RECORDS_PER_CALL,
                            claimed=lambda: statuses(db, "outboxitem").get("sending", 0) > 0)
        killed = time.monotonic()
        applied_before = sum(crm.record_updates().values())
        assert RECORDS_PER_CALL <= applied_before < RECORDS * 0.9, applied_before
        assert statuses(db, "outboxitem").get("sending", 0) > 0  # caught mid-push

        # The next process takes the dead one's lease over at once, while its batch is on its way.
        resumed = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert resumed["status"] == "succeeded" and resumed["failed"] == 0
        time.sleep(max(0.0, killed + IN_FLIGHT_SECONDS - time.monotonic()))  # it has landed
        assert max(crm.record_updates().values()) == 1, "an update was applied twice"
        assert statuses(db, "outboxitem").get("sending", 0) > 0  # left for the next flush

        settled = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert settled["status"] == "succeeded" and settled["failed"] == 0
        assert statuses(db, "outboxitem") == {}
        assert_applied_once_as_the_map_wants(crm)
    finally:
        crm.stop()
