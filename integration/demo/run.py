"""``journey demo``: every CRM sandbox seeded with the demo book, connected, provisioned, mapped,
synced, and the service served with the worker running."""
from __future__ import annotations

import json
import secrets
import shutil
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from integration.app import create_app
from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.notification_urls import notification_url
from integration.sandboxes import SandboxControl, make_sandbox, sandbox_crms, sandbox_settings
from integration.services import Services, build_services
from integration.store.db import upgrade
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.worker import Worker
from mapping import default_map_text

DEMO_USER = "admin@demo.example"

Progress = Callable[[str, int, int | None], None]


@dataclass
class Demo:
    """A running demo: its services, sandboxes, and what a person needs to sign in."""

    services: Services
    sandboxes: dict[str, Any]
    connections: dict[str, int]
    token: str
    password: str
    summary: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.stop()


#: The demo turns on tasks for stalled records (the default map leaves them off).
DEMO_TASKS = """
tasks:
  on_stalled: true
  subject: "{record}: {stage} stalled, {action}"
  due_in_days: 2
"""


def demo_map_text() -> str:
    """The default map with tasks for stalled records turned on."""
    return default_map_text().rstrip() + "\n" + DEMO_TASKS


def prepare_demo(data_dir: Path, port: int, progress: Progress | None = None,
                 sync_interval_seconds: int = 60) -> Demo:
    """Set up everything the demo serves. Wipes ``data_dir`` first: the demo starts fresh."""
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    now = utcnow()
    seed_path = data_dir / "demo-seed.json"
    seed = demo_seed(now)
    seed_path.write_text(json.dumps(seed, indent=1))
    # The demo book's order: the first CRM syncs before the others hold records to link with it.
    sandboxes = {crm: make_sandbox(crm, str(seed_path)).start() for crm in seed if crm in sandbox_crms()}
    settings = Settings(data_dir=data_dir, secret_key=Fernet.generate_key().decode(),
                        session_secret=secrets.token_hex(32), port=port,
                        sync_interval_seconds=sync_interval_seconds, stall_interval_seconds=600,
                        worker_tick_seconds=1.0, outbox_backoff_seconds=5.0,
                        oauth_apps=sandbox_oauth_apps(sandboxes))
    upgrade(settings.resolved_database_url)
    services = build_services(settings)
    password = secrets.token_urlsafe(9)
    connections: dict[str, int] = {}
    with services.session() as session:
        tenant = get_or_create_tenant(session, "demo")
        token = issue_token(session, tenant.id, "demo")
        create_user(session, tenant.id, DEMO_USER, password)
        for crm, sandbox in sandboxes.items():
            conn = connect(session, services, tenant_id=tenant.id, name=f"{crm}-demo", crm=crm,
                           values=sandbox_settings(crm, sandbox.info()),
                           sync_interval_seconds=sync_interval_seconds)
            apply_map(session, conn.id, demo_map_text(), author="demo",
                      comment="Default B2B journey map")
            connections[crm] = conn.id
    demo = Demo(services, sandboxes, connections, token, password)
    for crm, connection_id in connections.items():
        fields = provision(services, connection_id)
        result = sync_connection(services, connection_id, full=True, requested_by="demo",
                                 progress=progress)
        demo.summary[crm] = {"fields_created": sum(f.created for f in fields),
                             **{k: v for k, v in result.to_dict().items()
                                if k in ("status", "read", "changed", "written", "failed",
                                         "unmapped", "api_calls", "duration_ms", "stages")}}
    for crm, sandbox in sandboxes.items():
        SandboxControl(crm, sandbox).subscribe(notification_url(settings, crm, connections[crm]))
    return demo


def sandbox_oauth_apps(sandboxes: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The OAuth app each sandbox declares in its ``info()`` (``oauth_app``), so the install pages
    can run the OAuth flow against it (JOURNEY_OAUTH_<CRM>_<SETTING> in production)."""
    return {crm: {k: str(v) for k, v in sandbox.info().get("oauth_app", {}).items() if v}
            for crm, sandbox in sandboxes.items()}


@dataclass
class RunningService:
    """The web app and the worker, running in background threads."""

    base_url: str
    server: Any
    worker: Worker
    threads: list[threading.Thread]

    def stop(self) -> None:
        self.worker.stop.set()
        self.server.shutdown()
        for thread in self.threads:
            thread.join(timeout=10)


def start_service(services: Services, *, run_worker: bool = True,
                  listener: socket.socket | None = None) -> RunningService:
    """Serve the app on the configured host and port, and run the worker, in the background.

    ``listener``, a socket already bound and listening, is served instead of binding the port
    anew: whoever chose a free port early (to name it in webhook subscriptions) keeps it held, so
    no outgoing connection can take it as its local port in the meantime."""
    settings = services.settings
    app = create_app(settings, services)
    server = make_server(settings.host, settings.port, app, threaded=True,
                         fd=listener.fileno() if listener is not None else None)
    worker = Worker(services)
    threads = [threading.Thread(target=server.serve_forever, name="journey-web", daemon=True)]
    if run_worker:
        threads.append(threading.Thread(target=worker.run, name="journey-worker", daemon=True))
    for thread in threads:
        thread.start()
    port = server.port
    return RunningService(f"http://{settings.host}:{port}", server, worker, threads)


def serve_demo(demo: Demo, echo: Callable[[str], None]) -> None:
    """Serve the app and run the worker until interrupted."""
    running = start_service(demo.services)
    base = running.base_url
    echo(f"\nJourney Sync demo is running at {base}/")
    echo(f"  sign in:        {DEMO_USER} / {demo.password}")
    echo(f"  API token:      {demo.token}")
    echo(f"  API document:   {base}/api/v1/openapi.json")
    for crm, sandbox in demo.sandboxes.items():
        echo(f"  {crm} sandbox: {sandbox.url}")
    echo("Ctrl-C stops.")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        running.stop()
        demo.stop()
