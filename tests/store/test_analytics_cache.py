"""Analytics answers kept in the store: served again while the connection's data, map and day
stay the same, computed afresh as soon as one of them changes; the workspace's answers while
every connection's do and the workspace map stays; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, insert, select, update

from bench.analytics_seed import seed
from integration import analytics_views, people
from integration.analytics import RecordFilter
from integration.analytics_cache import CachedAnalytics, prune
from integration.analytics_views import dashboard_figures, journeys_figures, warm_analytics
from integration.journey_stats import funnel_report
from integration.map_review import apply_map
from integration.record_pages import FIRST_COUNTS, cached_count, count_records
from integration.store.connections import delete_connection
from integration.store import opened_views
from integration.store.models import (AnalyticsCache, Connection, JourneyEvent, OpenedView, RecordLink,
                                      RecordState)
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.view_args import view_filter
from mapping import default_map, map_from_dict, map_to_dict, map_to_yaml

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


@pytest.fixture()
def workspace(services):
    """(tenant id, [connection ids]): two connections of 60 synthetic records each, record n of
    the first linked with record n of the second into person n."""
    stamp = datetime.now().timestamp()
    with services.session() as db:
        tenant = get_or_create_tenant(db, f"cache-workspace-{stamp}")
        conns = [Connection(tenant_id=tenant.id, name=f"ws-{i}-{stamp}", crm="hubspot") for i in (1, 2)]
        db.add_all(conns)
        db.commit()
        tenant_id, ids = tenant.id, [c.id for c in conns]
    for cid in ids:
        seed(services.engine, cid, default_map(), 60, NOW)
    with services.session() as db:
        db.execute(insert(RecordLink), [
            {"tenant_id": tenant_id, "connection_id": row.connection_id, "object": row.object,
             "crm_id": row.crm_id, "kind": "person", "group_key": f"p{row.crm_id}", "updated_at": NOW}
            for row in db.execute(select(RecordState.connection_id, RecordState.object,
                                         RecordState.crm_id).where(RecordState.connection_id.in_(ids)))])
    return tenant_id, ids


def workspace_answer(services, tenant_id, monkeypatch, unit="people"):
    """The workspace funnel through the cache, and whether it was computed this time."""
    computed = []
    real = people.funnel_reports
    monkeypatch.setattr(people, "funnel_reports", lambda *a, **k: computed.append(True) or real(*a, **k))
    with services.session() as db:
        value = people.kept_funnel_report(db, tenant_id, unit)
    monkeypatch.setattr(people, "funnel_reports", real)
    with services.session() as db:
        assert value == json.loads(json.dumps(people.funnel_report(db, tenant_id, unit)))
    return value, bool(computed)


def test_workspace_answers_are_kept_until_any_connections_data_or_map_changes(
        services, workspace, monkeypatch):
    tenant_id, (first, second) = workspace
    _, computed = workspace_answer(services, tenant_id, monkeypatch)
    assert computed
    assert workspace_answer(services, tenant_id, monkeypatch)[1] is False
    assert workspace_answer(services, tenant_id, monkeypatch, "deals")[1] is True

    def changes(change) -> bool:
        with services.session() as db:
            change(db)
        return workspace_answer(services, tenant_id, monkeypatch)[1]

    # another tenant's data, map or connections change nothing here
    def stranger_moves(db) -> None:
        stranger = Connection(tenant_id=get_or_create_tenant(db, "cache-workspace-stranger").id,
                              name=f"stranger-{first}", crm="hubspot")
        db.add(stranger)
        db.flush()
        db.add(JourneyEvent(connection_id=stranger.id, object="contact", crm_id="1", seq=0,
                            to_stage="awareness", occurred_at=NOW))
        apply_map(db, stranger.id, map_to_yaml(default_map()), author="t")
    assert not changes(stranger_moves)
    # a new event (a sync adds them, never rewrites one) or a state write in the second connection
    assert changes(lambda db: db.add(JourneyEvent(
        connection_id=second, object="contact", crm_id="10000000", seq=99, from_stage="awareness",
        to_stage="decision", occurred_at=NOW - timedelta(days=1))))
    assert not changes(lambda db: None)
    assert changes(lambda db: db.execute(update(RecordState).where(
        RecordState.connection_id == second, RecordState.crm_id == "10000001")
        .values(updated_at=NOW + timedelta(days=2), stage="lost")))
    # the second connection's own map, then the workspace map
    data = map_to_dict(default_map())
    data["stages"][0]["label"] = "Aware"
    document = map_to_yaml(map_from_dict(data))
    assert changes(lambda db: apply_map(db, second, document, author="t"))
    assert not changes(lambda db: None)
    data["stages"][1]["label"] = "Weighing"
    assert changes(lambda db: apply_map(db, None, map_to_yaml(map_from_dict(data)), author="t",
                                        tenant_id=tenant_id))
    assert workspace_answer(services, tenant_id, monkeypatch)[0]["stages"][1]["label"] == "Weighing"
    # a connection added
    assert changes(lambda db: db.add(Connection(tenant_id=tenant_id, name=f"ws-3-{first}", crm="hubspot")))


def test_warming_a_connection_computes_the_workspace_pages_first_view(services, workspace, monkeypatch):
    tenant_id, (_, second) = workspace
    warm_analytics(services, second)
    computed = []
    monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
    with services.session() as db:
        cache = people.workspace_answers(db, tenant_id)
        funnels = [people.kept_funnel_report(db, tenant_id, unit, cache=cache) for unit in ("people", "deals")]
        linked = people.kept_linked_people(db, tenant_id, cache)
        assert funnels == [json.loads(json.dumps(people.funnel_report(db, tenant_id, unit)))
                           for unit in ("people", "deals")]
        assert linked == people.linked_people(db, tenant_id)
        # a filtered view was not warmed
        people.kept_funnel_report(db, tenant_id, "people", flt=RecordFilter(country="Germany"), cache=cache)
    assert len(computed) == 1 and funnels[0]["total"] == 60


def _record_moves(services, cid):
    """A sync's write: one record's state changes (the connection's data stamp with it)."""
    with services.session() as db:
        db.execute(update(RecordState).where(RecordState.connection_id == cid,
                                             RecordState.crm_id == "10000003")
                   .values(updated_at=utcnow() + timedelta(minutes=1), stage="decision"))


def test_the_views_people_opened_this_week_are_warmed_after_the_data_changes(services, book, monkeypatch):
    now = utcnow()
    with services.session() as db:
        tenant_id = db.get(Connection, book).tenant_id
        db.execute(delete(OpenedView).where(OpenedView.tenant_id == tenant_id))
        opened_views.note_opened(db, tenant_id, book, "dashboard", {"period": "90d", "persona": "general"})
        opened_views.note_opened(db, tenant_id, book, "journeys", {"country": "Germany", "unit": "week"})
        # opened eight days ago: no longer warmed, and forgotten
        opened_views.note_opened(db, tenant_id, book, "dashboard", {"country": "France"},
                                 now=now - timedelta(days=8))
        # the page as it first opens is warmed anyway: nothing to note
        opened_views.note_opened(db, tenant_id, book, "dashboard", {})
    _record_moves(services, book)
    warm_analytics(services, book)
    computed = []
    monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
    today = utcnow().date()
    with services.session() as db:
        jmap, _ = connection_map(db, book)
        figures = dashboard_figures(db, book, jmap, view_filter({"period": "90d", "persona": "general"}, today))
        journeys_figures(db, book, jmap, view_filter({"country": "Germany"}, today), "week")
        assert computed == [] and figures["funnel"][0]["reached"] > 0
        dashboard_figures(db, book, jmap, RecordFilter(country="France"))
        assert computed  # not warmed
        kept = db.execute(select(OpenedView.page, OpenedView.args).where(OpenedView.tenant_id == tenant_id)
                          .order_by(OpenedView.page)).all()
    assert [(page, args) for page, args in kept] == [
        ("dashboard", {"period": "90d", "persona": "general"}), ("journeys", {"country": "Germany", "unit": "week"})]


def test_the_latest_ten_views_of_a_connection_are_warmed_and_unusable_ones_forgotten(services, book):
    now = utcnow()
    with services.session() as db:
        tenant_id = db.get(Connection, book).tenant_id
        for n in range(12):
            opened_views.note_opened(db, tenant_id, book, "dashboard", {"owner": str(300_000 + n)},
                                     now=now - timedelta(hours=12 - n))
        # opened again: the newest of all
        opened_views.note_opened(db, tenant_id, book, "dashboard", {"owner": "300000"}, now=now)
        db.add(OpenedView(tenant_id=tenant_id, connection_id=book, key="broken", page="dashboard",
                          args={"period": "last-decade"}, opened_at=now - timedelta(minutes=1)))
    with services.session() as db:
        views = analytics_views.opened(db, tenant_id, book)
        stranger = get_or_create_tenant(db, "cache-opened-stranger").id
        assert analytics_views.opened(db, stranger, book) == []
    with services.session() as db:
        left = db.execute(select(OpenedView.key).where(OpenedView.key == "broken")).all()
    owners = [flt.owner for _, _, flt in views]
    # the newest ten but the broken one, which is gone
    assert owners == ["300000", "300011", "300010", "300009", "300008", "300007", "300006", "300005",
                      "300004"] and left == []
    assert opened_views.WARM_AT_MOST == 10


def test_warming_a_connection_computes_the_workspace_views_people_opened(services, workspace, monkeypatch):
    tenant_id, (first, second) = workspace
    with services.session() as db:
        opened_views.note_opened(db, tenant_id, None, "workspace", {"country": "Germany", "period": "365d"})
        # a connection's view is not the workspace's
        opened_views.note_opened(db, tenant_id, first, "dashboard", {"country": "France"})
    _record_moves(services, second)
    warm_analytics(services, second)
    computed = []
    monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
    germany = view_filter({"country": "Germany", "period": "365d"}, utcnow().date())
    with services.session() as db:
        cache = people.workspace_answers(db, tenant_id)
        funnels = [people.kept_funnel_report(db, tenant_id, unit, flt=germany, cache=cache)
                   for unit in ("people", "deals")]
        assert computed == []
        assert funnels == [json.loads(json.dumps(people.funnel_report(db, tenant_id, unit, flt=germany)))
                           for unit in ("people", "deals")]
        people.kept_funnel_report(db, tenant_id, "people", flt=RecordFilter(country="France"), cache=cache)
    assert len(computed) == 1


def test_opened_views_go_with_their_connection(services, book):
    with services.session() as db:
        tenant_id = db.get(Connection, book).tenant_id
        opened_views.note_opened(db, tenant_id, book, "dashboard", {"country": "Kenya"})
    with services.session() as db:
        delete_connection(db, db.get(Connection, book))
    with services.session() as db:
        assert db.execute(select(func.count()).select_from(OpenedView).where(
            OpenedView.connection_id == book)).scalar() == 0


def test_a_tenant_keeps_its_most_recently_opened_views_only(services, book, monkeypatch):
    monkeypatch.setattr(opened_views, "KEPT_AT_MOST", 5)
    now = utcnow()
    with services.session() as db:
        tenant_id = db.get(Connection, book).tenant_id
        db.execute(delete(OpenedView).where(OpenedView.tenant_id == tenant_id))
        for n in range(8):
            opened_views.note_opened(db, tenant_id, book, "dashboard", {"country": f"C{n}"},
                                     now=now - timedelta(minutes=10 - n))
        opened_views.note_opened(db, tenant_id, book, "dashboard", {"country": "C0"},
                                 now=now + opened_views.NOTE_EVERY)
    with services.session() as db:
        assert opened_views.prune(db, tenant_id, now=now + opened_views.NOTE_EVERY) == 3
    with services.session() as db:
        kept = db.execute(select(OpenedView.args).where(OpenedView.tenant_id == tenant_id)
                          .order_by(OpenedView.opened_at)).scalars().all()
    assert [args["country"] for args in kept] == ["C4", "C5", "C6", "C7", "C0"]


def test_a_view_opened_again_soon_is_not_written_again(services, book):
    now = utcnow()
    args = {"country": "Japan"}

    def opened_at(at):
        with services.session() as db:
            tenant_id = db.get(Connection, book).tenant_id
            opened_views.note_opened(db, tenant_id, book, "dashboard", args, now=at)
        with services.session() as db:
            return db.execute(select(OpenedView.opened_at).where(
                OpenedView.key == opened_views.view_key(book, "dashboard", args))).scalar()
    assert opened_at(now) == now
    assert opened_at(now + timedelta(minutes=59)) == now
    later = now + opened_views.NOTE_EVERY + timedelta(seconds=1)
    assert opened_at(later) == later
