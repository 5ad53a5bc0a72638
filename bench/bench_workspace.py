"""Benchmark: the workspace funnel (GET /api/v1/analytics/funnel) and the /workspace page at
100,000 and 1,000,000 stored records, on SQLite and PostgreSQL.

Seeds two connections of half the records each (bench/analytics_seed.py) and links record n of
the first with record n+1 of the second (one person or deal: a third are people, the rest deals),
so every person's journey spans two CRMs' records. Asks four views (all time, the last 90 days,
one country over the last 365 days, one owner over the last 90): the first call of a view
computes it in SQL (*cold*: the analytics cache emptied), the next ``--repeat`` find it kept (*warm*). Prints, per call and view,
cold (one call) and warm p50/p95 against the 1 s goal, the peak memory growth over the calls, and the best possible
for a cold answer: one COUNT over the workspace's people summary (and, for comparison, one COUNT
over both connections' journey events joined to their links, what the funnel read before the
summary). The summary is made as the full people pass makes it, timed (the write side).

    .venv/bin/python -m bench.bench_workspace [--sizes 100000,1000000] [--dbs sqlite,postgres]
        [--repeat 5] [--keep] [--prefix journey_bench_ws]
"""
from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import insert, text, update
from sqlmodel import select

from bench.analytics_seed import journeys, seed
from bench.bench_analytics import (EMAIL, PASSWORD, SETTLED, database, main_over_sizes,
                                   peak_rss_mb, print_latencies, settle, signed_in,
                                   time_each_view, timed_call)
from integration.analytics_views import warm_analytics
from integration.app import create_app
from integration.config import Settings
from integration.services import build_services
from integration.store import people_summaries
from integration.store.models import Connection, RecordLink, RecordState
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.store.types import utcnow
from integration.sync.map_in_force import workspace_map
from mapping import default_map
from mapping.people import DEAL, PERSON

#: Link rows per INSERT.
CHUNK = 5000


def views() -> dict[str, dict[str, str]]:
    """The query strings each call is asked with, by name."""
    today = utcnow().date()
    return {"all time": {},
            "90 days": {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()},
            "Germany, 365 days": {"from": (today - timedelta(days=364)).isoformat(),
                                  "to": today.isoformat(), "country": "Germany"},
            "Owner 07, 90 days": {"from": (today - timedelta(days=89)).isoformat(),
                                  "to": today.isoformat(), "owner": "300007"}}


def seed_workspace(services, tenant_id: int, ids: list[int], size: int) -> None:
    """Two connections of ``size // 2`` records each, record n of the first linked with record
    n+1 of the second."""
    half, now = size // 2, utcnow()
    for cid in ids:
        seed(services.engine, cid, default_map(), half, now)
    records = [(j.object, j.crm_id) for j in journeys(default_map(), half, now)]
    rows = []
    for n in range(half):
        kind = PERSON if n % 3 == 0 else DEAL
        for cid, (obj, crm_id) in ((ids[0], records[n]), (ids[1], records[(n + 1) % half])):
            rows.append({"tenant_id": tenant_id, "connection_id": cid, "object": obj,
                         "crm_id": crm_id, "kind": kind, "group_key": f"g{n:08d}", "updated_at": now})
        if len(rows) >= CHUNK or n == half - 1:
            with services.engine.begin() as conn:
                conn.execute(insert(RecordLink.__table__), rows)
            rows = []


def run(kind: str, size: int, repeat: int, workdir: Path, keep: bool, prefix: str, runs: int = 1,
        from_disk: bool = False) -> dict:
    """Seed (unless kept) and time the workspace calls; returns the figures."""
    with database(kind, size, workdir, keep, prefix) as (url, seeded_before):
        settings = Settings(data_dir=workdir, database_url=url, secret_key=Fernet.generate_key().decode(),
                            session_secret="bench")
        services = build_services(settings)
        with services.session() as db:
            tenant = get_or_create_tenant(db, "bench")
            token = issue_token(db, tenant.id)
            if not seeded_before:
                create_user(db, tenant.id, EMAIL, PASSWORD)
                db.add_all([Connection(tenant_id=tenant.id, name=f"ws{i}", crm="hubspot",
                                       account_id=str(i)) for i in (1, 2)])
                db.commit()
            ids = list(db.exec(select(Connection.id).where(Connection.tenant_id == tenant.id)
                               .order_by(Connection.id)))
            tenant_id = tenant.id
        started = time.monotonic()
        if not seeded_before:
            seed_workspace(services, tenant_id, ids, size)
        settle(services.engine)
        seeded = time.monotonic() - started
        summary_seconds = make_people_summary(services, tenant_id, ids)
        with services.engine.connect() as c:
            events, _ = timed_call(lambda: c.execute(text(
                "SELECT count(*) FROM journeyevent e JOIN recordlink l ON l.connection_id = "
                "e.connection_id AND l.object = e.object AND l.crm_id = e.crm_id "
                "WHERE l.tenant_id = :t"), {"t": tenant_id}).scalar())
            floor, _ = timed_call(lambda: c.execute(text(
                "SELECT count(*) FROM peoplesummary WHERE tenant_id = :t AND segment = ''"),
                {"t": tenant_id}).scalar())
        app = create_app(settings, services)
        api, web = app.test_client(), signed_in(app)
        headers = {"Authorization": f"Bearer {token}"}
        calls = {
            "funnel people": lambda q: api.get("/api/v1/analytics/funnel", headers=headers,
                                               query_string=q),
            "funnel deals": lambda q: api.get("/api/v1/analytics/funnel", headers=headers,
                                              query_string={**q, "unit": "deals"}),
            "workspace page": lambda q: web.get("/workspace", query_string={
                **q, **({"period": "custom"} if q else {})}),
        }
        rss_before = peak_rss_mb()
        figures = time_each_view(calls, views(), repeat, services, runs, from_disk)
        reopened = after_a_sync(services, web, tenant_id, ids)
        services.engine.dispose()
        return {"seeded": seeded, "floor": floor, "figures": figures, "summary": summary_seconds,
                "events": events, "rss_growth": peak_rss_mb() - rss_before, "reopened": reopened,
                "runs": runs, "from_disk": from_disk}


