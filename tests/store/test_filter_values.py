"""The filter bar's choices, read by a loose index scan, are exactly the distinct non-empty values
a DISTINCT over every record finds, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bench.analytics_seed import seed
from integration.analytics import FILTER_NAMES, filter_column, filter_values
from integration.store.models import Connection, RecordState
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def book(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "choices")
        conn, other = (Connection(tenant_id=tenant.id, name=n, crm="hubspot") for n in ("mine", "other"))
        db.add_all([conn, other])
        db.commit()
        cid, other_id = conn.id, other.id
        # empty and missing values are no choice; another connection's values are not ours
        db.add_all([RecordState(connection_id=cid, object="lead", crm_id=f"x{n}", stage="awareness",
                                pipeline=pipeline, crm=crm, record={}, state={}, updated_at=NOW)
                    for n, (pipeline, crm) in enumerate([("", None), (None, "salesforce"), ("sales", "")])])
        db.add(RecordState(connection_id=other_id, object="ticket", crm_id="t", stage="awareness",
                           pipeline="support", country="Atlantis", record={}, state={}, updated_at=NOW))
        db.commit()
    seed(services.engine, cid, default_map(), 300, NOW)
    return cid


@pytest.mark.parametrize("name", FILTER_NAMES)
def test_choices_are_the_distinct_values_of_the_connection(services, book, name):
    column = filter_column(name)
    with services.session() as db:
        distinct = sorted(v for v in db.execute(select(column).distinct().where(
            RecordState.connection_id == book)).scalars() if v)
        assert filter_values(db, book, name) == distinct
        assert filter_values(db, book, name, limit=2) == distinct[:2]
    assert distinct
