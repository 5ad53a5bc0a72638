"""The journey rollup, on SQLite and PostgreSQL: kept equal to a count from scratch as records'
journeys are written, rewritten and removed and as records move between segments (persona,
country, lead source, pipeline), and answering time in stage, outcomes, journeys and trends
exactly as the events do, on random books, for the whole connection and for each segment; the
migration fills it from stored events and record states."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from alembic import command
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from sqlalchemy import inspect as sa_inspect, insert, select, text, update

from integration import journey_stats
from integration.analytics import RecordFilter
from integration.store.db import alembic_config, make_engine, upgrade
from integration.store.models import JourneyRollup, RecordState
from integration.store.records import replace_events, states_by_key
from integration.store.rollups import CLOSED_BY_DAY, CLOSED_BY_MONTH, COHORTS, MOVES, OPEN_BY_DAY, rebuild
from integration.sync.verdicts import Judged, judge, save_page
from mapping import CrmRecord, StageChange, default_map
from tests.fixtures_store import add_connection, insert_connection_one, revisions_of

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)
TODAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
JMAP = default_map()
#: Stages a random journey walks: the map's, its exits, and one the map does not name.
STAGES = [*JMAP.stage_keys, *sorted(JMAP.exit_keys), "retired_stage"]
LAST_90 = dict(since=TODAY - timedelta(days=90), until=TODAY)
#: Views the rollup answers: whole-day periods (whole months and edges, within one month), the
#: object filter, one segment filter.
VIEWS = [RecordFilter(), RecordFilter(object="deal"), RecordFilter(**LAST_90),
         RecordFilter(object="contact", since=TODAY - timedelta(days=200),
                      until=TODAY - timedelta(days=30)),
         RecordFilter(since=TODAY - timedelta(days=20), until=TODAY - timedelta(days=5)),
         RecordFilter(persona="buyer"), RecordFilter(country="DE", **LAST_90),
         RecordFilter(object="deal", country="FR"), RecordFilter(lead_source="web", **LAST_90),
         RecordFilter(pipeline="renewals", object="contact")]

stays = st.lists(st.tuples(st.sampled_from(STAGES),
                           st.floats(min_value=0, max_value=120, allow_nan=False)), max_size=5)
segment_values = st.fixed_dictionaries({
    "persona": st.sampled_from(["buyer", "champion", None]), "country": st.sampled_from(["DE", "FR", None]),
    "lead_source": st.sampled_from(["web", None]), "pipeline": st.sampled_from(["renewals", "new", None])})
keys = st.tuples(st.sampled_from(["deal", "contact"]), st.sampled_from([str(n) for n in range(12)]))
books = st.dictionaries(keys, st.tuples(stays, segment_values), max_size=12)


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


def store_states(db, cid, book: dict) -> None:
    """Record states holding the book's segment values: inserted, or updated where stored."""
    held = states_by_key(db, cid, list(book))
    for (obj, crm_id), (_walk, values) in book.items():
        if (obj, crm_id) in held:
            db.execute(update(RecordState).where(RecordState.id == held[(obj, crm_id)].id).values(**values))
        else:
            db.execute(insert(RecordState).values(connection_id=cid, object=obj, crm_id=crm_id, stage="x",
                                                  record={}, state={}, crm_values={}, **values))


def rollup_rows(db, cid, segment=None):
    where = [] if segment is None else [JourneyRollup.segment == segment]
    return sorted(tuple(r) for r in db.execute(select(
        JourneyRollup.segment, JourneyRollup.value, JourneyRollup.kind, JourneyRollup.day,
        JourneyRollup.object, JourneyRollup.stage, JourneyRollup.next_stage, JourneyRollup.days,
        JourneyRollup.n).where(JourneyRollup.connection_id == cid, *where)))


