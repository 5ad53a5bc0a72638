"""``kill -9`` while tasks for stalled deals are being created in HubSpot, then sync again: every
stalled deal ends with exactly one task (the sandbox holds the tasks; no key appears twice)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

from sqlalchemy import create_engine, text

from integration.demo.run import demo_map_text
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from tests.cli.shell import JOURNEY, journey
from tests.sync.crms import start_crm

DEALS = 700


def query(db_file, sql: str) -> list:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def test_kill_nine_mid_task_push_then_resume(env, tmp_path):
    crm = start_crm("hubspot", demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0,
                                         deals=DEALS, hs_contacts=0))
    tasks = crm.sandbox.portal.stores["tasks"].records
    db_file = tmp_path / "var" / "journey.sqlite3"
    try:
        info = crm.info
        journey("connect", "hubspot", "--name", "hs", "--access-token", info["access_token"],
                "--base-url", info["base_url"], env=env)
        journey("provision", "hs", env=env)
        map_file = tmp_path / "map.yaml"
        map_file.write_text(demo_map_text())
        journey("map", "apply", "hs", str(map_file), env=env)
        crm.faults(latency_ms=300)  # each task batch takes long enough to be killed during
        proc = subprocess.Popen([JOURNEY, "sync", "hs"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            # a later batch is in flight: marked sending, its CRM call under way
            if len(tasks) >= 100 and query(
                    db_file, "SELECT count(*) FROM crmtask WHERE status = 'sending'")[0][0]:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        created_before = len(tasks)
        statuses = dict(query(db_file, "SELECT status, count(*) FROM crmtask GROUP BY status"))
        assert statuses.get("sending") and statuses.get("pending"), statuses  # caught mid-push
        assert created_before >= 100
        crm.faults(latency_ms=0)
        journey("sync", "hs", env=env, timeout=300)
        stalled = {row[0] for row in query(
            db_file, "SELECT crm_id FROM recordstate WHERE stalled AND object = 'deal'")}
        keys = Counter(t.values["journey_task_key"] for t in tasks.values())
        assert max(keys.values()) == 1, "a task was created twice"
        linked = Counter(crm.sandbox.portal.task_links[t.id][0][1] for t in tasks.values())
        assert set(linked) == stalled and max(linked.values()) == 1
        assert dict(query(db_file, "SELECT status, count(*) FROM crmtask GROUP BY status")) == {
            "created": len(stalled)}
    finally:
        crm.stop()
