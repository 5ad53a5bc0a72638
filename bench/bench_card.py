"""Benchmark: the HubSpot app card endpoint under gunicorn at a steady 200 requests a second.

Sets up a HubSpot connection against the sandbox (the demo book, synced), serves the service with
``journey serve`` (gunicorn, 2 workers, SQLite), and sends signed card requests for random deals at
a fixed rate (open loop: each request leaves at its scheduled time, so a slow answer cannot slow
the load down). Prints latency percentiles; the best possible is the same load on ``/healthz``
(no database, no signature), measured the same way, so the ratio is the card's own cost. Also
prints what parsing the map once per version saves per request.

    .venv/bin/python -m bench.bench_card [--rate 200] [--seconds 15] [--workers 2]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import requests
from cryptography.fernet import Fernet
from sqlmodel import select

from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.sandboxes import make_sandbox, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text, parse_map


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Send = Callable[[requests.Session, str], float]


def plain_get(session: requests.Session, url: str) -> float:
    """Seconds one unsigned GET takes."""
    started = time.perf_counter()
    session.get(url, timeout=10).raise_for_status()
    return time.perf_counter() - started


def hubspot_get(secret: str) -> Send:
    """A GET signed the way hubspot.fetch() signs it: v3 over the URI with %40 decoded."""
    def send(session: requests.Session, url: str) -> float:
        ts = str(int(time.time() * 1000))
        signed_as = url.replace("%40", "@")
        digest = hmac.new(secret.encode(), f"GET{signed_as}{ts}".encode(), hashlib.sha256).digest()
        started = time.perf_counter()
        answer = session.get(url, timeout=10, headers={
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
            "X-HubSpot-Request-Timestamp": ts})
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code} {answer.text[:200]}")
        return elapsed
    return send


def load(urls: list[str], send: Send, rate: float, seconds: float, threads: int = 48) -> dict:
    """Send GETs to ``urls`` (round robin) at ``rate`` per second; latency percentiles in ms."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def run() -> None:
        session = requests.Session()
        session.trust_env = False
        for i in counter:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            url = urls[i % len(urls)]
            try:
                took = send(session, url)
                with lock:
                    latencies.append(took)
            except Exception as exc:  # a failed request is a result to report, not a crash
                with lock:
                    errors.append(type(exc).__name__ + ": " + str(exc)[:120])

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0

    return {"requests": total, "ok": len(ordered), "errors": len(errors), "first_error": errors[:1],
            "achieved_rate": round(len(ordered) / wall, 1), "p50_ms": pct(0.50), "p90_ms": pct(0.90),
            "p99_ms": pct(0.99), "max_ms": round(ordered[-1] * 1000, 1) if ordered else 0.0}


def parse_cost(repeat: int = 200) -> dict:
    """Milliseconds to parse the default map, against a lookup of the map in force (cached)."""
    text = default_map_text()
    t0 = time.perf_counter()
    for _ in range(repeat):
        parse_map(text)
    parse_ms = (time.perf_counter() - t0) * 1000 / repeat
    return {"parse_map_ms": round(parse_ms, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="bench-card-"))
    sandbox = make_sandbox("hubspot", seed=demo_seed(utcnow())).start()
    settings = Settings(data_dir=data_dir, secret_key=Fernet.generate_key().decode(),
                        session_secret=secrets.token_hex(32))
    upgrade(settings.resolved_database_url)
    services = build_services(settings)
    info = sandbox.info()
    with services.session() as session:
        tenant = get_or_create_tenant(session, "bench")
        conn = connect(session, services, tenant_id=tenant.id, name="card", crm="hubspot",
                       values=sandbox_settings("hubspot", info))
        connection_id = conn.id
    provision(services, connection_id)
    sync_connection(services, connection_id)
    with services.session() as session:
        deals = [r.crm_id for r in session.exec(select(RecordState).where(
            RecordState.connection_id == connection_id, RecordState.object == "deal"))]
    port = _free_port()
    env = {**os.environ, "JOURNEY_DATA_DIR": str(data_dir), "JOURNEY_SECRET_KEY": settings.secret_key,
           "JOURNEY_SESSION_SECRET": settings.session_secret, "JOURNEY_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("journey")), "serve", "--bind",
                               f"127.0.0.1:{port}", "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        random.seed(7)
        urls = [f"{base}/cards/hubspot/deal/{d}?userId=7&userEmail=rep%40example.com&appId=1"
                f"&portalId={info['portal_id']}" for d in random.sample(deals, min(100, len(deals)))]
        card_get = hubspot_get(info["client_secret"])
        load(urls[:5], card_get, 20, 1.0)  # warm up every worker
        floor = load([base + "/healthz"], plain_get, args.rate, args.seconds)
        card = load(urls, card_get, args.rate, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=20)
        sandbox.stop()
    print(f"card endpoint, {args.rate:.0f} req/s for {args.seconds:.0f} s, gunicorn {args.workers} "
          f"workers, SQLite, {len(deals)} deals:")
    print(f"  card:    {card}")
    print(f"  healthz: {floor}  (best possible on this machine)")
    ratio = card["p99_ms"] / floor["p99_ms"] if floor["p99_ms"] else float("inf")
    print(f"  p99 {card['p99_ms']} ms (target < 50 ms), {ratio:.1f}x the best possible")
    print(f"  parsing the map per request would add {parse_cost()['parse_map_ms']} ms of CPU to each "
          "(it is parsed once per map version)")


if __name__ == "__main__":
    main(sys.argv[1:])
