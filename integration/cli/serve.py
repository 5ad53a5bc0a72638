"""``journey serve`` (the web app under gunicorn) and ``journey worker`` (scheduled work)."""
from __future__ import annotations

import signal

import click

from integration.cli.common import services_from_env
from integration.worker import Worker


def register(main: click.Group) -> None:
    main.add_command(serve)
    main.add_command(worker)


@click.command()
@click.option("--bind", default=None, help="host:port (default JOURNEY_HOST:JOURNEY_PORT).")
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def serve(bind: str | None, workers: int) -> None:
    """Serve the web app and API with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from integration.app import create_app

    services = services_from_env()
    settings = services.settings
    bind = bind or f"{settings.host}:{settings.port}"

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return create_app(settings, migrate=False)

    click.echo(f"serving on http://{bind}")
    _App().run()


@click.command()
@click.option("--once", is_flag=True, help="Do what is due now, then exit.")
def worker(once: bool) -> None:
    """Run scheduled syncs, webhook-driven syncs, stall passes and the outbox."""
    services = services_from_env()
    w = Worker(services)
    if once:
        for line in w.tick():
            click.echo(line)
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: w.stop.set())
    click.echo(f"worker {w.owner} running; Ctrl-C stops")
    w.run()
