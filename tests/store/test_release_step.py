"""Migrations are a release step: the app factory never migrates, and refuses a database whose
schema is behind with a message saying what to run; `journey db upgrade` is that step."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from integration.app import create_app
from integration.store.db import SchemaBehind, make_engine, upgrade
from tests.fixtures_store import make_settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_refuses_an_empty_database_and_creates_no_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    with pytest.raises(SchemaBehind, match=r"at schema revision none \(empty\), this version needs .*: "
                                           r"run `journey db upgrade` first"):
        create_app(make_settings(url, tmp_path))
    assert inspect(make_engine(url)).get_table_names() == []


def test_the_app_refuses_a_database_one_migration_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0001")
    with pytest.raises(SchemaBehind, match="at schema revision 0001"):
        create_app(make_settings(url, tmp_path))


def test_journey_db_upgrade_is_the_release_step_and_then_the_app_starts(tmp_path):
    url = f"sqlite:///{tmp_path / 'released.sqlite3'}"
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "integration", "db", "upgrade"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert create_app(make_settings(url, tmp_path)).test_client().get("/healthz").json == {"ok": True}


def test_the_procfile_runs_the_upgrade_as_its_release_step():
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert lines["release"] == "journey db upgrade"
    assert "integration.app:create_app()" in lines["web"]
