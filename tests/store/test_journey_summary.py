"""The journey summary, on SQLite and PostgreSQL: kept equal to a build from scratch as records'
journeys are written, rewritten and removed, and answering exactly as the events alone do, on
random books and views: the funnel, cohorts and common paths, and where the rollup does not answer
(a filter, a part-day period), time in stage, moves and trends; the migration backfills it."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from alembic import command
from sqlalchemy import func, insert, inspect as sa_inspect, select, text, update
from sqlmodel import Session

from bench.analytics_seed import Journey, rows as seed_rows
from integration import journey_stats
from integration.analytics_views import dashboard_figures
from integration.analytics import RecordFilter
from integration.store.db import alembic_config, make_engine, upgrade
from integration.store.models import JourneySummary, RecordState
from integration.store.records import replace_events
from integration.store.summaries import SLOTS, rebuild
from mapping import default_map
from tests.fixtures_store import add_connection, insert_connection_one, revisions_of
from tests.support import statements_sent

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)
TODAY = datetime(2026, 11, 30, tzinfo=timezone.utc)
JMAP = default_map()
#: Stages a random journey walks: the map's, its exits, and one the map does not name.
STAGES = [*JMAP.stage_keys, *sorted(JMAP.exit_keys), "retired_stage"]
OWNERS = ["300001", "300002"]
#: Views of every kind: all time, an object, whole-day and part-day periods, open at either end,
#: and filters on the records.
VIEWS = [RecordFilter(), RecordFilter(object="deal"),
         RecordFilter(since=TODAY - timedelta(days=90), until=TODAY),
         RecordFilter(since=TODAY - timedelta(days=200, hours=7), until=TODAY - timedelta(days=30, hours=2)),
         RecordFilter(since=TODAY - timedelta(days=20)), RecordFilter(until=TODAY - timedelta(days=60)),
         RecordFilter(owner=OWNERS[0]), RecordFilter(owner=OWNERS[1], object="contact",
                                                    since=TODAY - timedelta(days=120))]

# stays of 0 hours enter two stages at one moment; walks longer than SLOTS overflow the summary
stays = st.lists(st.tuples(st.sampled_from(STAGES), st.integers(min_value=0, max_value=120 * 24)),
                 max_size=SLOTS + 3)
keys = st.tuples(st.sampled_from(["deal", "contact"]), st.sampled_from([str(n) for n in range(12)]))
books = st.dictionaries(keys, stays, max_size=12)


def journey(start: float, walk: list[tuple[str, int]]) -> list[dict]:
    """Event rows of a walk of (stage, hours in it), starting ``start`` days before NOW; the last
    stay is still open."""
    at = NOW - timedelta(days=start)
    events = []
    for i, (stage, hours) in enumerate(walk):
        leaves = at + timedelta(hours=hours)
        events.append({"from_stage": walk[i - 1][0] if i else None, "to_stage": stage,
                       "occurred_at": at, "exited_at": None if i == len(walk) - 1 else leaves,
                       "crm_stages": []})
        at = leaves
    return events


def summary_rows(db, cid):
    table = JourneySummary.__table__
    return sorted(tuple(r) for r in db.execute(select(table).where(table.c.connection_id == cid)))


def answers(db, cid, flt):
    return (journey_stats.funnel_report(db, cid, JMAP, flt),
            journey_stats.cohort_report(db, cid, JMAP, flt),
            journey_stats.common_paths(db, cid, flt, journey_stats.MAX_PATHS),
            journey_stats.time_in_stage_report(db, cid, JMAP, flt, NOW),
            journey_stats.transitions(db, cid, flt),
            journey_stats.trend_report(db, cid, JMAP, flt, "week", NOW),
            journey_stats.trend_report(db, cid, JMAP, flt, "month", NOW))


def store_records(db, cid):
    """A stored state for every record a book may name, owned by one of OWNERS."""
    db.execute(insert(RecordState.__table__), [seed_rows(cid, JMAP, Journey(
        object=obj, crm_id=crm_id, owner_id=OWNERS[int(crm_id) % 2], persona="general",
        country="Kenya", lead_source="EVENT", stays=[(JMAP.stage_keys[0], NOW, None)]), NOW)[0]
        for obj in ("deal", "contact") for crm_id in map(str, range(12))])


# no shrinking: each example writes a book to a database, and shrinking one takes minutes
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=books, second=books, start=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_summary_answers_as_the_events_do(services, monkeypatch, first, second, start):
    with services.session() as db:
        tag = uuid.uuid4().hex
        cid = add_connection(db, "summary", f"summary {tag}", account_id=tag)
        store_records(db, cid)
        # written, then rewritten: the second book replaces (or empties) some records' journeys
        replace_events(db, cid, {key: journey(start, walk) for key, walk in first.items()})
        db.commit()
        replace_events(db, cid, {key: journey(start / 2, walk) for key, walk in second.items()})
        db.commit()
        kept = summary_rows(db, cid)
        rebuild(db, cid)
        assert summary_rows(db, cid) == kept
        from_summary = [answers(db, cid, flt) for flt in VIEWS]
        # the same views with every record read from its events (the rollup, which counts
        # covered records' cohorts, left aside)
        db.execute(update(JourneySummary).where(JourneySummary.connection_id == cid).values(covered=False))
        with monkeypatch.context() as patch:
            patch.setattr(journey_stats, "rollup_covers", lambda _flt: False)
            for flt, found in zip(VIEWS, from_summary):
                assert answers(db, cid, flt) == found, flt
        db.rollback()


def test_migration_backfills_the_stored_events(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_journey_summary.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    walks = {"in-order": ["awareness", "consideration", "lost"],
             "same-moment": ["awareness", "consideration"],
             "long": (["awareness", "consideration"] * SLOTS)[:SLOTS + 1]}
    with engine.begin() as db:
        insert_connection_one(db)
        for crm_id, walk in walks.items():
            for seq, stage in enumerate(walk):
                at = day + timedelta(days=0 if crm_id == "same-moment" else seq)
                db.execute(text("INSERT INTO journeyevent (connection_id, object, crm_id, seq, "
                                "to_stage, occurred_at, crm_stages) VALUES (1, 'deal', :id, :seq, "
                                ":stage, :at, '[]')"), {"id": crm_id, "seq": seq, "stage": stage,
                                                        "at": at.strftime("%Y-%m-%d %H:%M:%S")})
    upgrade(empty_db_url, mine)
    with engine.connect() as db:
        found = {row.crm_id: row for row in db.execute(select(JourneySummary.__table__))}
    engine.dispose()
    assert sorted(found) == sorted(walks)
    for crm_id, walk in walks.items():
        row = found[crm_id]
        assert (row.events, row.path, row.first_stage) == (len(walk), ">".join(walk), walk[0])
        assert bool(row.covered) == (crm_id == "in-order")
    row = found["in-order"]
    assert [row.at0, row.at1, row.at2, row.at3] == [day, day + timedelta(days=1), day + timedelta(days=2), None]
    assert (row.first_at, row.last_at) == (day, day + timedelta(days=2))


def test_migration_gives_the_stored_events_their_next_stage(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_event_stays_and_moves_in_record_index.py")
    upgrade(empty_db_url, before)
    engine = make_engine(empty_db_url)
    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    walks = {"1": ["awareness", "consideration", "lost"], "2": ["decision"],
             "3": ["consideration", "awareness"]}
    with engine.begin() as db:
        insert_connection_one(db)
        for crm_id, walk in walks.items():
            for seq, stage in enumerate(walk):
                last = seq == len(walk) - 1
                db.execute(text("INSERT INTO journeyevent (connection_id, object, crm_id, seq, "
                                "to_stage, occurred_at, exited_at, crm_stages) VALUES (1, 'deal', "
                                ":id, :seq, :stage, :at, :left, '[]')"),
                           {"id": crm_id, "seq": seq, "stage": stage,
                            "at": (day + timedelta(days=seq)).strftime("%Y-%m-%d %H:%M:%S"),
                            "left": None if last else (day + timedelta(days=seq + 1)).strftime(
                                "%Y-%m-%d %H:%M:%S")})
    upgrade(empty_db_url, mine)
    with engine.connect() as db:
        found = {(row.crm_id, row.seq): row.next_stage for row in db.execute(
            text("SELECT crm_id, seq, next_stage FROM journeyevent"))}
    engine.dispose()
    assert found == {(crm_id, seq): walk[seq + 1] if seq + 1 < len(walk) else None
                     for crm_id, walk in walks.items() for seq in range(len(walk))}


def test_a_page_reads_the_period_paths_its_reports_share_once(services):
    """The dashboard's funnel and outcomes of a filtered view (which the rollup does not answer)
    share one read of the summary's paths, and answer as each report alone does."""
    flt = VIEWS[-2]  # one owner's records
    with services.session() as db:
        tag = uuid.uuid4().hex
        cid = add_connection(db, "shared", f"shared {tag}", account_id=tag)
        store_records(db, cid)
        walk = [(JMAP.stage_keys[0], 30), (JMAP.stage_keys[1], 50), (JMAP.stage_keys[2], 10)]
        replace_events(db, cid, {("deal", str(n)): journey(20 + n, walk[:1 + n % 3]) for n in range(12)})
        db.commit()
        alone = (journey_stats.funnel_report(db, cid, JMAP, flt),
                 journey_stats.outcome_report(db, cid, JMAP, flt))
        with statements_sent(services.engine) as sent:
            figures = dashboard_figures(db, cid, JMAP, flt, only=("funnel", "outcomes"))
        reads = [statement for statement, _ in sent if "journeysummary.path" in statement]
        assert (figures["funnel"], figures["outcomes"]) == alone
        assert any(row["reached"] for row in alone[0])  # the view has records to read
        assert len(reads) == 1


