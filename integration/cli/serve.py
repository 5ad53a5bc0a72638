"""``journey serve`` (the web app under gunicorn) and ``journey worker`` (scheduled work)."""
from __future__ import annotations

import signal

import click

from integration.cli.common import services_from_env
from integration.worker import Worker


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
            return create_app(settings)

    click.echo(f"serving on http://{bind}")
    _App().run()


@click.command()
@click.option("--once", is_flag=True, help="Do what is due now in this process, then exit.")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 256),
              help="With JOURNEY_BROKER_URL: tasks this worker runs at once.")
@click.option("--pool", default="threads", show_default=True,
              type=click.Choice(["prefork", "threads", "solo"]),
              help="With JOURNEY_BROKER_URL: Celery's execution pool.")
def worker(once: bool, concurrency: int, pool: str) -> None:
    """Run scheduled syncs, webhook-driven syncs, stall passes and the outbox.

    Without JOURNEY_BROKER_URL this is the embedded worker (it finds and does the due work
    itself); with it, a Celery worker running the tasks `journey scheduler` queues.
    """
    services = services_from_env()
    if services.settings.broker_url and not once:
        from integration.queue.tasks import run_worker
        run_worker(services.settings, concurrency=concurrency, pool=pool,
                   loglevel=services.settings.log_level)
        return
    w = Worker(services)
    if once:
        try:
            lines = w.tick()
        finally:
            w.close()
        for line in lines:
            click.echo(line)
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: w.stop.set())
    click.echo(f"worker {w.owner} running; Ctrl-C stops")
    w.run()
