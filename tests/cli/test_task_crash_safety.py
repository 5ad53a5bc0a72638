"""``kill -9`` while a batch of tasks for stalled deals is on its way to HubSpot, and another
process takes the lease over at once: the batch lands after the new holder started, yet every
stalled deal ends with exactly one task (the new holder looks the batch's tasks up by key only once
no call carrying them can still land; the sandbox holds the tasks; no key appears twice)."""
from __future__ import annotations

from collections import Counter

from integration.demo.run import demo_map_text
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from tests.cli.shell import (IN_FLIGHT, IN_FLIGHT_SECONDS, LANDING_MS, connect_sandbox,
                             database_url, journey, slow_sync)
from tests.kill_nine import age_in_flight, in_flight_until, kill_nine_in_flight, query, statuses
from tests.support import wait_for
from tests.sync.crms import start_crm

DEALS = 700


def test_kill_nine_mid_task_push_then_take_over_at_once(env, tmp_path):
    env = {**env, **IN_FLIGHT}
    crm = start_crm("hubspot", demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0,
                                         deals=DEALS, hs_contacts=0))
    tasks = crm.sandbox.portal.stores["tasks"].records
    db = database_url(env)

    def keys() -> Counter:
        # under the sandbox's lock: a batch landing adds each task, then writes its properties
        with crm.sandbox.portal.lock:
            return Counter(t.values["journey_task_key"] for t in tasks.values())

    def sending() -> set[str]:
        return {row[0] for row in query(db, "SELECT key FROM crmtask WHERE status = 'sending'")}

    try:
        connect_sandbox(crm, "hs", demo_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "hs", env=env, latency_ms=300)
        kill_nine_in_flight(proc, crm, "tasks/batch/create", latency_ms=LANDING_MS,
                            ready=lambda: len(tasks) >= 100)
        left = statuses(db, "crmtask")
        assert left.get("sending") and left.get("pending"), left  # caught mid-push
        in_flight, settled_from = sending(), in_flight_until(db, IN_FLIGHT_SECONDS)

        # The next process takes the dead one's lease over at once, while its batch is on its way.
        journey("sync", "hs", env=env, timeout=300)
        assert utcnow() < settled_from, "the next process outlasted the time in flight"
        assert sending() == in_flight  # left for a flush after the time in flight
        wait_for(lambda: in_flight <= set(keys()), every=0.1)  # it has landed
        assert max(keys().values()) == 1, "a task was created twice"

        age_in_flight(db, IN_FLIGHT_SECONDS)  # no batch carrying them can still land
        journey("sync", "hs", env=env, timeout=300)
        stalled = {row[0] for row in query(
            db, "SELECT crm_id FROM recordstate WHERE stalled AND object = 'deal'")}
        assert max(keys().values()) == 1, "a task was created twice"
        linked = Counter(crm.sandbox.portal.task_links[t.id][0][1] for t in tasks.values())
        assert set(linked) == stalled and max(linked.values()) == 1
        assert statuses(db, "crmtask") == {"created": len(stalled)}
    finally:
        crm.stop()
