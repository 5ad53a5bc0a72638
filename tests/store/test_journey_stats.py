"""Journey analytics aggregated in SQL, on SQLite and PostgreSQL, against the same figures worked
out in Python from the synthetic journeys (bench/analytics_seed.py) that were stored."""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from bench.analytics_seed import journeys, seed
from integration import journey_stats
from integration.analytics import RecordFilter
from integration.store.models import Connection
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from tests.store.funnel_reference import count_into_funnels

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
COUNT = 600
JMAP = default_map()
KEYS = JMAP.stage_keys
SINCE = NOW - timedelta(days=200)
#: Filters run through the join to the records; the period alone reads the events only.
CASES = {"all": RecordFilter(), "period": RecordFilter(since=SINCE, until=NOW - timedelta(days=20)),
         "country": RecordFilter(country="Germany"), "owner": RecordFilter(owner="300003"),
         "persona+period": RecordFilter(persona="small_buyer", since=SINCE)}


@pytest.fixture(scope="module")
def book(services):
    """The connection id holding COUNT synthetic journeys."""
    with services.session() as db:
        tenant = get_or_create_tenant(db, "stats")
        conn = Connection(tenant_id=tenant.id, name="stats", crm="hubspot", account_id="1")
        db.add(conn)
        db.commit()
        cid = conn.id
    seed(services.engine, cid, JMAP, COUNT, NOW)
    return cid


def chosen(flt):
    """The synthetic journeys the filter selects, each with its stays entered in the period."""
    for j in journeys(JMAP, COUNT, NOW):
        if flt.owner and j.owner_id != flt.owner or flt.country and j.country != flt.country \
                or flt.persona and j.persona != flt.persona:
            continue
        stays = [(i, s) for i, s in enumerate(j.stays)
                 if (flt.since is None or s[1] >= flt.since) and (flt.until is None or s[1] < flt.until)]
        yield j, stays


def calendar_days(entered, exited):
    """Days in a stage: calendar days (UTC) from entering to leaving, or to today."""
    return max(0, ((exited or NOW).date() - entered.date()).days)


@pytest.mark.parametrize("case", CASES)
def test_funnel_types(services, book, case):
    flt = CASES[case]
    reached, entered, strict = Counter(), Counter(), Counter()
    for _, stays in chosen(flt):
        firsts = {}
        for _, (stage, at, _) in stays:
            if stage in KEYS:
                firsts.setdefault(stage, at)
        count_into_funnels(firsts, KEYS, reached, entered, strict)
    with services.session() as db:
        rows = journey_stats.funnel_report(db, book, JMAP, flt)
    assert [(r["reached"], r["entered"], r["strict"]) for r in rows] == [
        (reached[k], entered[k], strict[k]) for k in KEYS]
    assert rows[0]["reached"] > 0
    if case == "all":
        assert any(r["strict"] < r["entered"] for r in rows), "the book has skips and back moves"


@pytest.mark.parametrize("case", CASES)
def test_time_in_stage_percentiles(services, book, case):
    flt = CASES[case]
    days = defaultdict(list)
    for _, stays in chosen(flt):
        for _, (stage, at, until) in stays:
            if stage in KEYS:
                days[stage].append(calendar_days(at, until))
    with services.session() as db:
        rows = {r["stage"]: r for r in journey_stats.time_in_stage_report(db, book, JMAP, flt, NOW)}
    for key in KEYS:
        values = days[key]
        assert rows[key]["count"] == len(values)
        if len(values) >= 2:
            cuts = statistics.quantiles(values, n=100, method="inclusive")
            assert rows[key]["median"] == pytest.approx(statistics.median(values), abs=0.01)
            assert (rows[key]["p25"], rows[key]["p75"], rows[key]["p90"]) == pytest.approx(
                (cuts[24], cuts[74], cuts[89]), abs=0.01)
        elif values:
            assert rows[key]["median"] == values[0]
        else:
            assert rows[key]["median"] is None


def moves(flt):
    found = Counter()
    for j, stays in chosen(flt):
        for i, (stage, _, _) in stays:
            following = j.stays[i + 1][0] if i + 1 < len(j.stays) else None
            found[(stage, following)] += 1
    return found


