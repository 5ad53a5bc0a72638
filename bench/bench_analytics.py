"""Benchmark: every analytics call and the dashboard at 100,000 and 1,000,000 stored records, on
SQLite and PostgreSQL.

Seeds a connection with synthetic journeys (bench/analytics_seed.py: stage entries with skips, back
moves and exits; about four per record), written in bulk SQL, then asks each endpoint through the
Flask app (API token; the dashboard signed in) for four views: all time, the last 90 days, one
owner since 365 days ago, and one country (an eighth of the records) over the last 365 days. The
first call of a view computes it in SQL (*cold*: the analytics cache emptied before each call's
view); the next ``--repeat`` calls find it in the analytics cache until the data changes (*warm*).
Prints per endpoint and view the cold time and the warm p50/p95, the slowest figures against the
1 s goal, the process's peak memory growth over the calls (flat memory: the rows stay in the
database), and the best possible for a cold answer: one COUNT over the connection's journey
events.

    .venv/bin/python -m bench.bench_analytics [--sizes 100000,1000000] [--dbs sqlite,postgres] [--repeat 5] [--keep]
        [--runs 3] [--from-disk]

``--runs`` times every view that many times over and reports each call's cold p50, p95 and
slowest over the runs; ``--from-disk`` (root) drops the kernel's page cache before each cold
call, so that call reads what it needs from disk: the worst case, a machine just started or one
that paged the database out (this machine's guest pages out what it left untouched a minute).

PostgreSQL comes from JOURNEY_TEST_POSTGRES_URL (default the local ``test`` database); the
benchmark creates its own database beside it and drops it afterwards. With ``--keep`` the seeded
databases stay (``journey_bench_<size>`` and ``$TMPDIR/journey-bench-<size>.sqlite3``) and a later
``--keep`` run times them again without seeding.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Iterator

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, delete, text
from sqlmodel import select
from sqlalchemy.engine import make_url

from bench.analytics_seed import seed
from integration.app import create_app
from integration.config import Settings
from integration.map_review import apply_map
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.models import AnalyticsCache, Connection
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.store.types import utcnow
from mapping import default_map, default_map_text

PG_URL = os.environ.get("JOURNEY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GOAL_SECONDS = 1.0
EMAIL, PASSWORD = "bench@example.com", "bench password 1"
#: Where root tells the kernel to drop its page cache (``--from-disk``).
DROP_CACHES = Path("/proc/sys/vm/drop_caches")
ENDPOINTS = ("funnel", "time-in-stage", "kpis", "outcomes", "trends", "cohorts", "journeys", "stalled")


@contextmanager
def database(kind: str, size: int, workdir: Path, keep: bool,
             prefix: str = "journey_bench") -> Iterator[tuple[str, bool]]:
    """A migrated database URL of ``kind`` and whether it holds the seeded book already; dropped
    afterwards unless ``keep`` (kept ones are named ``<prefix>_<size>``, so that engineers sharing
    the machine each keep their own)."""
    if kind == "sqlite":
        kept = f"{prefix.replace('_', '-')}-{size}.sqlite3"
        path = Path(tempfile.gettempdir()) / kept if keep else \
            workdir / f"bench-{uuid.uuid4().hex[:6]}.sqlite3"
        url, existed = f"sqlite:///{path}", path.exists()
        upgrade(url)
        yield url, existed
        return
    name = f"{prefix}_{size}" if keep else f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        existed = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not existed:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url, bool(existed)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                                  "AND pid <> pg_backend_pid()"))
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def views() -> dict[str, dict[str, str]]:
    """The query strings each endpoint is asked with, by name."""
    today = utcnow().date()
    return {"all time": {},
            "90 days": {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()},
            # the pages' longest preset, over the whole connection: most records reach into it
            "365 days": {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()},
            "owner 07 since 365 days": {"from": (today - timedelta(days=364)).isoformat(),
                                        "owner": "300007"},
            # an eighth of the records, with both bounds as the pages send them
            "Germany, 365 days": {"from": (today - timedelta(days=364)).isoformat(),
                                  "to": today.isoformat(), "country": "Germany"}}


#: What :func:`settle` did, per database kind, as the figures' heading says it.
SETTLED = {"postgres": "seeded, vacuumed and analysed", "sqlite": "seeded and analysed"}


def settle(engine) -> None:
    """Leave the seeded tables as a running service's are: analysed (a sync analyses the tables
    it fills as they double, and the stall pass any left unanalysed:
    ``integration/store/planner_statistics.py``), and on PostgreSQL vacuumed too, as autovacuum
    leaves them. Freshly bulk-written pages are not marked all-visible, so an
    index-only scan still reads the table (one country's records: a parallel scan of the whole
    table, 167 ms, where the covering index takes 17 ms once vacuumed)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as c:
            c.execute(text("ANALYZE"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(kind: str, size: int, repeat: int, workdir: Path, keep: bool = False,
        prefix: str = "journey_bench", runs: int = 1, from_disk: bool = False) -> dict:
    """Seed ``size`` records on ``kind`` (unless kept from an earlier run) and time every
    endpoint (``runs`` times, from disk: :func:`time_each_view`); returns the figures."""
    with database(kind, size, workdir, keep, prefix) as (url, seeded_before):
        settings = Settings(data_dir=workdir, database_url=url, secret_key=Fernet.generate_key().decode(),
                            session_secret="bench")
        services = build_services(settings)
        with services.session() as db:
            tenant = get_or_create_tenant(db, "bench")
            token = issue_token(db, tenant.id)
            if not seeded_before:
                create_user(db, tenant.id, EMAIL, PASSWORD)
                db.add(Connection(tenant_id=tenant.id, name="bench", crm="hubspot", account_id="1"))
                db.commit()
            cid = db.exec(select(Connection.id).where(Connection.name == "bench")).one()
            if not seeded_before:
                apply_map(db, cid, default_map_text(), author="bench")
            # every run times the answers computed afresh first
            db.execute(delete(AnalyticsCache))
        started = time.monotonic()
        events = seed(services.engine, cid, default_map(), size, utcnow()) if not seeded_before else \
            services.engine.connect().execute(text("SELECT count(*) FROM journeyevent")).scalar()
        settle(services.engine)
        seeded = time.monotonic() - started
        with services.engine.connect() as c:
            floor, _ = timed_call(lambda: c.execute(text(
                "SELECT count(*) FROM journeyevent WHERE connection_id = :c"), {"c": cid}).scalar())
        app = create_app(settings, services)
        api, web = app.test_client(), signed_in(app)
        headers = {"Authorization": f"Bearer {token}"}
        calls = {name: (lambda q, n=name: api.get(f"/api/v1/connections/{cid}/analytics/{n}",
                                                   headers=headers, query_string=q))
                 for name in ENDPOINTS}
        calls["records page"] = lambda q: api.get(f"/api/v1/connections/{cid}/records",
                                                  headers=headers, query_string={**q, "stalled": "true"})
        for page in ("dashboard", "journeys"):
            calls[f"{page} page"] = lambda q, page=page: web.get(
                f"/connections/{cid}/{page}", query_string={**q, **({"period": "custom"} if q else {})})
        rss_before = peak_rss_mb()
        figures = time_each_view(calls, views(), repeat, services, runs, from_disk)
        services.engine.dispose()
        return {"seeded": seeded, "events": events, "floor": floor, "figures": figures,
                "rss_growth": peak_rss_mb() - rss_before, "runs": runs, "from_disk": from_disk}


def forget_answers(services) -> None:
    """Empty the analytics cache: the next call of a view computes it."""
    with services.session() as db:
        db.execute(delete(AnalyticsCache))
        db.commit()


def timed_call(call):
    """Seconds ``call()`` took, and what it returned."""
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def signed_in(app):
    """A test client of ``app`` signed in as the benchmark's web user."""
    web = app.test_client()
    page = web.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    web.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf})
    return web


