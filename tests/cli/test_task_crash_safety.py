"""``kill -9`` while tasks for stalled deals are being created in HubSpot, then sync again: every
stalled deal ends with exactly one task (the sandbox holds the tasks; no key appears twice)."""
from __future__ import annotations

from collections import Counter

from integration.demo.run import demo_map_text
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from tests.cli.shell import connect_sandbox, database_url, journey, slow_sync
from tests.kill_nine import kill_nine_when, query, statuses
from tests.sync.crms import start_crm

DEALS = 700


def test_kill_nine_mid_task_push_then_resume(env, tmp_path):
    crm = start_crm("hubspot", demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0,
                                         deals=DEALS, hs_contacts=0))
    tasks = crm.sandbox.portal.stores["tasks"].records
    db = database_url(env)
    try:
        connect_sandbox(crm, "hs", demo_map_text(), env=env, tmp_path=tmp_path)
        proc = slow_sync(crm, "hs", env=env, latency_ms=300)  # a task batch can be killed during
        # a later batch is in flight: marked sending, its CRM call under way
        kill_nine_when(proc, lambda: len(tasks) >= 100 and statuses(db, "crmtask").get("sending"),
                       timeout=180)
        created_before = len(tasks)
        left = statuses(db, "crmtask")
        assert left.get("sending") and left.get("pending"), left  # caught mid-push
        assert created_before >= 100
        crm.faults(latency_ms=0)
        journey("sync", "hs", env=env, timeout=300)
        stalled = {row[0] for row in query(
            db, "SELECT crm_id FROM recordstate WHERE stalled AND object = 'deal'")}
        keys = Counter(t.values["journey_task_key"] for t in tasks.values())
        assert max(keys.values()) == 1, "a task was created twice"
        linked = Counter(crm.sandbox.portal.task_links[t.id][0][1] for t in tasks.values())
        assert set(linked) == stalled and max(linked.values()) == 1
        assert statuses(db, "crmtask") == {"created": len(stalled)}
    finally:
        crm.stop()
