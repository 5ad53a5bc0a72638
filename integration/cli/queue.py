"""``journey scheduler``: queue the due work of every connection on Celery (JOURNEY_BROKER_URL)."""
from __future__ import annotations

import signal

import click

from integration.cli.common import services_from_env


@click.command()
@click.option("--once", is_flag=True, help="Queue what is due now, then exit.")
def scheduler(once: bool) -> None:
    """Queue scheduled syncs, webhook-driven syncs, stall passes and outbox flushes for the
    `journey worker` processes, fairly across tenants. Needs JOURNEY_BROKER_URL."""
    services = services_from_env()
    if not services.settings.broker_url:
        raise click.ClickException("JOURNEY_BROKER_URL is not set: the scheduler queues work on "
                                   "Celery (redis://host:6379/0); without it `journey worker` "
                                   "schedules its own work")
    from integration.queue.scheduler import Scheduler
    from integration.queue.tasks import make_celery

    sched = Scheduler(services, make_celery(services.settings))
    if once:
        for tenant, connection_id in sched.tick():
            click.echo(f"queued connection {connection_id} (tenant {tenant})")
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sched.stop.set())
    click.echo("scheduler running; Ctrl-C stops")
    sched.run()