def time_views(calls: dict, asked: list[dict], repeat: int, before_view=None) -> dict:
    """Each call asked each view once cold and ``repeat`` times warm: name -> (cold seconds,
    warm seconds), lists. ``before_view()`` runs before a view's first call."""
    timings = {}
    for name, call in calls.items():
        cold, warm = timings.setdefault(name, ([], []))
        for q in asked:
            if before_view:
                before_view()
            for round_ in range(repeat + 1):
                elapsed, response = timed_call(lambda: call(q))
                assert response.status_code == 200, (name, q, response.status_code,
                                                     response.get_data(as_text=True)[:300])
                (warm if round_ else cold).append(elapsed)
    return timings


def time_each_view(calls: dict, asked: dict[str, dict], repeat: int, services, runs: int = 1,
                   from_disk: bool = False) -> dict:
    """:func:`time_views` per view, ``runs`` times over: "call, view" -> (cold p50, cold p95,
    cold max over the runs, warm p50, warm p95) in seconds. Each call's first ask of a view is
    cold: a page must not find the figures the endpoints asked before it computed; with
    ``from_disk`` the kernel's page cache is dropped before it too, so it reads the database
    from disk (:func:`drop_page_cache`)."""
    def before_view() -> None:
        forget_answers(services)
        if from_disk:
            drop_page_cache()

    timings: dict[str, tuple[list, list]] = {}
    for _ in range(runs):
        for view, q in asked.items():
            for name, (cold, warm) in time_views(calls, [q], repeat, before_view).items():
                kept = timings.setdefault(f"{name}, {view}", ([], []))
                kept[0].extend(cold)
                kept[1].extend(warm)
    return {key: (statistics.median(cold), percentile(cold, 0.95), max(cold),
                  percentile(warm, 0.5), percentile(warm, 0.95))
            for key, (cold, warm) in timings.items()}


