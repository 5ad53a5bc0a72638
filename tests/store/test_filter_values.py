"""The filter bar's choices, read by a loose index scan, are exactly the distinct non-empty values
a DISTINCT over every record finds, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from bench.analytics_seed import seed
from integration.analytics import FILTER_NAMES, filter_column, filter_values
from integration.store.db import make_engine, upgrade
from integration.store.models import Connection, RecordState
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from tests.fixtures_store import insert_connection_one, revisions_of
from tests.support import statements_sent

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


def test_the_migration_analyses_its_indexes_where_the_others_were(tmp_path):
    """An index without statistics among analysed ones looks very selective to SQLite's planner:
    the analytics stamp (the latest write of a connection) was read through every entry of the
    connection in the new pipeline index instead of one probe of its own index."""
    url = f"sqlite:///{tmp_path / 'analysed.sqlite3'}"
    before, mine = revisions_of(url, "_filter_option_indexes.py")
    upgrade(url, before)
    engine = make_engine(url)
    with engine.begin() as db:
        insert_connection_one(db)
        for n in range(20):
            db.execute(text("INSERT INTO recordstate (connection_id, object, crm_id, stage, stalled, "
                            "days_over, record, state, crm_values, updated_at) VALUES (1, 'deal', "
                            ":n, 'awareness', false, 0, '', '', '', '2026-01-01')"), {"n": str(n)})
        db.execute(text("ANALYZE"))
    upgrade(url, mine)
    with engine.connect() as db:
        analysed = {row[0] for row in db.execute(text("SELECT idx FROM sqlite_stat1"))}
        plan = db.execute(text("EXPLAIN QUERY PLAN SELECT max(updated_at) FROM recordstate "
                               "WHERE connection_id = 1")).all()
    assert {"ix_recordstate_conn_crm", "ix_recordstate_conn_pipeline"} <= analysed
    assert "ix_recordstate_conn_updated" in plan[-1][-1]
    engine.dispose()


def _read_with_plan(services, read):
    """``read(session)``'s answer, and on SQLite the plan of its first query of the records (on
    PostgreSQL None)."""
    with statements_sent(services.engine) as sent, services.session() as db:
        answer = read(db)
    if services.engine.dialect.name != "sqlite":
        return answer, None
    statement, params = next((s, p) for s, p in sent if "FROM recordstate" in s)
    with services.engine.connect() as db:
        return answer, [row[-1] for row in db.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]


def _a_stalled_country(services, book) -> str:
    with services.session() as db:
        return db.execute(select(RecordState.country).where(
            RecordState.connection_id == book, RecordState.stalled.is_(True))
            .order_by(RecordState.id).limit(1)).scalar_one()


def _count(services, *conditions) -> int:
    from sqlalchemy import func

    with services.session() as db:
        return db.execute(select(func.count()).where(*conditions)).scalar_one()


def test_a_filtered_views_stalled_counts_are_read_from_the_filters_index(services, book):
    """The stalled counts of one country come from the country's index alone (migration 0029):
    not from every stalled record of the period, each looked up for its country; and they are the
    counts of the stalled records of that country."""
    from integration.analytics import RecordFilter, stalled_report

    country, since = _a_stalled_country(services, book), datetime(2020, 1, 1, tzinfo=timezone.utc)
    report, plan = _read_with_plan(services, lambda db: stalled_report(
        db, book, RecordFilter(country=country, since=since)))
    assert report["total"] == _count(
        services, RecordState.connection_id == book, RecordState.country == country,
        RecordState.stalled.is_(True), RecordState.entered_at >= since) > 0
    assert plan is None or any("COVERING INDEX ix_recordstate_conn_country" in step for step in plan), plan


def test_a_periods_stalled_counts_are_read_from_the_stalled_records_period_index(services, book):
    """Unfiltered, a period's stalled counts by stage and owner come from the stalled records'
    period index alone (migration 0029), not from a look-up of each stalled record of the period;
    and they count the period's stalled records."""
    from integration.analytics import RecordFilter, stalled_report

    since = datetime(2026, 6, 1, tzinfo=timezone.utc)
    report, plan = _read_with_plan(services, lambda db: stalled_report(
        db, book, RecordFilter(since=since, until=NOW)))
    assert report["total"] == _count(
        services, RecordState.connection_id == book, RecordState.stalled.is_(True),
        RecordState.entered_at >= since, RecordState.entered_at < NOW) > 0
    assert plan is None or any("COVERING INDEX ix_recordstate_conn_stalled_entered" in step
                               for step in plan), plan


def test_a_filtered_pages_records_in_a_period_are_that_filters_records_of_the_period(services, book):
    """The first page of one country's records over a period, most days over first (on SQLite
    the period is left to the country's index, which holds the entry date: at 1,000,000 records
    that page took 1.6-2.2 s by the entry dates' index, 16-38 ms by the country's; bench), holds
    that country's records of the period in days-over order, and its count is theirs."""
    from integration.analytics import RecordFilter
    from integration.record_pages import count_records, read_page

    country, since = _a_stalled_country(services, book), datetime(2025, 6, 1, tzinfo=timezone.utc)
    flt = RecordFilter(country=country, since=since, until=NOW)
    with services.session() as db:
        page = [(r.days_over, r.id) for r in read_page(db, book, flt, default_map(), sort="days_over",
                                                        limit=5).rows]
    with services.session() as db:
        matching = sorted(((r.days_over, r.id) for r in db.exec(select(RecordState).where(
            RecordState.connection_id == book, RecordState.country == country,
            RecordState.entered_at >= since, RecordState.entered_at < NOW)).scalars()
            if r.days_over is not None), reverse=True)
        assert count_records(db, book, flt) == _count(
            services, RecordState.connection_id == book, RecordState.country == country,
            RecordState.entered_at >= since, RecordState.entered_at < NOW) >= len(matching) > 5
    assert page == matching[:5]