@pytest.mark.parametrize("case", CASES)
def test_outcomes_and_journeys_count_every_move(services, book, case):
    flt = CASES[case]
    expected = moves(flt)
    with services.session() as db:
        assert journey_stats.transitions(db, book, flt) == dict(expected)
        outcomes = {r["stage"]: r for r in journey_stats.outcome_report(db, book, JMAP, flt)}
        report = journey_stats.journey_report(db, book, JMAP, flt, top=5)
    consideration = outcomes["consideration"]
    assert consideration["stays"] == sum(n for (s, _), n in expected.items() if s == "consideration")
    assert consideration["exits"]["lost"] == expected[("consideration", "lost")]
    assert consideration["still_there"] == expected[("consideration", None)]
    assert consideration["moved_on"] == sum(n for (s, t), n in expected.items() if s == "consideration"
                                            and t in KEYS and KEYS.index(t) > 1)
    skipped = {r["stage"]: r["moves"] for r in report["skipped"]}
    assert skipped["decision"] == sum(n for (s, t), n in expected.items() if s in KEYS and t in KEYS
                                      and KEYS.index(s) < 2 < KEYS.index(t))
    repeated = {r["stage"]: r["moves"] for r in report["repeated"]}
    assert repeated["awareness"] == sum(n for (s, t), n in expected.items()
                                        if t == "awareness" and s in KEYS)


@pytest.mark.parametrize("case", CASES)
def test_common_paths(services, book, case):
    flt = CASES[case]
    paths = Counter(tuple(s[0] for _, s in stays) for _, stays in chosen(flt) if stays)
    with services.session() as db:
        found = journey_stats.common_paths(db, book, flt, 8)
    assert [n for _, n in found] == sorted(paths.values(), reverse=True)[:8]
    for stages, n in found:
        assert paths[tuple(stages)] == n


def bucket(at, unit):
    day = at.date()
    return (day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)).isoformat()


@pytest.mark.parametrize("unit", ["week", "month"])
def test_trends(services, book, unit):
    flt = journey_stats.last_year(RecordFilter(), NOW)
    stays, moved, days = Counter(), Counter(), defaultdict(list)
    for j, chosen_stays in chosen(flt):
        for i, (stage, at, until) in chosen_stays:
            if stage not in KEYS:
                continue
            point = (bucket(at, unit), stage)
            stays[point] += 1
            following = j.stays[i + 1][0] if i + 1 < len(j.stays) else None
            moved[point] += following in KEYS and KEYS.index(following) > KEYS.index(stage)
            days[point].append(calendar_days(at, until))
    with services.session() as db:
        report = journey_stats.trend_report(db, book, JMAP, flt, unit, NOW)
    assert report["unit"] == unit and report["buckets"] == sorted({b for b, _ in stays})
    found = {(p["bucket"], s["stage"]): p for s in report["stages"] for p in s["points"]}
    assert set(found) == set(stays)
    for point, row in found.items():
        assert (row["stays"], row["moved_on"]) == (stays[point], moved[point])
        assert row["median"] == pytest.approx(statistics.median(days[point]), abs=0.01)


def test_cohorts(services, book):
    flt = RecordFilter(since=NOW - timedelta(days=365))
    cohorts = defaultdict(Counter)
    for j in journeys(JMAP, COUNT, NOW):
        entries = [(at, KEYS.index(stage)) for stage, at, _ in j.stays if stage in KEYS]
        if entries and min(entries)[0] >= flt.since:
            cohorts[bucket(min(entries)[0], "month")][max(i for _, i in entries)] += 1
    with services.session() as db:
        rows = journey_stats.cohort_report(db, book, JMAP, flt)
    assert [r["cohort"] for r in rows] == sorted(cohorts)
    for row in rows:
        furthest = cohorts[row["cohort"]]
        assert row["records"] == sum(furthest.values())
        assert [r["records"] for r in row["reached"]] == [
            sum(n for i, n in furthest.items() if i >= k) for k in range(len(KEYS))]
