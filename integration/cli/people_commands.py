"""``journey people show EMAIL`` and ``journey analytics funnel``: the workspace across its CRMs."""
from __future__ import annotations

import click

from integration.cli.common import echo_json, find_connection, parse_as_of, services_from_env, tenant_id
from integration.people import UNITS, funnel_report, person_report
from integration.store.types import utcnow


def register(main: click.Group) -> None:
    main.add_command(people_group)
    main.add_command(analytics_group)


@click.group("people")
def people_group() -> None:
    """People linked across the workspace's CRMs."""


@people_group.command("show")
@click.argument("email")
@click.option("--as-of", help="Evaluate at this ISO-8601 instant instead of now.")
def show(email: str, as_of: str | None) -> None:
    """One person as JSON: stage, persona, next best action, stalled, linked records, timeline."""
    services = services_from_env()
    with services.session() as session:
        report = person_report(session, tenant_id(services), email, parse_as_of(as_of) or utcnow())
    if report is None:
        raise click.ClickException(f"no person with the e-mail address {email.strip()!r}")
    echo_json(report)


@click.group("analytics")
def analytics_group() -> None:
    """Journey analytics over the whole workspace."""


@analytics_group.command("funnel")
@click.option("--unit", type=click.Choice(list(UNITS)), default="people", show_default=True,
              help="Count people (each person once, whichever CRMs hold them) or deals (a mirrored "
                   "deal once).")
@click.option("--connection", help="Only this connection's records (default: the whole workspace).")
def funnel(unit: str, connection: str | None) -> None:
    """The funnel as JSON: unit, total, and per stage how many reached it and are in it now."""
    services = services_from_env()
    connection_id = find_connection(services, connection).id if connection else None
    with services.session() as session:
        echo_json(funnel_report(session, tenant_id(services), unit, connection_id))
