"""The journey rollup, on SQLite and PostgreSQL: kept equal to a count from scratch as records'
journeys are written, rewritten and removed, and answering time in stage, outcomes, journeys and
trends exactly as the events do, on random books; the migration backfills it from stored events."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from sqlalchemy import select, text

from integration import journey_stats
from integration.analytics import RecordFilter
from integration.store.db import make_engine, upgrade
from integration.store.models import JourneyRollup
from integration.store.records import replace_events
from integration.store.rollups import (CLOSED_BY_DAY, CLOSED_BY_MONTH, MOVES, OPEN_BY_DAY,
                                       rebuild)
from mapping import default_map
from tests.fixtures_store import add_connection, insert_connection_one, revisions_of

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)
TODAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
JMAP = default_map()
#: Stages a random journey walks: the map's, its exits, and one the map does not name.
STAGES = [*JMAP.stage_keys, *sorted(JMAP.exit_keys), "retired_stage"]
#: Views the rollup answers: whole-day periods (whole months and edges, within one month), the
#: object filter.
VIEWS = [RecordFilter(), RecordFilter(object="deal"),
         RecordFilter(since=TODAY - timedelta(days=90), until=TODAY),
         RecordFilter(object="contact", since=TODAY - timedelta(days=200),
                      until=TODAY - timedelta(days=30)),
         RecordFilter(since=TODAY - timedelta(days=20), until=TODAY - timedelta(days=5))]

stays = st.lists(st.tuples(st.sampled_from(STAGES),
                           st.floats(min_value=0, max_value=120, allow_nan=False)), max_size=5)
books = st.dictionaries(st.tuples(st.sampled_from(["deal", "contact"]),
                                  st.sampled_from([str(n) for n in range(12)])), stays, max_size=12)


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


def rollup_rows(db, cid):
    return sorted(tuple(r) for r in db.execute(select(
        JourneyRollup.kind, JourneyRollup.day, JourneyRollup.object, JourneyRollup.stage, JourneyRollup.next_stage,
        JourneyRollup.days, JourneyRollup.n).where(JourneyRollup.connection_id == cid)))


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
        tag = uuid.uuid4().hex
        cid = add_connection(db, "rollup", f"rollup {tag}", account_id=tag)
        # written, then rewritten: the second book replaces (or empties) some records' journeys
        replace_events(db, cid, {key: journey(start, walk) for key, walk in first.items()})
        db.commit()
        replace_events(db, cid, {key: journey(start / 2, walk) for key, walk in second.items()})
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
    assert not journey_stats.rollup_covers(RecordFilter(owner="300003"))
    assert not journey_stats.rollup_covers(RecordFilter(since=NOW - timedelta(days=30)))
    assert not journey_stats.rollup_covers(RecordFilter(until=TODAY + timedelta(hours=1)))
    assert journey_stats.rollup_covers(RecordFilter(object="deal", until=TODAY))


def test_migration_backfills_the_stored_events(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_rollup.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    with engine.begin() as db:
        insert_connection_one(db)
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
