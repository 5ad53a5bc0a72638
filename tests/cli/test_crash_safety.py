"""``kill -9`` in the middle of a push, then run again: the CRM ends in the state the map wants,
no update is lost, and none is applied twice (the sandbox counts updates per record)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from sqlalchemy import create_engine, text

from connectors import registry
from integration.sandboxes import sandbox_settings
from integration.demo.seed import demo_seed
from integration.store.types import utcnow
from mapping import classify, default_map, default_map_text, desired_writeback, plan_writeback
from tests.cli.shell import JOURNEY, journey
from tests.sync.crms import start_crm

RECORDS = 1000


def outbox_statuses(db_file) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT status, count(*) FROM outboxitem GROUP BY status")).all())
    finally:
        engine.dispose()


def test_kill_nine_mid_push_then_resume(env, tmp_path):
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=RECORDS, leads=0,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    try:
        info = crm.info
        journey("connect", "salesforce", "--name", "sf", "--instance-url", info["instance_url"],
                "--access-token", info["access_token"], "--ca-file", info["ca_file"], env=env)
        journey("provision", "sf", env=env)
        map_file = tmp_path / "map.yaml"
        map_file.write_text(default_map_text())
        journey("map", "apply", "sf", str(map_file), env=env)
        crm.faults(latency_ms=400)  # each write call takes long enough to be killed during
        proc = subprocess.Popen([JOURNEY, "sync", "sf"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            written = sum(crm.record_updates().values())
            if written >= 200:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        applied_before = sum(crm.record_updates().values())
        assert 200 <= applied_before < RECORDS * 0.9, applied_before
        db_file = tmp_path / "var" / "journey.sqlite3"
        assert outbox_statuses(db_file).get("sending", 0) > 0  # caught mid-push

        crm.faults(latency_ms=0)
        resumed = json.loads(journey("sync", "sf", env=env).stdout.strip().splitlines()[-1])
        assert resumed["status"] == "succeeded" and resumed["failed"] == 0
        assert outbox_statuses(db_file) == {}

        updates = crm.record_updates()
        assert max(updates.values()) == 1, "an update was applied twice"
        connector = registry.spec("salesforce").factory(sandbox_settings("salesforce", info), None)
        jmap, now = default_map(), utcnow()
        wrong, needed = [], 0
        for record in connector.pull(None):
            desired = desired_writeback(classify(record, jmap, now))
            needed += desired is not None
            if plan_writeback(desired, record.writeback, now):
                wrong.append(record.id)
        assert wrong == []
        assert len(updates) == needed  # every planned update landed, each exactly once
    finally:
        crm.stop()
