"""``kill -9`` while a batch of tasks for stalled deals is on its way to HubSpot, and another
process takes the lease over at once: the batch lands after the new holder started, yet every
stalled deal ends with exactly one task (the new holder looks the batch's tasks up by key only once
no call carrying them can still land; the sandbox holds the tasks; no key appears twice)."""
from __future__ import annotations

import time
from collections import Counter

from integration.demo.run import demo_map_text
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from tests.cli.shell import (IN_FLIGHT_SECONDS, LANDING_MS, SHORT_IN_FLIGHT, connect_sandbox,
                             database_url, journey, slow_sync)
from tests.kill_nine import kill_nine_in_flight, query, statuses
from tests.sync.crms import start_crm

DEALS = 700


def test_kill_nine_mid_task_push_then_take_over_at_once(env, tmp_path):
    env = {**env, **SHORT_IN_FLIGHT}
    crm = start_crm("hubspot", demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0,
                                         deals=DEALS, hs_contacts=0))
    tasks = crm.sandbox.portal.stores["tasks"].records
    db = database_url(env)

    def keys() -> Counter:
        return Counter(t.values["journey_task_key"] for t in tasks.values())

    try:
        connect_sandbox(crm, "hs", demo_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "hs", env=env, latency_ms=300)
        kill_nine_in_flight(proc, crm, "tasks/batch/create", latency_ms=LANDING_MS,
                            ready=lambda: len(tasks) >= 100)
        killed = time.monotonic()
        left = statuses(db, "crmtask")
        assert left.get("sending") and left.get("pending"), left  # caught mid-push

        # The next process takes the dead one's lease over at once, while its batch is on its way.
        journey("sync", "hs", env=env, timeout=300)
        time.sleep(max(0.0, killed + IN_FLIGHT_SECONDS - time.monotonic()))  # it has landed
        assert max(keys().values()) == 1, "a task was created twice"
        assert statuses(db, "crmtask").get("sending")  # left for the next flush

        journey("sync", "hs", env=env, timeout=300)
        stalled = {row[0] for row in query(
            db, "SELECT crm_id FROM recordstate WHERE stalled AND object = 'deal'")}
        assert max(keys().values()) == 1, "a task was created twice"
        linked = Counter(crm.sandbox.portal.task_links[t.id][0][1] for t in tasks.values())
        assert set(linked) == stalled and max(linked.values()) == 1
        assert statuses(db, "crmtask") == {"created": len(stalled)}
    finally:
        crm.stop()