def after_a_sync(services, web, tenant_id: int, ids: list[int]) -> dict[str, float]:
    """A filtered view opened on the page (Germany, last 365 days), then a sync writes a record of
    the second connection and its people pass makes that person's row again: seconds the
    worker's warm-up then takes (``warm_analytics``: the connection's pages, the views opened,
    the workspace), and the page opened again after it, and without it (the view cold)."""
    q = {"country": "Germany", "period": "365d"}
    assert web.get("/workspace", query_string=q).status_code == 200

    def sync_writes_a_record() -> None:
        with services.session() as db:
            jmap = workspace_map(db, tenant_id).jmap
            crm_id = db.exec(select(RecordLink.crm_id).where(RecordLink.connection_id == ids[1])
                             .limit(1)).one()
            db.execute(update(RecordState).where(RecordState.connection_id == ids[1],
                                                 RecordState.crm_id == crm_id)
                       .values(updated_at=utcnow()))
            db.flush()
            # what the pass after the sync does: the basis taken after the write, then the row
            made_from = people_summaries.basis(db, ids, jmap)
            group = db.exec(select(RecordLink.group_key).where(RecordLink.connection_id == ids[1],
                                                               RecordLink.crm_id == crm_id)).one()
            people_summaries.refresh(db, tenant_id, ids, jmap, [group], made_from)
    sync_writes_a_record()
    cold, response = timed_call(lambda: web.get("/workspace", query_string=q))
    assert response.status_code == 200
    sync_writes_a_record()
    warm_up, _ = timed_call(lambda: warm_analytics(services, ids[1]))
    page, response = timed_call(lambda: web.get("/workspace", query_string=q))
    assert response.status_code == 200
    return {"cold": cold, "warm_up": warm_up, "page": page}


def make_people_summary(services, tenant_id: int, ids: list[int]) -> float | None:
    """Make the workspace's people summary as the full people pass does (one set-based rebuild,
    then on PostgreSQL a VACUUM) unless it is current, then analyse it; returns the seconds that
    took (None if none)."""
    with services.session() as db:
        jmap = workspace_map(db, tenant_id).jmap
        if people_summaries.is_current(db, tenant_id, ids, jmap):
            return None
        started = time.monotonic()
        people_summaries.rebuild(db, tenant_id, ids, jmap, people_summaries.basis(db, ids, jmap))
        db.commit()
    people_summaries.settle(services.engine)  # as the people pass does after it
    took = time.monotonic() - started
    with services.engine.begin() as c:
        c.execute(text("ANALYZE peoplesummary"))
    return took


def report(kind: str, size: int, result: dict) -> None:
    """Print one database and size's figures."""
    load = os.getloadavg()
    print_latencies(f"-- {kind}, {size:,} records in two connections ({SETTLED[kind]} in "
                    f"{result['seeded']:.0f} s; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
                    "on 2 cores)", "call", result, "one COUNT over the people summary")
    after = result["reopened"]
    print(f"   the Germany view after a sync: opened cold {after['cold'] * 1000:.0f} ms; opened after "
          f"the worker's warm-up {after['page'] * 1000:.0f} ms (the warm-up took {after['warm_up']:.1f} s: "
          "the connection's pages, the views opened this week, the workspace)")
    made = "kept from before" if result["summary"] is None else f"made in {result['summary']:.1f} s"
    print(f"   people summary {made}; one COUNT over the linked events (what the funnel read "
          f"before it) {result['events'] * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> None:
    """Seed, time and print (see the module docstring)."""
    main_over_sizes(__doc__, run, report, argv, prefix="journey_bench_ws", cold_runs=True)


if __name__ == "__main__":
    main()