def answers(db, cid, flt):
    return (journey_stats.time_in_stage_report(db, cid, JMAP, flt, NOW),
            journey_stats.outcome_report(db, cid, JMAP, flt),
            journey_stats.transitions(db, cid, flt),
            journey_stats.trend_report(db, cid, JMAP, journey_stats.last_year(flt, NOW), "week", NOW),
            journey_stats.trend_report(db, cid, JMAP, journey_stats.last_year(flt, NOW), "month", NOW),
            journey_stats.trend_report(db, cid, JMAP, flt, "month", NOW),
            journey_stats.cohort_report(db, cid, JMAP, journey_stats.last_year(flt, NOW)))


# no shrinking: each example writes a book to a database, and shrinking one takes minutes
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=books, second=books, start=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_rollup_answers_as_the_events_do(services, monkeypatch, first, second, start):
    with services.session() as db:
        tag = uuid.uuid4().hex
        cid = add_connection(db, "rollup", f"rollup {tag}", account_id=tag)
        # written with the segments stored, then rewritten as a sync does: the second book
        # replaces (or empties) some records' journeys and moves some records between segments
        store_states(db, cid, first)
        replace_events(db, cid, {key: journey(start, walk) for key, (walk, _) in first.items()})
        db.commit()
        was = {key: values for key, (_, values) in first.items()}
        store_states(db, cid, second)
        replace_events(db, cid, {key: journey(start / 2, walk) for key, (walk, _) in second.items()},
                       {key: (was.get(key, values), values) for key, (_, values) in second.items()})
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


def _contact(country: str) -> CrmRecord:
    created = NOW - timedelta(days=30)
    return CrmRecord(crm="hubspot", object="contact", id="c1", stage_value="lead", created_at=created,
                     modified_at=NOW, name="Ada", history=(StageChange("lead", created),),
                     fields={"country": country})


def test_a_sync_that_changes_a_records_country_moves_its_stays_to_the_new_country(services):
    with services.session() as db:
        cid = add_connection(db, "rollup", f"rollup {uuid.uuid4().hex}")
        for country in ("DE", "FR"):
            record = _contact(country)
            row = states_by_key(db, cid, [("contact", "c1")]).get(("contact", "c1"))
            save_page(db, cid, [Judged(record, judge(record, JMAP, NOW, {}), row, {})], JMAP, NOW,
                      refresh_events=False, run_id=None)
            db.commit()
        by_country = rollup_rows(db, cid, "country")
        assert by_country and {row[1] for row in by_country} == {"FR"}
        # the country's rows count what the whole connection's do
        assert [row[2:] for row in by_country] == [row[2:] for row in rollup_rows(db, cid, "")]
        kept = rollup_rows(db, cid)
        rebuild(db, cid)
        assert rollup_rows(db, cid) == kept


def test_views_the_rollup_cannot_answer_read_the_events():
    for flt in (RecordFilter(owner="300003"), RecordFilter(owner_name="Dana Reyes"),
                RecordFilter(country="DE", persona="buyer"), RecordFilter(q="acme"),
                RecordFilter(stalled=True), RecordFilter(crm="hubspot"), RecordFilter(stage="decision"),
                RecordFilter(since=NOW - timedelta(days=30)),
                RecordFilter(until=TODAY + timedelta(hours=1))):
        assert not journey_stats.rollup_covers(flt), flt
    assert journey_stats.rollup_covers(RecordFilter(object="deal", until=TODAY))
    assert journey_stats.rollup_covers(RecordFilter(object="deal", lead_source="web", until=TODAY))


