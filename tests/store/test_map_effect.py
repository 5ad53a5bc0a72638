"""Before and after a map version, aggregated in SQL (SQLite and PostgreSQL); map reviews."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from integration.analytics_cache import CachedAnalytics
from integration.analytics_views import warm_analytics
from integration.map_effect import KEPT_FOR, version_effect, window_figures
from integration.map_review import apply_map, version_in_force_effect, versions_effect
from integration.store.connections import create_connection
from integration.store.map_versions import (last_reviewed, list_map_versions, mark_map_reviewed,
                                             save_map_version)
from integration.sync.map_in_force import map_in_force
from integration.store.models import AnalyticsCache, JourneyEvent
from integration.store.records import replace_events
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from mapping import default_map, default_map_text, map_from_dict, map_to_dict

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


@pytest.fixture()
def world(services):
    """A tenant with two connections of one CRM; the second one's events must never count."""
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"effect-{datetime.now().timestamp()}")
        conns = [create_connection(s, services.secret_box, tenant_id=tenant.id, name=name,
                                   crm="hubspot", settings={}, secrets={}) for name in ("a", "b")]
        return tenant.id, conns[0].id, conns[1].id


def journey(connection_id: int, crm_id: str, *spans: tuple[str, datetime, datetime | None]):
    """Events of one record: (stage, entered, exited) in order."""
    return [JourneyEvent(connection_id=connection_id, object="deal", crm_id=crm_id, seq=i,
                         to_stage=stage, occurred_at=entered, exited_at=exited, crm_stages=[])
            for i, (stage, entered, exited) in enumerate(spans)]


def store(services, events):
    """Write the events' journeys as a sync does (the journey rollup and summaries with them)."""
    journeys = defaultdict(dict)
    for ev in events:
        journeys[ev.connection_id].setdefault((ev.object, ev.crm_id), []).append(
            {"to_stage": ev.to_stage, "occurred_at": ev.occurred_at, "exited_at": ev.exited_at,
             "crm_stages": []})
    with services.session() as s:
        for connection_id, its_journeys in journeys.items():
            replace_events(s, connection_id, its_journeys)


def test_window_counts_reach_conversion_and_days(services, world):
    _, conn, other = world
    start = NOW - 20 * DAY
    store(services, [
        # reached consideration: 3 days in awareness, then 5 days in consideration, then lost
        *journey(conn, "1", ("awareness", start, start + 3 * DAY),
                 ("consideration", start + 3 * DAY, start + 8 * DAY), ("lost", start + 8 * DAY, None)),
        # skipped awareness, still in consideration: 20 days to now (open)
        *journey(conn, "2", ("consideration", start, None)),
        # awareness only, 36 hours from noon to midnight: two calendar days (days in a stage count
        # the calendar days from entering to leaving), then lost
        *journey(conn, "3", ("awareness", start, start + 36 * timedelta(hours=1)),
                 ("lost", start + 36 * timedelta(hours=1), None)),
        # entered before the window: not counted
        *journey(conn, "4", ("awareness", start - 5 * DAY, None)),
        # another connection: not counted
        *journey(other, "1", ("decision", start, None)),
    ])
    with services.session() as s:
        rows = window_figures(s, conn, default_map(), start, NOW, NOW)
    by_stage = {r["stage"]: r for r in rows}
    assert [r["stage"] for r in rows] == list(default_map().stage_keys)
    assert by_stage["awareness"] == {"stage": "awareness", "label": "Awareness", "reached": 3,
                                     "conversion": None, "stays": 2, "median_days": 2.5}
    assert by_stage["consideration"]["reached"] == 2
    assert by_stage["consideration"]["conversion"] == 2 / 3
    assert by_stage["consideration"]["median_days"] == 12.5     # 5 and 20 days
    assert by_stage["decision"]["reached"] == 0 and by_stage["decision"]["conversion"] == 0
    assert by_stage["purchase"]["conversion"] is None           # after 0


def test_version_effect_splits_at_the_effective_date(services, world):
    _, conn, _ = world
    effective = NOW - 10 * DAY
    store(services, [
        *journey(conn, "b1", ("awareness", effective - 25 * DAY, effective - 5 * DAY),
                 ("consideration", effective - 5 * DAY, None)),
        *journey(conn, "b2", ("awareness", effective - 40 * DAY, None)),      # outside 30 days
        *journey(conn, "a1", ("awareness", effective + DAY, effective + 3 * DAY),
                 ("consideration", effective + 3 * DAY, None)),
        *journey(conn, "a2", ("awareness", effective + 2 * DAY, None)),
    ])
    with services.session() as s:
        effect = version_effect(s, [conn], default_map(), effective, NOW)
    assert effect["before"] == {"since": effective - 30 * DAY, "until": effective}
    assert effect["after"] == {"since": effective, "until": NOW, "days": 10}
    [only] = effect["connections"]
    assert only["connection_id"] == conn
    awareness, consideration = only["stages"][:2]
    assert awareness["before"]["reached"] == 1 and consideration["before"]["conversion"] == 1.0
    assert awareness["before"]["median_days"] == 20
    assert awareness["after"]["reached"] == 2 and consideration["after"]["conversion"] == 0.5
    assert awareness["after"]["median_days"] == 5      # 2 days, and 8 days open to now


