"""The journey rollup, on SQLite and PostgreSQL: kept equal to a count from scratch as records'
journeys are written, rewritten and removed, and as their owner, persona or country change between
writes, and answering time in stage, outcomes, journeys and trends exactly as the events do (joined
to the records for a filtered view), on random books; the migrations backfill it from stored
events and records."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from sqlalchemy import select, text

from integration import journey_stats
from integration.analytics import RecordFilter
from integration.store.db import make_engine, upgrade
from integration.store.bulk import insert_rows
from integration.store.models import (RECORD_DIMENSIONS, Connection, CrmOwner, JourneyRollup,
                                      JourneyRollupByValue, RecordState)
from integration.store.records import replace_events
from integration.store.rollups import (CLOSED_BY_DAY, CLOSED_BY_MONTH, CLOSED_BY_WEEK, MOVES,
                                       MOVES_BY_MONTH, OPEN_BY_DAY, rebuild)
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from tests.fixtures_store import revisions_of

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)
TODAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
JMAP = default_map()
#: Stages a random journey walks: the map's, its exits, and one the map does not name.
STAGES = [*JMAP.stage_keys, *sorted(JMAP.exit_keys), "retired_stage"]
#: Owners' names: one name for two ids (a user in two CRMs), matched in any case.
OWNERS = {"o1": "Dana Reyes", "o2": "dana reyes", "o3": "Sam Ito"}
#: Views the rollup answers: whole-day periods (whole months and edges, within one month), the
#: object filter, one filter of a record's values (with the object, over a period).
VIEWS = [RecordFilter(), RecordFilter(object="deal"),
         RecordFilter(since=TODAY - timedelta(days=90), until=TODAY),
         RecordFilter(object="contact", since=TODAY - timedelta(days=200),
                      until=TODAY - timedelta(days=30)),
         RecordFilter(since=TODAY - timedelta(days=20), until=TODAY - timedelta(days=5)),
         RecordFilter(owner="o1"),
         RecordFilter(owner_name=" DANA reyes", since=TODAY - timedelta(days=364)),
         RecordFilter(persona="p2", object="deal", since=TODAY - timedelta(days=90), until=TODAY),
         RecordFilter(country="DE", since=TODAY - timedelta(days=200), until=TODAY - timedelta(days=30)),
         RecordFilter(lead_source="EVENT", since=TODAY - timedelta(days=20),
                      until=TODAY - timedelta(days=5)),
         RecordFilter(crm="hubspot", until=TODAY - timedelta(days=45)),
         RecordFilter(pipeline="default", since=TODAY - timedelta(days=45))]

stays = st.lists(st.tuples(st.sampled_from(STAGES),
                           st.floats(min_value=0, max_value=120, allow_nan=False)), max_size=5)
#: A record's filter values (None: the record has none).
values = st.fixed_dictionaries({
    "crm": st.just("hubspot"), "pipeline": st.sampled_from(["default", None]),
    "persona": st.sampled_from(["p1", "p2"]), "owner_id": st.sampled_from([*OWNERS, None]),
    "country": st.sampled_from(["DE", "PT"]), "lead_source": st.sampled_from(["EVENT", None])})
books = st.dictionaries(st.tuples(st.sampled_from(["deal", "contact"]),
                                  st.sampled_from([str(n) for n in range(12)])),
                        st.tuples(stays, values), max_size=12)


def journey(start: float, walk: list[tuple[str, float]]) -> list[dict]:
    """Event rows of a walk of (stage, days in it), starting ``start`` days before NOW; the last
    stay is still open (when it began before NOW) or exited."""
    at = NOW - timedelta(days=start)
    events = []
    for i, (stage, days) in enumerate(walk):
        leaves = at + timedelta(days=days)
        last = i == len(walk) - 1
        events.append({"from_stage": walk[i - 1][0] if i else None, "to_stage": stage,
                       "occurred_at": at, "exited_at": None if last else leaves, "crm_stages": []})
        at = leaves
    return events


def store_states(db, cid, book, stored):
    """Write the state rows of the records of ``book`` with their filter values (insert or
    update, before their journeys, as the sync does); ``stored`` holds the keys stored so far."""
    for (obj, crm_id), (_walk, dimensions) in book.items():
        if (obj, crm_id) in stored:
            db.execute(RecordState.__table__.update().where(
                RecordState.connection_id == cid, RecordState.object == obj,
                RecordState.crm_id == crm_id).values(**dimensions))
        else:
            insert_rows(db, RecordState, [{"connection_id": cid, "object": obj, "crm_id": crm_id,
                                           "stage": "awareness", "record": {}, "state": {},
                                           "crm_values": {}, "updated_at": NOW, **dimensions}])
            stored.add((obj, crm_id))


def rollup_rows(db, cid):
    rows = []
    for table in (JourneyRollup, JourneyRollupByValue):
        values = [table.dimension, table.value] if table is JourneyRollupByValue else []
        rows += sorted(tuple(r) for r in db.execute(select(
            *values, table.kind, table.day, table.object, table.stage, table.next_stage, table.days,
            table.n).where(table.connection_id == cid)))
    return rows


def answers(db, cid, flt):
    return (journey_stats.time_in_stage_report(db, cid, JMAP, flt, NOW),
            journey_stats.outcome_report(db, cid, JMAP, flt),
            journey_stats.transitions(db, cid, flt),
            journey_stats.trend_report(db, cid, JMAP, journey_stats.last_year(flt, NOW), "week", NOW),
            journey_stats.trend_report(db, cid, JMAP, journey_stats.last_year(flt, NOW), "month", NOW),
            journey_stats.trend_report(db, cid, JMAP, flt, "month", NOW))


# no shrinking: each example writes a book to a database, and shrinking one takes minutes
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=books, second=books, start=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_rollup_answers_as_the_events_do(services, monkeypatch, first, second, start):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "rollup")
        tag = uuid.uuid4().hex
        conn = Connection(tenant_id=tenant.id, name=f"rollup {tag}", crm="hubspot", account_id=tag)
        db.add(conn)
        db.commit()
        cid = conn.id
        db.add_all([CrmOwner(connection_id=cid, owner_id=owner_id, name=name)
                    for owner_id, name in OWNERS.items()])
        # written, then rewritten: the second book replaces (or empties) some records' journeys,
        # and may give them another owner, persona, country...: state and events move together
        stored: set = set()
        for book, begun in ((first, start), (second, start / 2)):
            store_states(db, cid, book, stored)
            replace_events(db, cid, {key: journey(begun, walk) for key, (walk, _values) in book.items()})
            db.commit()
        kept = rollup_rows(db, cid)
        assert all(row[-1] > 0 for row in kept)  # emptied rows are dropped
        rebuild(db, cid)
        assert rollup_rows(db, cid) == kept
        for flt in VIEWS:
            assert journey_stats.rollup_covers(flt) and journey_stats.rollup_covers(
                journey_stats.last_year(flt, NOW))
            from_rollup = answers(db, cid, flt)
            with monkeypatch.context() as patch:
                patch.setattr(journey_stats, "rollup_covers", lambda _flt: False)
                assert answers(db, cid, flt) == from_rollup, flt


def test_views_the_rollup_cannot_answer_read_the_events():
    assert journey_stats.rollup_covers(RecordFilter(owner="300003"))
    assert not journey_stats.rollup_covers(RecordFilter(owner="300003", country="PT"))
    assert not journey_stats.rollup_covers(RecordFilter(owner="300003", owner_name="Dana Reyes"))
    assert not journey_stats.rollup_covers(RecordFilter(stage="awareness"))
    assert not journey_stats.rollup_covers(RecordFilter(persona="general", q="acme"))
    assert not journey_stats.rollup_covers(RecordFilter(since=NOW - timedelta(days=30)))
    assert not journey_stats.rollup_covers(RecordFilter(until=TODAY + timedelta(hours=1)))
    assert journey_stats.rollup_covers(RecordFilter(object="deal", until=TODAY))


def test_migration_backfills_the_stored_events(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_rollup.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-01-01')"))
        db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                        "secrets, sync_interval_seconds, created_at) VALUES (1, 1, 'c', 'hubspot', "
                        "'active', 0, '{}', '', 300, '2026-01-01')"))
        for seq, (stage, at, until) in enumerate([("awareness", "2026-03-01 23:00:00", "2026-03-03 01:00:00"),
                                                  ("consideration", "2026-03-03 01:00:00", None)]):
            db.execute(text("INSERT INTO journeyevent (connection_id, object, crm_id, seq, to_stage, "
                            "occurred_at, exited_at, crm_stages) VALUES (1, 'deal', '7', :seq, :stage, "
                            ":at, :until, '[]')"), {"seq": seq, "stage": stage, "at": at, "until": until})
    upgrade(empty_db_url, mine)
    with engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text(
            "SELECT kind, CAST(day AS VARCHAR(10)), object, stage, next_stage, days, n "
            "FROM journeyrollup ORDER BY kind, day"))]
    # 23:00 on the 1st to 01:00 on the 3rd: two calendar days, counted by day and by month
    assert rows == [(MOVES, "2026-03-01", "deal", "awareness", "consideration", 0, 1),
                    (MOVES, "2026-03-03", "deal", "consideration", "", 0, 1),
                    (CLOSED_BY_DAY, "2026-03-01", "deal", "awareness", "", 2, 1),
                    (CLOSED_BY_MONTH, "2026-03-01", "deal", "awareness", "", 2, 1),
                    (OPEN_BY_DAY, "2026-03-03", "deal", "consideration", "", 0, 1)]
    engine.dispose()


def test_migration_backfills_the_events_values_and_the_rollup_by_value(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_rollup_by_value.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-01-01')"))
        db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                        "secrets, sync_interval_seconds, created_at) VALUES (1, 1, 'c', 'hubspot', "
                        "'active', 0, '{}', '', 300, '2026-01-01')"))
        db.execute(RecordState.__table__.insert(), [{
            "connection_id": 1, "object": "deal", "crm_id": "7", "stage": "consideration",
            "owner_id": "o1", "country": "PT", "crm": "hubspot", "record": {}, "state": {},
            "crm_values": {}, "updated_at": NOW}])
        # a record's events (on a Wednesday, then a Friday), and an event of no stored record
        for seq, crm_id, stage, at, until in [
                (0, "7", "awareness", "2026-03-04 23:00:00", "2026-03-06 01:00:00"),
                (1, "7", "consideration", "2026-03-06 01:00:00", None),
                (0, "8", "awareness", "2026-03-04 10:00:00", None)]:
            db.execute(text("INSERT INTO journeyevent (connection_id, object, crm_id, seq, to_stage, "
                            "occurred_at, exited_at, crm_stages) VALUES (1, 'deal', :crm_id, :seq, "
                            ":stage, :at, :until, '[]')"),
                       {"seq": seq, "crm_id": crm_id, "stage": stage, "at": at, "until": until})
    upgrade(empty_db_url, mine)
    with engine.connect() as db:
        events = [tuple(r) for r in db.execute(text(
            "SELECT crm_id, seq, " + ", ".join(RECORD_DIMENSIONS) + " FROM journeyevent ORDER BY crm_id, seq"))]
        weeks = [tuple(r) for r in db.execute(text(
            f"SELECT CAST(day AS VARCHAR(10)), stage, days, n FROM journeyrollup WHERE kind = {CLOSED_BY_WEEK}"))]
        by_value = [tuple(r) for r in db.execute(text(
            "SELECT dimension, value, kind, CAST(day AS VARCHAR(10)), stage, next_stage, days, n "
            "FROM journeyrollupbyvalue ORDER BY dimension, kind, day"))]
    assert events == [("7", 0, "hubspot", None, None, "o1", "PT", None),
                      ("7", 1, "hubspot", None, None, "o1", "PT", None),
                      ("8", 0, None, None, None, None, None, None)]
    assert weeks == [("2026-03-02", "awareness", 2, 1)]  # the Monday of its week
    # per value held (no row for a value the record has not): moves and closed stays by month,
    # open ones by day
    expected = [(MOVES_BY_MONTH, "2026-03-01", "awareness", "consideration", 0, 1),
                (MOVES_BY_MONTH, "2026-03-01", "consideration", "", 0, 1),
                (CLOSED_BY_MONTH, "2026-03-01", "awareness", "", 2, 1),
                (OPEN_BY_DAY, "2026-03-06", "consideration", "", 0, 1)]
    assert sorted(by_value) == sorted((dimension, value, *row) for dimension, value in (
        ("country", "PT"), ("crm", "hubspot"), ("owner_id", "o1")) for row in expected)
    engine.dispose()
