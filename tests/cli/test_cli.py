"""The ``journey`` command as a user runs it: a real process, real sandboxes, a SQLite file."""
from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess

import pytest

from mapping import default_map_text
from tests.cli.shell import JOURNEY, journey
from tests.seeds import SEED
from tests.sync.crms import start_crm


@pytest.fixture()
def seed_file(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED))
    return path


def test_every_command_has_help(env):
    top = journey("--help", env=env).stdout
    for command in ("demo", "serve", "worker", "sync", "map", "connect", "provision", "sandbox",
                    "db", "classify", "status"):
        assert command in top
    for args in (["map", "validate", "--help"], ["connect", "hubspot", "--help"],
                 ["connect", "salesforce", "--help"], ["sync", "--help"], ["db", "upgrade", "--help"],
                 ["db", "vacuum", "--help"]):
        assert "Usage:" in journey(*args, env=env).stdout


def test_db_vacuum_compacts_the_sqlite_book_and_says_by_how_much(env, tmp_path):
    journey("db", "upgrade", env=env)
    book = tmp_path / "var" / "journey.sqlite3"
    conn = sqlite3.connect(book)
    conn.execute("CREATE TABLE filler (payload TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 1000,)] * 2000)
    conn.commit()
    conn.execute("DELETE FROM filler")
    conn.commit()
    conn.close()
    out = journey("db", "vacuum", "--wait", "5", env=env).stdout
    before, after = (float(mb) for mb in re.search(r"vacuumed .*journey\.sqlite3: ([\d.,]+) MB -> ([\d.,]+) MB "
                                                    r"in [\d.]+ s", out).groups())
    assert after < before / 4
    assert after == pytest.approx(book.stat().st_size / 1e6, abs=0.05)
    bad = journey("db", "vacuum", "--wait", "-1", env=env, check=False)
    assert bad.returncode == 2 and "--wait" in bad.stderr


def test_map_validate_summarises_a_good_map_and_lists_every_problem_of_a_bad_one(env, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(default_map_text())
    out = journey("map", "validate", str(good), env=env).stdout
    assert "ok" in out and "7 stages" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(default_map_text().replace("expected_days: 14", "expected_days: -1", 1)
                   .replace("op: gte", "op: bigger", 1))
    result = journey("map", "validate", str(bad), env=env, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 2
    assert any("expected_days" in l and "line" in l for l in lines)
    assert any("bigger" in l for l in lines)
    assert all(l.startswith(str(bad)) for l in lines)


def test_classify_prints_one_json_line_per_record(env, seed_file, tmp_path):
    map_file = tmp_path / "map.yaml"
    map_file.write_text(default_map_text())
    out = journey("classify", "--map", str(map_file), "--seed", str(seed_file),
                  "--as-of", "2026-11-01T00:00:00Z", env=env).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert {(r["crm"], r["object"]) for r in rows} == {
        ("salesforce", "opportunity"), ("hubspot", "deal"), ("hubspot", "contact")}
    deal = next(r for r in rows if r["object"] == "deal")
    assert set(deal) == {"crm", "object", "id", "crm_stage", "stage", "stage_entered_at",
                         "days_in_stage", "expected_days", "stalled", "persona", "next_best_action"}
    assert deal["crm_stage"] == "contractsent"
    assert deal["stage_entered_at"].startswith("2026-10-05T12:00:00")
    assert deal["days_in_stage"] == 26


def test_a_typo_in_a_seed_file_is_an_error_naming_file_and_key(env, tmp_path):
    bad = tmp_path / "typo.json"
    seed = json.loads(json.dumps(SEED))
    seed["hubspot"]["deals"][0]["propertes"] = seed["hubspot"]["deals"][0].pop("properties")
    bad.write_text(json.dumps(seed))
    result = journey("sandbox", "hubspot", "--seed", str(bad), env=env, check=False)
    assert result.returncode != 0
    assert str(bad) in result.stderr and "deals[0].propertes" in result.stderr


def test_sandbox_command_serves_until_stopped_and_prints_its_details(env, seed_file):
    proc = subprocess.Popen([JOURNEY, "sandbox", "hubspot", "--seed", str(seed_file)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert {"base_url", "access_token", "portal_id", "client_id", "client_secret"} <= set(info)
        import requests
        res = requests.get(f"{info['base_url']}/crm/v3/objects/deals",
                           headers={"Authorization": f"Bearer {info['access_token']}"}, timeout=5)
        assert res.json()["results"][0]["id"] == "18462730011"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_connect_provision_apply_sync_status_from_the_command_line(env, tmp_path):
    crm = start_crm("hubspot", SEED)
    try:
        info = crm.info
        journey("connect", "hubspot", "--name", "hs", "--base-url", info["base_url"],
                "--access-token", info["access_token"], env=env)
        assert info["access_token"] not in journey("status", "hs", env=env).stdout
        provisioned = journey("provision", "hs", env=env).stdout
        assert "deal.journey_stage: created" in provisioned
        assert "created" not in journey("provision", "hs", env=env).stdout
        map_file = tmp_path / "map.yaml"
        map_file.write_text(default_map_text())
        assert "version 1" in journey("map", "apply", "hs", str(map_file), "-m", "start", env=env).stdout
        summary = json.loads(journey("sync", "hs", env=env).stdout.strip().splitlines()[-1])
        assert {"read", "changed", "written", "failed", "api_calls"} <= set(summary)
        assert (summary["read"], summary["written"], summary["failed"]) == (2, 2, 0)
        again = json.loads(journey("sync", "hs", env=env).stdout.strip().splitlines()[-1])
        assert again["written"] == 0
        status = json.loads(journey("status", "hs", env=env).stdout)
        assert status["records"] == 2 and status["outbox"] == {}
        dry = json.loads(journey("sync", "hs", "--full", "--dry-run", "--as-of", "2026-10-06",
                                 env=env).stdout.strip().splitlines()[-1])
        assert dry["changed"] >= 1 and dry["written"] == 0
        assert json.loads(journey("status", "hs", env=env).stdout)["outbox"] == {}
        missing = journey("sync", "nope", env=env, check=False)
        assert missing.returncode != 0 and "no connection 'nope'" in missing.stderr
    finally:
        crm.stop()


def test_connect_checks_the_credentials_stores_the_account_and_manages_the_connection(env):
    crm = start_crm("hubspot", SEED)
    try:
        info = crm.info
        base = ("--base-url", info["base_url"])
        refused = journey("connect", "hubspot", "--name", "hs", *base,
                          "--access-token", "pat-na1-revoked-secret", env=env, check=False)
        assert refused.returncode != 0
        assert "HubSpot refused the credentials" in refused.stderr
        assert "pat-na1-revoked-secret" not in refused.stderr
        out = journey("connect", "hubspot", "--name", "hs", *base,
                      "--access-token", info["private_app_token"], env=env).stdout
        assert "account 62515" in out
        assert json.loads(journey("status", "hs", env=env).stdout)["connection"]["account_id"] == "62515"
        again = journey("connect", "hubspot", "--name", "hs2", *base,
                        "--access-token", info["private_app_token"], env=env, check=False)
        assert again.returncode != 0 and "already connected as 'hs'" in again.stderr
        assert "paused" in journey("connection", "pause", "hs", env=env).stdout
        standing = json.loads(journey("status", "hs", env=env).stdout)["standing"]
        assert standing["state"] == "paused" and standing["text"].startswith("Paused")
        journey("connection", "resume", "hs", env=env)
        bad = journey("connection", "reconnect", "hs", "--access-token", "revoked", env=env,
                      check=False)
        assert bad.returncode != 0 and "refused the credentials" in bad.stderr
        assert "reconnected 'hs'" in journey("connection", "reconnect", "hs", "--access-token",
                                             info["private_app_token"], env=env).stdout
        assert json.loads(journey("status", "hs", env=env).stdout)["standing"]["state"] == "active"
        journey("connection", "delete", "hs", "--yes", env=env)
        assert journey("status", "hs", env=env, check=False).returncode != 0
    finally:
        crm.stop()
