"""One workspace's trouble against another's: the embedded worker with broken CRMs beside a healthy one.

1. A healthy HubSpot connection beside one whose CRM accepts the TCP connection and never answers
   (made first, so a worker walking connections in order meets it first): seconds from the
   worker's start until the healthy connection's first sync has finished, against the sync's own
   duration (the best possible).
2. A connection whose token and refresh token were revoked: how many runs the worker makes of it
   in ``--seconds`` (90 by default), ticking every second.
3. A connection whose CRM refuses TCP connections: runs in the same time (backoff).

Uses only what every release has (store, worker, sandboxes), so the same script measures an older
checkout for a before/after comparison.

    .venv/bin/python -m bench.bench_isolation [--seconds 90] [--cap 420]
"""
from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet
from sqlmodel import select

from integration.config import Settings
from integration.connecting import provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.sandboxes import make_sandbox
from integration.services import build_services
from integration.store.connections import create_connection
from integration.store.db import upgrade
from integration.store.models import SyncRun
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.worker import Worker
from mapping import default_map_text


def small_book() -> dict:
    return demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0, deals=20, hs_contacts=5)


class HangingCrm:
    """Accepts TCP connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def closed_port() -> str:
    """A URL nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def services_in(workdir: Path, name: str):
    settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", worker_tick_seconds=1.0,
                        database_url=f"sqlite:///{workdir / f'{name}.sqlite3'}")
    upgrade(settings.resolved_database_url)
    return build_services(settings)


def add(services, name: str, settings: dict, secrets: dict, account: str) -> int:
    """A HubSpot connection stored as is (no credential check: older releases had none)."""
    with services.session() as session:
        tenant = get_or_create_tenant(session, f"bench-{name}")
        conn = create_connection(session, services.secret_box, tenant_id=tenant.id, name=name,
                                 crm="hubspot", settings=settings, secrets=secrets,
                                 account_id=account, sync_interval_seconds=3600)
        apply_map(session, conn.id, default_map_text(), author="bench")
        return conn.id


def runs(services, connection_id: int) -> list[SyncRun]:
    with services.session() as session:
        return list(session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id)))


def start_worker(services) -> tuple[Worker, threading.Thread]:
    worker = Worker(services)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def beside_hanging(workdir: Path, cap: float) -> None:
    services = services_in(workdir, "hanging")
    hanging = HangingCrm()
    add(services, "hangs", {"base_url": hanging.url}, {"access_token": "t"}, "777")
    box = make_sandbox("hubspot", seed=small_book()).start()
    info = box.info()
    healthy = add(services, "healthy", {"base_url": info["base_url"]},
                  {"access_token": info["private_app_token"]}, str(info["portal_id"]))
    provision(services, healthy)
    started = time.monotonic()
    worker, thread = start_worker(services)
    finished: list[SyncRun] = []
    while time.monotonic() - started < cap and not finished:
        finished = [r for r in runs(services, healthy) if r.status not in ("queued", "running")]
        time.sleep(0.2)
    waited = time.monotonic() - started
    worker.stop.set()
    hanging.stop()
    thread.join(timeout=120)
    box.stop()
    if finished:
        alone = finished[0].duration_ms / 1000
        print(f"healthy beside hanging: first sync finished {waited:.1f} s after the worker "
              f"started ({finished[0].status}); the sync itself took {alone:.2f} s "
              f"(ratio {waited / max(alone, 0.01):.1f})")
    else:
        print(f"healthy beside hanging: no finished sync after {cap:.0f} s (gave up)")


def runs_in(workdir: Path, seconds: float, label: str, settings: dict, secrets: dict) -> None:
    services = services_in(workdir, label.split()[0])
    connection_id = add(services, label.split()[0], settings, secrets, "4242")
    worker, thread = start_worker(services)
    time.sleep(seconds)
    worker.stop.set()
    thread.join(timeout=120)
    made = runs(services, connection_id)
    statuses = sorted({r.status for r in made})
    print(f"{label}: {len(made)} run(s) in {seconds:.0f} s ({', '.join(statuses) or 'none'})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--cap", type=float, default=420.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        beside_hanging(workdir, args.cap)
        box = make_sandbox("hubspot", seed=small_book()).start()
        info = box.info()
        revoked = {"base_url": info["base_url"], "client_id": info["client_id"]}
        runs_in(workdir, args.seconds, "revoked token", revoked,
                {"access_token": "revoked", "refresh_token": "revoked",
                 "client_secret": info["client_secret"]})
        box.stop()
        runs_in(workdir, args.seconds, "unreachable CRM", {"base_url": closed_port()},
                {"access_token": "t"})


if __name__ == "__main__":
    main()
