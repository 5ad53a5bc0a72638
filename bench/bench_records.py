"""Benchmark: the record list's pages at 100,000 and 1,000,000 stored records, on SQLite and
PostgreSQL, read by seeking (keyset paging) against reading them by OFFSET.

Seeds a connection with the analytics benchmark's synthetic book (bench/analytics_seed.py), then
asks the REST API ``--repeat`` times for the first page and a deep page (90 % of the way down) of
each sort (stalled by days over; all by name, owner name, stage, next best action), a search, the
records web page (each list's deep page and the views of ``WEB_VIEWS``: every sort both ways,
filters, a period, searches; each counts its records up to ``COUNT_LIMIT``), the exact counts of
``ASKED_COUNTS`` ("Count them all": the first call counts every match, the next read it back; timed
apart from the goal, as the reader asked for them), and the whole stalled list as CSV. For each deep page it also times what OFFSET
paging costs at the same depth (the same rows by ORDER BY stored value, id OFFSET n) beside the
seek's own queries (both without the HTTP and JSON around them), and prints the best
possible: one index probe for 50 rows (ORDER BY id LIMIT 50).

    .venv/bin/python -m bench.bench_records [--sizes 100000,1000000] [--dbs sqlite,postgres] [--repeat 5]
        [--keep [--prefix NAME]]

With ``--keep`` the seeded databases stay (see ``bench.bench_analytics.database``) and a later
``--keep`` run with the same ``--prefix`` times them again without seeding.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

from cryptography.fernet import Fernet
from sqlalchemy import delete, func, text
from sqlmodel import select

from bench.analytics_seed import seed
from bench.bench_analytics import (EMAIL, PASSWORD, database, main_over_sizes, peak_rss_mb,
                                   percentile, signed_in)
from integration.app import create_app
from integration.config import Settings
from integration.map_review import apply_map
from integration.analytics import RecordFilter
from integration.record_pages import DIRECTIONS, SORTS, encode_cursor, label_order, order_clauses, read_page
from integration.services import build_services
from integration.store.models import AnalyticsCache, Connection, RecordState
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.store.types import utcnow
from mapping import default_map, default_map_text

PAGE = 50
GOAL_SECONDS = 1.0
#: (name, sort, filters) of the lists timed.
LISTS = (("stalled by days over", "days_over", {"stalled": "true"}),
         ("all by name", "name", {}), ("all by owner name", "owner", {}),
         ("all by stage", "stage", {}), ("all by next action", "next_best_action", {}))
#: (name, query string) of the records web page's views timed besides each list's deep page: the
#: first page of every sort both ways, filters, a period and searches (long ones: substrings;
#: one or two letters or digits: word starts).
WEB_VIEWS = (("stalled", {"stalled": "1"}), ("all", {}),
             *((f"all by {sort} {order}", {"sort": sort, "order": order})
               for sort in SORTS for order in DIRECTIONS),
             ("stalled of one owner and persona", {"stalled": "1", "owner": "300007",
                                                   "persona": "small_buyer"}),
             ("country and lead source by name", {"country": "Kenya", "lead_source": "EVENT",
                                                  "sort": "name"}),
             ("pipeline and object by stage", {"pipeline": "default", "object": "contact",
                                               "sort": "stage"}),
             ("last 90 days by entered date", {"period": "90d", "sort": "entered_at"}),
             ("search q=Company 4242", {"q": "Company 4242"}),
             ("search q=Record 1000 by name", {"q": "Record 1000", "sort": "name"}),
             ("search q=42 (a word start)", {"q": "42"}),
             ("search q=r (a word start of every record)", {"q": "r"}),
             ("search q=zq (a word start, no match)", {"q": "zq"}))
#: (name, query string) of the web page's views whose exact count is asked for ("Count them all").
ASKED_COUNTS = tuple((f"count them all: {name.split(' (')[0]}", {**params, "count": "exact"})
                     for name, params in WEB_VIEWS if name.startswith(("country", "pipeline", "search q=42")))


def deep_cursor(db: Any, cid: int, sort: str, stalled: bool) -> tuple[str, int]:
    """A cursor deep down ``sort`` and how many rows come before it (found once, untimed): for a
    value column the row 90 % of the way through the rows holding a value; for a label column the
    start of its last label (the deepest stretch an index serves)."""
    spec = SORTS[sort]
    where = [RecordState.connection_id == cid] + ([RecordState.stalled.is_(True)] if stalled else [])
    count = lambda *more: db.exec(select(func.count()).select_from(RecordState).where(*where, *more)).one()
    if spec.labelled:
        last = label_order(db, cid, sort, default_map())[-1]
        return encode_cursor(last, None, 0), count(spec.column.is_not(None), spec.column != last)
    depth = int(count(spec.column.is_not(None)) * 0.9)
    row = db.exec(select(RecordState).where(*where, spec.column.is_not(None))
                  .order_by(*order_clauses(sort)).offset(depth).limit(1)).one()
    return encode_cursor("values", getattr(row, spec.column.key), row.id), depth


def offset_page(db: Any, cid: int, sort: str, depth: int, stalled: bool) -> Callable[[], Any]:
    """The same depth read the OFFSET way (what the list did before)."""
    where = [RecordState.connection_id == cid] + ([RecordState.stalled.is_(True)] if stalled else [])
    return lambda: list(db.exec(select(RecordState).where(*where).order_by(*order_clauses(sort))
                                .offset(depth).limit(PAGE)))


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(p50, p95) seconds of ``repeat`` calls; a response that is not 200 stops the run."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
        status = getattr(result, "status_code", 200)
        assert status == 200, (status, result.get_data(as_text=True)[:300])
    return percentile(times, 0.5), percentile(times, 0.95)


def prepare(services: Any, size: int, seeded_before: bool) -> tuple[int, str]:
    """The benchmark's connection (seeded with ``size`` records unless a kept database holds them
    already: the same tenant, user and connection as bench_analytics') and an API token."""
    with services.session() as db:
        tenant_id = get_or_create_tenant(db, "bench").id
        token = issue_token(db, tenant_id)
        if seeded_before:
            cid = db.exec(select(Connection.id).where(Connection.name == "bench")).one()
            # kept by bench_analytics, which seeds the same book without next best actions
            unlabelled = db.exec(select(RecordState.id).where(
                RecordState.next_best_action.is_not(None)).limit(1)).first() is None
        else:
            create_user(db, tenant_id, EMAIL, PASSWORD)
            conn = Connection(tenant_id=tenant_id, name="bench", crm="hubspot", account_id="1")
            db.add(conn)
            db.commit()
            cid = conn.id
            apply_map(db, cid, default_map_text(), author="bench")
    if not seeded_before:
        seed(services.engine, cid, default_map(), size, utcnow())
    if not seeded_before or unlabelled:
        give_next_actions(services.engine)
    return cid, token


