"""The record-list sorting migration copies each stored state's next best action into its new
column, on SQLite and PostgreSQL, so lists sort by it before the next sync rewrites the rows; and
search gets trigram indexes on PostgreSQL."""
from __future__ import annotations

import json

from sqlalchemy import inspect, text

from integration.store.db import make_engine, upgrade
from tests.fixtures_store import empty_db_url, insert_connection_one, revisions_of  # noqa: F401 (fixture)


def test_the_next_best_action_is_copied_into_its_column(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_record_list_sorting.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    with engine.begin() as db:
        insert_connection_one(db)
        for i, action in enumerate(["Call the buyer", None], start=1):
            db.execute(text("INSERT INTO recordstate (id, connection_id, object, crm_id, stage, stalled, "
                            "days_over, record, state, crm_values, updated_at) VALUES (:id, 1, 'deal', "
                            ":crm_id, 'awareness', false, 0, '{}', :state, '{}', '2026-01-01')"),
                       {"id": i, "crm_id": str(i), "state": json.dumps({"next_best_action": action})})
    upgrade(empty_db_url, mine)
    with engine.connect() as db:
        rows = db.execute(text("SELECT id, next_best_action FROM recordstate ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "Call the buyer"), (2, None)]
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("recordstate")}
    assert indexes["ix_recordstate_sort_owner_id"] == ["connection_id", "owner_id", "id"]
    assert "ix_recordstate_conn_stage" not in indexes
    engine.dispose()


def test_search_has_trigram_indexes_on_postgresql_only(empty_db_url):
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    names = {ix["name"] for ix in inspect(engine).get_indexes("recordstate")}
    searched = {f"ix_recordstate_search_{c}" for c in ("name", "email", "company")}
    if engine.dialect.name == "postgresql":
        assert searched <= names
        with engine.connect() as db:  # the index serves the search's own expression
            db.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(r[0] for r in db.execute(text(
                "EXPLAIN SELECT id FROM recordstate WHERE lower(company) LIKE '%' || 'acme' || '%'")))
        assert "ix_recordstate_search_company" in plan
    else:
        assert not searched & names
    engine.dispose()
