"""Analytics answers kept in the store: served again while the connection's data, map and day
stay the same, computed afresh as soon as one of them changes; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from bench.analytics_seed import seed
from integration.analytics import RecordFilter
from integration.analytics_cache import CachedAnalytics, prune
from integration.analytics_views import dashboard_figures, journeys_figures, warm_analytics
from integration.journey_stats import funnel_report
from integration.record_pages import FIRST_COUNTS, cached_count, count_records
from integration.store.connections import delete_connection
from integration.store.models import AnalyticsCache, Connection, JourneyEvent, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.sync.map_in_force import connection_map
from mapping import default_map, map_from_dict, map_to_dict

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


@pytest.fixture()
def book(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "cache")
        conn = Connection(tenant_id=tenant.id, name=f"cache-{datetime.now().timestamp()}", crm="hubspot")
        db.add(conn)
        db.commit()
        cid = conn.id
    seed(services.engine, cid, default_map(), 200, NOW)
    return cid


def answer(services, cid, jmap, flt=RecordFilter()):
    """The funnel through the cache, and whether it was computed this time."""
    computed = []
    with services.session() as db:
        def compute():
            computed.append(True)
            return funnel_report(db, cid, jmap, flt)
        value = CachedAnalytics(db, cid, jmap).get("funnel_report", flt, compute)
    return value, bool(computed)


def test_an_answer_is_computed_once_per_state_of_the_data(services, book):
    jmap = default_map()
    first, computed = answer(services, book, jmap)
    assert computed and first[0]["reached"] > 0
    again, computed = answer(services, book, jmap)
    assert again == first and not computed
    # another filter is another answer
    _, computed = answer(services, book, jmap, RecordFilter(owner="300001"))
    assert computed


def test_new_events_a_state_write_or_another_map_compute_it_again(services, book):
    jmap = default_map()
    answer(services, book, jmap)
    with services.session() as db:
        db.execute(update(JourneyEvent).where(JourneyEvent.connection_id == book,
                                              JourneyEvent.seq == 0).values(to_stage="decision"))
        db.execute(update(RecordState).where(RecordState.connection_id == book, RecordState.id == db.execute(
            select(func.min(RecordState.id)).where(RecordState.connection_id == book)).scalar())
            .values(updated_at=NOW + timedelta(days=1)))
    fresh, computed = answer(services, book, jmap)
    assert computed and fresh[2]["entered"] > 0
    data = map_to_dict(jmap)
    data["stages"][0]["label"] = "Aware"
    renamed, computed = answer(services, book, map_from_dict(data))
    assert computed and renamed[0]["label"] == "Aware"


def test_the_cache_goes_with_its_connection(services, book):
    answer(services, book, default_map())
    with services.session() as db:
        delete_connection(db, db.get(Connection, book))
    with services.session() as db:
        assert db.execute(select(func.count()).select_from(AnalyticsCache).where(
            AnalyticsCache.connection_id == book)).scalar() == 0


def test_warming_computes_the_pages_first_views(services, book, monkeypatch):
    warm_analytics(services, book)
    with services.session() as db:
        jmap, _ = connection_map(db, book)
        stamp = CachedAnalytics(db, book, jmap).stamp
        stored = db.execute(select(func.count()).select_from(AnalyticsCache).where(
            AnalyticsCache.connection_id == book, AnalyticsCache.stamp == stamp)).scalar()
        # funnel, time in stage, outcomes, stalled; trends, cohorts, journeys; the records page's
        # three counts
        assert stored == 10
        computed = []
        monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
        figures = dashboard_figures(db, book, jmap, RecordFilter())
        journeys_figures(db, book, jmap, RecordFilter())
        cache = CachedAnalytics(db, book, jmap)
        counts = [cached_count(cache, flt) for flt in FIRST_COUNTS]
    assert computed == [] and figures["funnel"][0]["reached"] > 0
    with services.session() as db:
        assert counts == [count_records(db, book, flt) for flt in FIRST_COUNTS]
    assert counts[0] == 200 and 0 < counts[1] < 200


def test_answers_computed_over_a_week_ago_are_forgotten(services, book):
    answer(services, book, default_map())
    answer(services, book, default_map(), RecordFilter(owner="300002"))
    with services.session() as db:
        db.execute(update(AnalyticsCache).where(AnalyticsCache.connection_id == book,
                                                AnalyticsCache.key == db.execute(select(func.min(AnalyticsCache.key)).where(
                                                    AnalyticsCache.connection_id == book)).scalar())
                   .values(computed_at=datetime.now(timezone.utc) - timedelta(days=8)))
        assert prune(db, book) == 1
        assert db.execute(select(func.count()).select_from(AnalyticsCache).where(
            AnalyticsCache.connection_id == book)).scalar() == 1