def give_next_actions(engine: Any) -> None:
    """The seed leaves next best actions empty; give the stalled ones a few distinct texts."""
    with engine.begin() as c:
        c.execute(text("UPDATE recordstate SET next_best_action = 'Call about ' || stage "
                       "|| ' (' || persona || ')' WHERE stalled"))
        c.execute(text("ANALYZE"))


def run(kind: str, size: int, repeat: int, workdir: Path, keep: bool = False,
        prefix: str = "journey_bench") -> dict:
    """Seed ``size`` records on ``kind`` (unless kept from an earlier run) and time the lists;
    returns the figures."""
    with database(kind, size, workdir, keep, prefix) as (url, seeded_before):
        settings = Settings(data_dir=workdir, database_url=url, secret_key=Fernet.generate_key().decode(),
                            session_secret="bench")
        services = build_services(settings)
        started = time.monotonic()
        cid, token = prepare(services, size, seeded_before)
        seeded = time.monotonic() - started
        with services.session() as db:  # the first view of each list counts its records afresh
            db.execute(delete(AnalyticsCache))
            db.commit()
        app = create_app(settings, services)
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        web = signed_in(app)

        def records(**params: Any) -> Any:
            return api.get(f"/api/v1/connections/{cid}/records", headers=headers,
                           query_string={"limit": PAGE, **params})

        def page(**params: Any) -> Any:
            return web.get(f"/connections/{cid}/records", query_string=params)

        figures: dict[str, tuple[float, float]] = {}
        offsets: dict[str, tuple[float, float]] = {}
        seeks: dict[str, tuple[float, float]] = {}
        with services.session() as db:
            floor = timed(lambda: list(db.exec(select(RecordState.id).where(
                RecordState.connection_id == cid).order_by(RecordState.id).limit(PAGE))), repeat)[0]
            stalled_total = db.exec(select(func.count()).select_from(RecordState).where(
                RecordState.connection_id == cid, RecordState.stalled.is_(True))).one()
            rss_before = peak_rss_mb()
            for name, sort, flt in LISTS:
                stalled = bool(flt)
                figures[f"{name}, first page"] = timed(lambda: records(sort=sort, **flt), repeat)
                cursor, depth = deep_cursor(db, cid, sort, stalled)
                figures[f"{name}, deep page"] = timed(
                    lambda: records(sort=sort, after=cursor, **flt), repeat)
                seeks[f"{name}, deep page"] = timed(lambda: read_page(
                    db, cid, RecordFilter(stalled=True if stalled else None), default_map(),
                    sort=sort, limit=PAGE, after=cursor), repeat)
                offsets[f"{name}, deep page"] = timed(offset_page(db, cid, sort, depth, stalled), repeat)
                figures[f"web page, {name}, deep page"] = timed(lambda: page(
                    sort=sort, after=cursor, **({"stalled": "1"} if stalled else {})), repeat)
        figures["search q=Company 4242"] = timed(lambda: records(q="Company 4242"), repeat)
        for name, params in WEB_VIEWS:
            figures[f"web page, {name}"] = timed(lambda: page(**params), repeat)
        asked = {name: timed(lambda: page(**params), repeat) for name, params in ASKED_COUNTS}
        started = time.perf_counter()
        export = api.get(f"/api/v1/connections/{cid}/records", headers=headers,
                         query_string={"stalled": "true", "format": "csv"})
        csv_bytes = sum(len(chunk) for chunk in export.response)
        csv_seconds = time.perf_counter() - started
        services.engine.dispose()
        return {"seeded": seeded, "floor": floor, "figures": figures, "offsets": offsets, "seeks": seeks,
                "asked": asked,
                "csv": (stalled_total, csv_bytes, csv_seconds),
                "rss_growth": peak_rss_mb() - rss_before}


