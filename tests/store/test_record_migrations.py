"""Migrations of stored records on SQLite and PostgreSQL: the filter columns are filled from the
records stored before them, and the record documents are packed (and unpacked by a downgrade)
with every value intact."""
from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, inspect, text

from integration.store.db import alembic_config, upgrade
from integration.store.packed import unpack
from tests.fixtures_store import empty_db_url, insert_connection_one, revisions_of  # noqa: F401 (fixture)

SF_OPPORTUNITY = {"crm": "salesforce", "object": "opportunity", "id": "006A",
                  "fields": {"country": "Germany", "lead_source": "Web"},
                  "raw": {"Account.Name": "Acme Corp"}, "identity": {"kind": "deal", "same_as": []}}
HS_CONTACT = {"crm": "hubspot", "object": "contact", "id": "151",
              "fields": {"country": "", "lead_source": None, "company": "Globex"},
              "raw": {"company": "Globex Old"},
              "identity": {"kind": "person", "email": "Ana@Example.com", "same_as": []}}
SF_CONTACT = {"crm": "salesforce", "object": "contact", "id": "003A", "stage_object": "opportunity",
              "history": [{"value": "Prospecting", "entered_at": "2026-01-02T03:04:05+00:00"}],
              "fields": {"amount": {"$decimal": "12.50"}}, "name": "Zoë Ünal",
              "identity": {"kind": "person", "email": "zoe@example.com", "same_as": []}}
STATE = {"stage": "awareness", "next_best_action": "Call — today", "stalled": False}
CRM_VALUES = {"stalled": True, "stage_entered_at": {"$datetime": "2026-01-02T03:04:05+00:00"}}


def _store(url: str, records: list[dict]) -> None:
    engine = create_engine(url)
    with engine.begin() as db:
        insert_connection_one(db, "salesforce")
        for n, record in enumerate(records, start=1):
            db.execute(text("INSERT INTO recordstate (id, connection_id, object, crm_id, stage, stalled, "
                            "days_over, record, state, crm_values, updated_at) VALUES "
                            "(:id, 1, :object, :crm_id, 'awareness', false, 0, :record, :state, "
                            ":crm_values, '2026-11-30')"),
                       {"id": n, "object": record["object"], "crm_id": record["id"],
                        "record": json.dumps(record), "state": json.dumps(STATE),
                        "crm_values": json.dumps(CRM_VALUES)})
    engine.dispose()


def _rows(url: str, columns: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text(f"SELECT {columns} FROM recordstate ORDER BY id"))]
    engine.dispose()
    return rows


def test_upgrade_fills_the_filter_columns_from_stored_records(empty_db_url):
    before, _ = revisions_of(empty_db_url, "_record_columns.py")
    upgrade(empty_db_url, before)
    _store(empty_db_url, [SF_OPPORTUNITY, HS_CONTACT])
    upgrade(empty_db_url)
    assert _rows(empty_db_url, "crm_id, crm, email, company, country, lead_source") == [
        ("006A", "salesforce", None, "Acme Corp", "Germany", "Web"),
        # the canonical company wins over the raw property; an empty country is no country
        ("151", "hubspot", "Ana@Example.com", "Globex", None, None)]
    engine = create_engine(empty_db_url)
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("recordstate")}
    engine.dispose()
    # the filters' indexes (e-mail and company are searched, not filtered: no index of their own)
    assert {("connection_id", c) for c in ("country", "lead_source")} <= {ix[:2] for ix in indexed}


def test_documents_are_packed_with_every_value_intact_and_a_downgrade_unpacks_them(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_packed_documents.py")
    upgrade(empty_db_url, before)
    records = [SF_OPPORTUNITY, SF_CONTACT]
    _store(empty_db_url, records)
    indexes = _indexes(empty_db_url)
    upgrade(empty_db_url, mine)
    assert _indexes(empty_db_url) == indexes  # PostgreSQL's, dropped for the rewrite, built anew
    upgrade(empty_db_url)
    rows = _rows(empty_db_url, "stage_object, record, state, crm_values")
    assert [r[0] for r in rows] == [None, "opportunity"]  # what the unmapped report groups by
    identities = [i if isinstance(i, dict) else json.loads(i) for i, in _rows(empty_db_url, "identity")]
    assert identities == [record["identity"] for record in records]  # what the people pass links
    assert [(unpack(r[1]), unpack(r[2]), unpack(r[3])) for r in rows] == [
        (record, STATE, CRM_VALUES) for record in records]

    command.downgrade(alembic_config(empty_db_url), before)
    back = _rows(empty_db_url, "record, state, crm_values")
    decoded = [tuple(json.loads(v) if isinstance(v, str) else v for v in row) for row in back]
    assert decoded == [(record, STATE, CRM_VALUES) for record in records]
    assert _indexes(empty_db_url) == indexes


def _indexes(url: str) -> list[dict]:
    engine = create_engine(url)
    found = sorted(inspect(engine).get_indexes("recordstate"), key=lambda ix: ix["name"])
    engine.dispose()
    return found


def test_lean_indexes_drop_what_no_query_reads_and_leave_room_for_updates_on_postgresql(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_lean_record_state_indexes.py")
    dropped = {"ix_recordstate_connection_id", "ix_recordstate_conn_email", "ix_recordstate_conn_company"}

    def schema() -> tuple[set[str], list | None]:
        engine = create_engine(empty_db_url)
        names = {ix["name"] for ix in inspect(engine).get_indexes("recordstate")}
        options = None
        if engine.dialect.name == "postgresql":
            with engine.connect() as db:
                options = db.execute(text("SELECT reloptions FROM pg_class "
                                          "WHERE relname = 'recordstate'")).scalar()
        engine.dispose()
        return names, options

    upgrade(empty_db_url, mine)
    names, options = schema()
    assert not dropped & names and "ix_recordstate_sort_name" in names
    assert options == (["fillfactor=70"] if empty_db_url.startswith("postgresql") else None)
    command.downgrade(alembic_config(empty_db_url), before)
    names, options = schema()
    assert dropped <= names and options is None


def test_the_days_over_index_comes_to_hold_the_entry_date_and_stalled_and_a_downgrade_drops_them(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_days_over_index_holds_period_and_stalled.py")

    def columns() -> list[str]:
        engine = create_engine(empty_db_url)
        found = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("recordstate")}
        engine.dispose()
        return found["ix_recordstate_sort_days_over"]

    upgrade(empty_db_url, before)
    assert columns() == ["connection_id", "days_over", "id"]
    upgrade(empty_db_url, mine)
    assert columns() == ["connection_id", "days_over", "id", "entered_at", "stalled"]
    command.downgrade(alembic_config(empty_db_url), before)
    assert columns() == ["connection_id", "days_over", "id"]