def drop_page_cache() -> None:
    """Write out dirty pages and drop the kernel's page cache (root only): the next read of the
    database comes from disk, as after a restart of the machine. PostgreSQL keeps its own
    buffers (128 MB by default): a server restart would empty those too."""
    os.sync()
    DROP_CACHES.write_text("3\n")


def print_latencies(heading: str, first_column: str, result: dict, floor_what: str) -> None:
    """Print a cold/warm latency table under ``heading`` and its summary against the goal."""
    print(heading)
    width = max(16, *(len(name) for name in result["figures"]))
    print(f"   {first_column:<{width}} {'cold p50':>9} {'cold p95':>9} {'cold max':>9} {'warm p50':>9} "
          f"{'warm p95':>9}  (ms)")
    for name, values in result["figures"].items():
        print(f"   {name:<{width}} " + " ".join(f"{v * 1000:>9.0f}" for v in values))
    cold = max(v[1] for v in result["figures"].values())
    slowest = max(v[2] for v in result["figures"].values())
    warm = max(v[4] for v in result["figures"].values())
    print(f"   {result['runs']} run(s){', page cache dropped before each cold call' if result['from_disk'] else ''}: "
          f"slowest cold p95 {cold * 1000:.0f} ms (slowest cold call {slowest * 1000:.0f} ms), slowest warm p95 "
          f"{warm * 1000:.0f} ms (goal < "
          f"{GOAL_SECONDS * 1000:.0f} ms p95: cold {'met' if cold < GOAL_SECONDS else 'NOT met'}, warm "
          f"{'met' if warm < GOAL_SECONDS else 'NOT met'}); best possible cold ({floor_what}) "
          f"{result['floor'] * 1000:.0f} ms, slowest cold / that {cold / result['floor']:.1f}x; "
          f"peak memory growth over the calls {result['rss_growth']:.0f} MB")


def main_over_sizes(doc: str, run, report, argv: list[str] | None, repeat: int = 3,
                    prefix: str = "journey_bench", cold_runs: bool = False) -> None:
    """The benchmarks' shared command line: seed and time each of ``--sizes`` on each of
    ``--dbs`` with ``run`` and print each with ``report``. With ``cold_runs`` ``run`` also takes
    ``runs`` and ``from_disk`` (:func:`time_each_view`)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="record counts, comma-separated")
    parser.add_argument("--dbs", default="sqlite,postgres", type=_databases,
                        help="comma-separated: sqlite, postgres")
    parser.add_argument("--repeat", type=int, default=repeat, help="warm calls of each view")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded databases (<prefix>_<size>) and reuse them")
    parser.add_argument("--prefix", default=prefix,
                        help="names of the databases (see database()): each engineer their own")
    if cold_runs:
        parser.add_argument("--runs", type=int, default=1,
                            help="time every view this many times over (cold p95 over the runs)")
        parser.add_argument("--from-disk", action="store_true",
                            help="drop the kernel's page cache before each cold call (root only)")
    args = parser.parse_args(argv)
    extra = {"runs": args.runs, "from_disk": args.from_disk} if cold_runs else {}
    if extra.get("from_disk") and not os.access(DROP_CACHES, os.W_OK):
        parser.error(f"--from-disk drops the page cache by writing {DROP_CACHES}: run as root")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for kind in args.dbs:
                report(kind, size, run(kind, size, args.repeat, Path(tmp), args.keep, args.prefix, **extra))


def _databases(value: str) -> list[str]:
    kinds = value.split(",")
    unknown = [kind for kind in kinds if kind not in SETTLED]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown database {', '.join(unknown)}: use {', '.join(SETTLED)}")
    return kinds


def report(kind: str, size: int, result: dict) -> None:
    """Print one database and size's figures."""
    load = os.getloadavg()[0]
    print_latencies(f"-- {kind}, {size:,} records, {result['events']:,} events ({SETTLED[kind]} "
                    f"in {result['seeded']:.0f} s; load average {load:.1f} on 2 cores)", "endpoint",
                    result, "one COUNT over the events")


def main(argv: list[str] | None = None) -> None:
    """Seed, time and print (see the module docstring)."""
    main_over_sizes(__doc__, run, report, argv, cold_runs=True)


if __name__ == "__main__":
    main()