def report(kind: str, size: int, result: dict) -> None:
    """Print one database and size's figures."""
    load = os.getloadavg()[0]
    print(f"-- {kind}, {size:,} records (seeded in {result['seeded']:.0f} s; load average "
          f"{load:.1f} on 2 cores; pages of {PAGE})")
    print(f"   {'list (API answer, web page)':<52} {'p50 ms':>8} {'p95 ms':>8}   {'query alone: seek':>17} "
          f"{'OFFSET':>7}")
    for name, (p50, p95) in result["figures"].items():
        seek, offset = result["seeks"].get(name), result["offsets"].get(name)
        extra = f"   {seek[0] * 1000:>17.1f} {offset[0] * 1000:>7.1f}" if offset else ""
        print(f"   {name:<52} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f}{extra}")
    print("   asked for, not in the goal (the first call counts every match, the next read it back):")
    for name, (p50, p95) in result["asked"].items():
        print(f"   {name:<52} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f}")
    worst = max(p95 for _, p95 in result["figures"].values())
    rows, size_bytes, seconds = result["csv"]
    print(f"   slowest p95 {worst * 1000:.0f} ms (goal < {GOAL_SECONDS * 1000:.0f} ms: "
          f"{'met' if worst < GOAL_SECONDS else 'NOT met'}); best possible (50 ids by one index "
          f"probe) {result['floor'] * 1000:.1f} ms, ratio {worst / result['floor']:.0f}x")
    print(f"   CSV of the {rows:,} stalled records: {size_bytes / 1e6:.1f} MB in {seconds:.1f} s "
          f"({rows / seconds:,.0f} rows/s); peak memory growth over every call "
          f"{result['rss_growth']:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    """Seed, time and print (see the module docstring)."""
    main_over_sizes(__doc__, run, report, argv, repeat=5)


if __name__ == "__main__":
    main()