def test_sqlite_reads_a_filtered_views_stays_and_moves_from_the_record_index(tmp_path):
    """SQLite reads every filtered record's stays from its events: each stay with the stage it
    moved on to (which trends count) comes from the record index alone (migration 0028), not from
    one row read per event and a look-up of the next event per stay."""
    engine = make_engine(f"sqlite:///{tmp_path / 'stays.sqlite3'}")
    upgrade(str(engine.url))
    flt = VIEWS[-1]
    with Session(engine) as db:
        cid = add_connection(db, "stays", "stays", account_id="stays")
        store_records(db, cid)
        replace_events(db, cid, {("contact", "1"): journey(30, [(JMAP.stage_keys[0], 30),
                                                                 (JMAP.stage_keys[1], 9)])})
        db.commit()
        query = select(func.count()).select_from(journey_stats._stays(db, cid, flt, NOW))
        compiled = query.compile(engine)
        params = compiled.construct_params()
        plan = [row[-1] for row in db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(params[k] for k in compiled.positiontup))]
        moves = select(journey_stats._stays(db, cid, flt, NOW).c.next_stage)
        assert db.execute(moves).scalars().all() == [JMAP.stage_keys[1], None]
    engine.dispose()
    events = [step for step in plan if "journeyevent" in step]
    assert len(events) == 1 and "COVERING INDEX ix_journeyevent_record" in events[0], plan


