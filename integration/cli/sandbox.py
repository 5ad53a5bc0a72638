"""``journey sandbox``: run a local CRM sandbox seeded from a file."""
from __future__ import annotations

import json
import signal
import threading

import click

from connectors.seedfile import SeedError
from integration.sandboxes import make_sandbox, sandbox_crms


@click.command("sandbox")
@click.argument("crm", type=click.Choice(sandbox_crms()))
@click.option("--seed", type=click.Path(exists=True, dir_okay=False), help="Seed file (JSON).")
@click.option("--port", default=0, show_default=True, help="Port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--portals", default=1, show_default=True, type=click.IntRange(1, 10_000),
              help="Serve this many separate accounts (HubSpot portals) from one port, each its "
                   "own copy of the seed, credentials, rate limits and counters.")
def sandbox(crm: str, seed: str | None, port: int, host: str, portals: int) -> None:
    """Serve a local CRM that speaks the real API, until interrupted; prints its details as JSON
    (one line per account)."""
    try:
        server = make_sandbox(crm, seed, host=host, port=port, portals=portals)
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    try:
        for info in (server.infos() if portals > 1 else [server.info()]):
            click.echo(json.dumps(info), nl=True)
        stop.wait()
    finally:
        server.stop()