def test_a_review_is_the_later_of_a_version_saved_and_a_mark(services, world):
    tenant, conn, other = world
    with services.session() as s:
        assert last_reviewed(s, tenant, conn) is None
        saved = save_map_version(s, conn, "version: 1", author="a@x").created_at
    with services.session() as s:
        assert last_reviewed(s, tenant, conn) == saved
        assert last_reviewed(s, tenant, None) is None and last_reviewed(s, tenant, other) is None
        marked = mark_map_reviewed(s, tenant, None, version=None, reviewed_by="a@x").reviewed_at
    with services.session() as s:
        assert last_reviewed(s, tenant, None) == marked
        assert last_reviewed(s, tenant, conn) == saved
        assert last_reviewed(s, tenant + 1, None) is None      # another tenant's workspace


def test_a_young_versions_figures_are_computed_again_when_the_data_changes(services, world):
    _, conn, _ = world
    effective = NOW - 10 * DAY                 # the 30 days after still run: history may arrive
    store(services, journey(conn, "k1", ("awareness", effective + 2 * DAY, None)))
    with services.session() as s:
        first = version_effect(s, [conn], default_map(), effective, NOW)
        kept = s.execute(select(func.count()).select_from(AnalyticsCache)
                         .where(AnalyticsCache.connection_id == conn)).scalar_one()
        assert kept == 2                                   # before and after
        assert version_effect(s, [conn], default_map(), effective, NOW) == first
    store(services, journey(conn, "k2", ("awareness", effective - DAY, None)))
    with services.session() as s:
        again = version_effect(s, [conn], default_map(), effective, NOW)
    assert first["connections"][0]["stages"][0]["before"]["reached"] == 0
    assert again["connections"][0]["stages"][0]["before"]["reached"] == 1


def test_an_ended_window_is_kept_a_day_and_says_when_it_was_computed(services, world):
    _, conn, _ = world
    effective = NOW - 40 * DAY                             # both windows have ended
    store(services, journey(conn, "e1", ("awareness", effective - 2 * DAY, None)))
    with services.session() as s:
        first = version_effect(s, [conn], default_map(), effective, NOW)
    store(services, journey(conn, "e2", ("awareness", effective - DAY, None)))
    with services.session() as s:
        kept = version_effect(s, [conn], default_map(), effective, NOW + DAY)
    assert kept["connections"][0]["stages"][0]["before"]["reached"] == 1
    assert kept["connections"][0]["as_of"] == first["connections"][0]["as_of"] == NOW
    with services.session() as s:                          # a day later: computed again
        s.execute(update(AnalyticsCache).where(AnalyticsCache.connection_id == conn)
                  .values(computed_at=utcnow() - KEPT_FOR - DAY))
        s.commit()
        later = version_effect(s, [conn], default_map(), effective, NOW + DAY)
    assert later["connections"][0]["stages"][0]["before"]["reached"] == 2
    assert later["connections"][0]["as_of"] == NOW + DAY


def test_a_changed_map_is_never_served_kept_figures(services, world):
    _, conn, _ = world
    effective = NOW - 40 * DAY
    store(services, journey(conn, "m1", ("awareness", effective - 2 * DAY, None)))
    data = map_to_dict(default_map())
    data["stages"][0]["label"] = "Heard of us"
    with services.session() as s:
        version_effect(s, [conn], default_map(), effective, NOW)
        other = version_effect(s, [conn], map_from_dict(data), effective, NOW)
    assert other["connections"][0]["stages"][0]["label"] == "Heard of us"


def test_the_worker_warms_the_history_figures_of_the_version_in_force(services, world, monkeypatch):
    tenant, conn, _ = world
    store(services, journey(conn, "w1", ("awareness", utcnow() - 3 * DAY, None)))
    with services.session() as s:
        assert version_in_force_effect(s, conn) is None          # the default map has no version
        apply_map(s, conn, default_map_text(), author="a@x")
    warm_analytics(services, conn)
    computed = []
    monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
    with services.session() as s:
        effect = version_in_force_effect(s, conn)
    assert computed == []                                        # read back, not computed
    assert effect["connections"][0]["stages"][0]["before"]["reached"] == 1


def test_the_worker_warms_the_figures_of_older_versions_too(services, world, monkeypatch):
    _, conn, _ = world
    store(services, journey(conn, "o1", ("awareness", utcnow() - 70 * DAY, None)))
    with services.session() as s:
        apply_map(s, conn, default_map_text(), author="a@x")
        older = list_map_versions(s, conn)[0]
        older.created_at = utcnow() - 60 * DAY
        s.add(older)
        s.commit()
        apply_map(s, conn, default_map_text().replace("expected_days: 14", "expected_days: 15", 1),
                  author="a@x")
    warm_analytics(services, conn)
    computed = []
    monkeypatch.setattr(CachedAnalytics, "_store", lambda self, key, answer: computed.append(key))
    with services.session() as s:
        row = list_map_versions(s, conn)[1]
        effect = versions_effect(s, [conn], map_in_force(s, conn).jmap, row)
    assert computed == []                                        # read back, not computed
    assert effect["connections"][0]["stages"][0]["before"]["reached"] == 1
