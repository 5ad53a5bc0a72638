"""``kill -9`` while a write batch is on its way to the CRM, and another process takes the lease
over at once: the batch lands after the new holder started, yet no update is applied twice (the
new holder leaves the batch's updates ``sending`` until no call carrying them can still land, then
reads them back); the CRM ends in the state the map wants and nothing is lost (the sandbox counts
updates per record)."""
from __future__ import annotations

import json

from connectors.salesforce.composite import RECORDS_PER_CALL
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from mapping import default_map_text
from tests.cli.shell import (IN_FLIGHT, IN_FLIGHT_SECONDS, LANDING_MS, connect_sandbox,
                             database_url, journey, slow_sync)
from tests.kill_nine import (age_in_flight, assert_applied_once_as_the_map_wants, in_flight_until,
                             kill_nine_in_flight, query, statuses)
from tests.support import wait_for
from tests.sync.crms import start_crm

#: Five write calls (1,000 updates a composite call): the kill lands on one after the first, with
#: calls enough left that a call slipping past the latency switch on a loaded machine is no miss.
RECORDS = 4500


def test_kill_nine_mid_push_then_take_over_at_once(env, tmp_path):
    env = {**env, **IN_FLIGHT}
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    db = database_url(env)

    def sending() -> set[str]:
        return {row[0] for row in query(db, "SELECT crm_id FROM outboxitem WHERE status = 'sending'")}

    try:
        connect_sandbox(crm, "sf", default_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "sf", env=env, latency_ms=400)
        kill_nine_in_flight(proc, crm, "composite", latency_ms=LANDING_MS,
                            ready=lambda: sum(crm.record_updates().values()) >= RECORDS_PER_CALL,
                            claimed=lambda: statuses(db, "outboxitem").get("sending", 0) > 0)
        applied_before = sum(crm.record_updates().values())
        assert RECORDS_PER_CALL <= applied_before < RECORDS * 0.9, applied_before
        in_flight, settled_from = sending(), in_flight_until(db, IN_FLIGHT_SECONDS)
        assert in_flight  # caught mid-push

        # The next process takes the dead one's lease over at once, while its batch is on its way.
        resumed = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert resumed["status"] == "succeeded" and resumed["failed"] == 0
        assert utcnow() < settled_from, "the next process outlasted the time in flight"
        assert sending() == in_flight  # left for a flush after the time in flight
        wait_for(lambda: in_flight <= set(crm.record_updates()), every=0.1)  # it has landed
        assert max(crm.record_updates().values()) == 1, "an update was applied twice"

        age_in_flight(db, IN_FLIGHT_SECONDS)  # no batch carrying them can still land
        settled = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert settled["status"] == "succeeded" and settled["failed"] == 0
        assert statuses(db, "outboxitem") == {}
        assert_applied_once_as_the_map_wants(crm)
    finally:
        crm.stop()
