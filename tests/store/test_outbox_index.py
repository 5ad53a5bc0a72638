"""Replacing a page's write-back plans reads the outbox by record, not every open item of the
connection (a million-contact first sync keeps them all waiting for the people pass)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect

from integration.store import outbox
from integration.store.connections import create_connection
from integration.store.tenancy import get_or_create_tenant
from tests.fixtures_store import db_url, services  # noqa: F401 (fixtures)
from tests.support import statements_sent


def _connection(services) -> int:
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"t-{datetime.now().timestamp()}")
        return create_connection(s, services.secret_box, tenant_id=tenant.id, name="hs",
                                 crm="hubspot", settings={}, secrets={}).id


def test_the_outbox_is_indexed_by_record(services):
    indexes = {i["name"]: i["column_names"] for i in inspect(services.engine).get_indexes("outboxitem")}
    assert indexes["ix_outbox_record"] == ["connection_id", "object", "crm_id"]


def test_replacing_plans_reads_only_the_records_of_the_page(services, db_url):
    connection_id = _connection(services)
    with services.session() as s:
        outbox.replace_plans(s, connection_id, {("contact", str(n)): {"persona": "x"}
                                                for n in range(2000)})
    with statements_sent(services.engine) as sent, services.session() as s:
        outbox.replace_plans(s, connection_id, {("contact", "7"): {"persona": "y"}})
    statements = [(statement, parameters) for statement, parameters in sent if "outboxitem" in statement
                  and statement.lstrip().upper().startswith(("SELECT", "DELETE"))]
    assert len(statements) == 2  # the failed items' SELECT and the DELETE
    with services.session() as s:
        assert [(i.crm_id, i.values) for i in outbox.list_items(s, connection_id, limit=5000)
                if i.crm_id == "7"] == [("7", {"persona": "y"})]
        if services.engine.dialect.name == "sqlite":
            for statement, parameters in statements:
                plan = " ".join(str(row[-1]) for row in s.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters))
                assert "ix_outbox_record" in plan, plan
