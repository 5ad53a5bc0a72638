"""Migration 0009 on SQLite and PostgreSQL: the record filter columns are filled from the records
stored before it, so lists and analytics filter on columns instead of paths into JSON."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from integration.store.db import upgrade
from tests.fixtures_store import _postgres_database

SF_OPPORTUNITY = {"crm": "salesforce", "object": "opportunity", "id": "006A",
                  "fields": {"country": "Germany", "lead_source": "Web"},
                  "raw": {"Account.Name": "Acme Corp"}, "identity": {"kind": "deal", "same_as": []}}
HS_CONTACT = {"crm": "hubspot", "object": "contact", "id": "151",
              "fields": {"country": "", "lead_source": None, "company": "Globex"},
              "raw": {"company": "Globex Old"},
              "identity": {"kind": "person", "email": "Ana@Example.com", "same_as": []}}


@pytest.fixture(params=["sqlite", "postgres"])
def old_url(request, tmp_path):
    """A database at revision 0008, the one before the filter columns."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        upgrade(url, "0008")
        yield url
        return
    url, drop = _postgres_database("migr0009")
    upgrade(url, "0008")
    yield url
    drop()


def test_upgrade_fills_the_filter_columns_from_stored_records(old_url):
    engine = create_engine(old_url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-11-30')"))
        db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                        "secrets, sync_interval_seconds, created_at) VALUES "
                        "(1, 1, 'c', 'salesforce', 'active', 0, '{}', '', 300, '2026-11-30')"))
        for n, record in enumerate((SF_OPPORTUNITY, HS_CONTACT), start=1):
            db.execute(text("INSERT INTO recordstate (id, connection_id, object, crm_id, stage, stalled, "
                            "days_over, record, state, crm_values, updated_at) VALUES "
                            "(:id, 1, :object, :crm_id, 'awareness', false, 0, :record, '{}', '{}', "
                            "'2026-11-30')"),
                       {"id": n, "object": record["object"], "crm_id": record["id"],
                        "record": json.dumps(record)})
    upgrade(old_url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT crm_id, crm, email, company, country, lead_source "
                               "FROM recordstate ORDER BY id")).all()
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("recordstate")}
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("006A", "salesforce", None, "Acme Corp", "Germany", "Web"),
        # the canonical company wins over the raw property; an empty country is no country
        ("151", "hubspot", "Ana@Example.com", "Globex", None, None)]
    assert {("connection_id", c) for c in ("email", "company", "country", "lead_source")} <= indexed
