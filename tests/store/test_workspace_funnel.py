"""The workspace funnel counted in SQL, on SQLite and PostgreSQL: a person stands for all of
their linked records, across connections, against the same figures worked out in Python from the
synthetic journeys (bench/analytics_seed.py) that were stored."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from bench.analytics_seed import journeys, seed
from integration.analytics import RecordFilter
from integration.people import linked_funnel_counts
from integration.store.models import Connection, RecordLink
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from mapping.people import PERSON

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
COUNT = 300
JMAP = default_map()
KEYS = JMAP.stage_keys
CASES = {"all": RecordFilter(),
         "period": RecordFilter(since=NOW - timedelta(days=300), until=NOW - timedelta(days=20)),
         "country": RecordFilter(country="Germany"),
         "country+period": RecordFilter(country="Germany", since=NOW - timedelta(days=400))}


@pytest.fixture(scope="module")
def workspace(services):
    """(tenant id, [connection ids]): two connections holding the same COUNT journeys, person n
    linking record n of the first with record n+1 of the second (so each person's journey is
    two different records' stays)."""
    with services.session() as db:
        tenant = get_or_create_tenant(db, "workspace-funnel")
        conns = [Connection(tenant_id=tenant.id, name=f"c{i}", crm="hubspot", account_id=str(i))
                 for i in (1, 2)]
        db.add_all(conns)
        db.commit()
        ids, tenant_id = [c.id for c in conns], tenant.id
    for cid in ids:
        seed(services.engine, cid, JMAP, COUNT, NOW)
    records = list(journeys(JMAP, COUNT, NOW))
    links = []
    for n in range(COUNT):
        for cid, record in ((ids[0], records[n]), (ids[1], records[(n + 1) % COUNT])):
            links.append({"tenant_id": tenant_id, "connection_id": cid, "object": record.object,
                          "crm_id": record.crm_id, "kind": PERSON, "group_key": f"p{n}",
                          "updated_at": NOW})
    with services.engine.begin() as conn:
        conn.execute(insert(RecordLink.__table__), links)
    return tenant_id, ids


def expected(flt):
    """The three counts per stage, from each person's two records' stays in the period."""
    records = list(journeys(JMAP, COUNT, NOW))
    reached, entered, strict = Counter(), Counter(), Counter()
    for n in range(COUNT):
        firsts = {}
        for j in (records[n], records[(n + 1) % COUNT]):
            if flt.country and j.country != flt.country:
                continue
            for stage, at, _ in j.stays:
                if stage in KEYS and (flt.since is None or at >= flt.since) and (
                        flt.until is None or at < flt.until):
                    firsts[stage] = min(at, firsts.get(stage, at))
        if not firsts:
            continue
        furthest = max(KEYS.index(s) for s in firsts)
        for i, key in enumerate(KEYS):
            reached[key] += i <= furthest
            entered[key] += key in firsts
        for i, key in enumerate(KEYS):
            if key not in firsts or (i and firsts[key] < firsts[KEYS[i - 1]]):
                break
            strict[key] += 1
    return [(reached[k], entered[k], strict[k]) for k in KEYS]


@pytest.mark.parametrize("case", CASES)
def test_each_person_counts_once_with_all_of_their_records(services, workspace, case):
    tenant_id, ids = workspace
    with services.session() as db:
        counts = linked_funnel_counts(db, tenant_id, PERSON, ids, KEYS, CASES[case])
        one_connection = linked_funnel_counts(db, tenant_id, PERSON, ids[:1], KEYS, CASES[case])
        deals = linked_funnel_counts(db, tenant_id, "deal", ids, KEYS, CASES[case])
    assert counts == expected(CASES[case])
    assert counts[0][0] > 0
    # people reach further with two records than with one, and nobody links deals here
    assert sum(r for r, _, _ in counts) > sum(r for r, _, _ in one_connection)
    assert deals == [(0, 0, 0)] * len(KEYS)


def test_another_tenant_sees_none_of_them(services, workspace):
    _, ids = workspace
    with services.session() as db:
        stranger = get_or_create_tenant(db, "workspace-funnel-stranger").id
        assert linked_funnel_counts(db, stranger, PERSON, ids, KEYS, RecordFilter()) == [(0, 0, 0)] * len(KEYS)