def test_postgresql_drops_the_period_index_and_sqlite_keeps_it(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_no_summary_period_index_on_postgresql.py")

    def indexes() -> set[str]:
        engine = make_engine(empty_db_url)
        names = {ix["name"] for ix in sa_inspect(engine).get_indexes("journeysummary")}
        engine.dispose()
        return names

    upgrade(empty_db_url, before)
    assert "ix_journeysummary_period" in indexes()
    upgrade(empty_db_url, mine)
    assert ("ix_journeysummary_period" in indexes()) == empty_db_url.startswith("sqlite")
    command.downgrade(alembic_config(empty_db_url), before)
    assert "ix_journeysummary_period" in indexes()


def test_sqlite_period_index_leads_with_the_path_and_postgresql_has_none(empty_db_url):
    before, mine = revisions_of(empty_db_url, "_summary_period_index_in_path_order.py")

    def period_index() -> list[str] | None:
        engine = make_engine(empty_db_url)
        found = {ix["name"]: ix["column_names"] for ix in sa_inspect(engine).get_indexes("journeysummary")}
        engine.dispose()
        return found.get("ix_journeysummary_period")

    times = [f"at{slot}" for slot in range(SLOTS)]
    upgrade(empty_db_url, before)
    sqlite = empty_db_url.startswith("sqlite")
    assert period_index() == (["connection_id", "last_at", "covered", "first_at", "path", *times]
                              if sqlite else None)
    upgrade(empty_db_url, mine)
    assert period_index() == (["connection_id", "path", "covered", "last_at", "first_at", *times]
                              if sqlite else None)
    command.downgrade(alembic_config(empty_db_url), before)
    assert period_index()[:5] == ["connection_id", "last_at", "covered", "first_at", "path"] if sqlite \
        else period_index() is None


#: The planner statistics ANALYZE left on a book of 1,000,000 records (bench/bench_analytics.py),
#: 317 of them not covered by their summary: the plans a test's few rows would get differ.
MILLION_RECORD_STATISTICS = {
    "journeyevent": {"ix_journeyevent_conn_occurred": "3944236 3944236 1",
                     "ix_journeyevent_record": "3944236 3944236 1972118 4 1 1 1 1 1"},
    "journeysummary": {"ix_journeysummary_paths": "1000000 1000000 176 40 40 40 1",
                       "ix_journeysummary_period": "1000000 1000000 176 176 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
                       "ix_journeysummary_uncovered": "317 317",
                       "sqlite_autoindex_journeysummary_1": "1000000 1000000 500000 1"}}


def test_sqlite_plans_a_years_funnel_at_a_million_records_without_a_sort_or_an_event_scan(tmp_path):
    """With a million-record book's statistics, SQLite groups a period's paths in the period
    index's order (no temporary B-tree: a sort of 722,000 rows), seeking each path's entries of
    the period (not walking the whole connection's), and reads the uncovered
    records' events starting from those records, not from the period's 3,000,000 events (the
    plan a period index leading with ``covered`` got: 0.1 -> 17 s)."""
    url = f"sqlite:///{tmp_path / 'plans.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        cid = add_connection(db, "plans", "plans", account_id="plans")
        store_records(db, cid)
        walk = [(JMAP.stage_keys[0], 30 * 24), (JMAP.stage_keys[1], 50 * 24), (JMAP.stage_keys[2], 24)]
        # begun 100 to 400 days ago: the eldest entered only its third stage in the last year
        replace_events(db, cid, {("deal", str(n)): journey(100 * n, walk) for n in range(1, 5)})
        db.execute(text("ANALYZE"))
        for table, indexes in MILLION_RECORD_STATISTICS.items():
            db.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})
            db.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                       [{"t": table, "i": index, "s": stat} for index, stat in indexes.items()])
        db.commit()
    engine.dispose()  # the statistics are read as a connection opens
    engine = make_engine(url)
    with Session(engine) as db, statements_sent(engine) as sent:
        funnel = journey_stats.funnel_report(db, cid, JMAP, RecordFilter(since=TODAY - timedelta(days=365)))
        plans = {statement: [row[-1] for row in db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)] for statement, parameters in list(sent)}
    engine.dispose()
    assert [(row["reached"], row["entered"]) for row in funnel[:3]] == [(4, 3), (4, 3), (4, 4)]
    paths = [plan for statement, plan in plans.items() if "group_concat" in statement]
    uncovered = [plan for statement, plan in plans.items() if "journeyevent" in statement]
    assert len(paths) == 1 and len(uncovered) == 1, plans
    # each path's range of the period in the period index, the paths listed from the paths index
    assert "COVERING INDEX ix_journeysummary_period (connection_id=? AND path=? AND covered=? AND last_at>?)" \
        in paths[0][0], paths
    assert not [step for step in paths[0] if "TEMP B-TREE" in step or "SCAN" in step], paths
    reads = [step for step in uncovered[0] if "SEARCH journey" in step or "SCAN journey" in step]
    assert "journeysummary USING INDEX ix_journeysummary_uncovered" in reads[0], uncovered
    assert "journeyevent USING COVERING INDEX ix_journeyevent_record" in reads[1], uncovered