def test_migration_counts_the_stored_events_by_segment_and_downgrades_to_the_whole(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_rollup_segments.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    with engine.begin() as db:
        insert_connection_one(db)
        db.execute(insert(RecordState.__table__).values(
            connection_id=1, object="deal", crm_id="7", stage="consideration", country="DE",
            persona="buyer", record={}, state={}, crm_values={}))
        for seq, (stage, nxt, at, until) in enumerate([
                ("awareness", "consideration", "2026-03-01 23:00:00", "2026-03-03 01:00:00"),
                ("consideration", None, "2026-03-03 01:00:00", None)]):
            db.execute(text("INSERT INTO journeyevent (connection_id, object, crm_id, seq, to_stage, "
                            "next_stage, occurred_at, exited_at, crm_stages) VALUES (1, 'deal', '7', "
                            ":seq, :stage, :nxt, :at, :until, '[]')"),
                       {"seq": seq, "stage": stage, "nxt": nxt, "at": at, "until": until})
    upgrade(empty_db_url, mine)
    # 23:00 on the 1st to 01:00 on the 3rd: two calendar days, counted by day and by month
    counted = [(MOVES, "2026-03-01", "deal", "awareness", "consideration", 0, 1),
               (MOVES, "2026-03-03", "deal", "consideration", "", 0, 1),
               (CLOSED_BY_DAY, "2026-03-01", "deal", "awareness", "", 2, 1),
               (CLOSED_BY_MONTH, "2026-03-01", "deal", "awareness", "", 2, 1),
               (OPEN_BY_DAY, "2026-03-03", "deal", "consideration", "", 0, 1)]
    columns = "kind, CAST(day AS VARCHAR(10)), object, stage, next_stage, days, n"
    with engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text(
            f"SELECT segment, value, {columns} FROM journeyrollup ORDER BY segment, kind, day"))]
    # counted for the whole connection and for the deal's country and persona, not for the
    # lead source and pipeline it has none of
    assert rows == [(segment, value, *row) for segment, value in (("", ""), ("country", "DE"),
                                                                  ("persona", "buyer"))
                    for row in counted]
    if empty_db_url.startswith("postgresql"):
        with engine.connect() as db:
            key = db.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'journeyrollup_pkey'")).scalar()
        assert key.endswith("INCLUDE (n)")  # views read the count from the index alone
    command.downgrade(alembic_config(empty_db_url), before)
    with engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text(f"SELECT {columns} FROM journeyrollup ORDER BY kind, day"))]
        names = [c["name"] for c in sa_inspect(db).get_columns("journeyrollup")]
    assert rows == counted and "segment" not in names
    engine.dispose()


def test_migration_counts_the_stored_journeys_into_cohorts_and_downgrade_drops_them(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_rollup_cohorts.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    walks = {"7": (["awareness", "consideration", "awareness"], 1), "8": (["lost", "decision"], 1),
             "9": (["awareness", "consideration", "awareness"], 1), "10": (["decision"], 0)}
    with engine.begin() as db:
        insert_connection_one(db)
        for crm_id in ("7", "8"):
            db.execute(insert(RecordState.__table__).values(
                connection_id=1, object="deal", crm_id=crm_id, stage="x", country="DE", record={},
                state={}, crm_values={}))
        for crm_id, (walk, step) in walks.items():  # "10": two entries at one moment, uncovered
            db.execute(text(
                "INSERT INTO journeysummary (connection_id, object, crm_id, events, path, first_stage, "
                "first_at, first_month, last_at, covered) VALUES (1, 'deal', :id, :events, :path, "
                ":first, '2026-03-01 23:00:00', '2026-03-01', '2026-03-04 00:00:00', :covered)"),
                {"id": crm_id, "events": len(walk), "path": ">".join(walk), "first": walk[0],
                 "covered": step == 1})
        stays = db.execute(text("SELECT count(*) FROM journeyrollup")).scalar()
    upgrade(empty_db_url, mine)
    cohorts = f"SELECT segment, value, CAST(day AS VARCHAR(10)), stage, next_stage, n FROM journeyrollup " \
              f"WHERE kind = {COHORTS} ORDER BY segment, stage, next_stage"
    with engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text(cohorts))]
    # by the day of the first entry, the first stage ("" uncovered) and the stages reached, as a
    # set; for the whole connection, and for the country of the records that have one
    whole = [("", "", "2026-03-01", "", "decision", 1),
             ("", "", "2026-03-01", "awareness", "awareness>consideration", 2),
             ("", "", "2026-03-01", "lost", "decision>lost", 1)]
    assert rows == whole + [("country", "DE", "2026-03-01", "awareness", "awareness>consideration", 1),
                            ("country", "DE", "2026-03-01", "lost", "decision>lost", 1)]
    command.downgrade(alembic_config(empty_db_url), before)
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM journeyrollup")).scalar() == stays
    engine.dispose()
