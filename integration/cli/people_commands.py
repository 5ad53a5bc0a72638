"""``journey people show EMAIL`` and ``journey analytics funnel``: the workspace across its CRMs."""
from __future__ import annotations

from typing import Callable

import click

from integration import query_args
from integration.analytics import RecordFilter
from integration.cli.common import echo_json, find_connection, parse_as_of, services_from_env, tenant_id
from integration.people import UNITS, kept_funnel_report, person_report
from integration.query_args import TEXT_FILTERS, BadArgument
from integration.store.types import utcnow


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


#: The API's period and filter parameters, as options (``owner_name`` as --owner-name).
FILTER_OPTIONS = ("from", "to", "crm", *TEXT_FILTERS, "stalled", "q")


def _filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add an option for each of the API's period and filter parameters."""
    helps = {"from": "Only stage entries on or after this day (YYYY-MM-DD).",
             "to": "Only stage entries on or before this day (YYYY-MM-DD).",
             "stalled": "Only stalled (true) or moving (false) records.",
             "q": "Only records whose name, e-mail or company contains this text."}
    for name in reversed(FILTER_OPTIONS):
        flag = f"--{name.replace('_', '-')}"
        command = click.option(flag, name, help=helps.get(name, f"Only records whose {name} is this."))(command)
    return command


def _record_filter(values: dict[str, str | None]) -> RecordFilter:
    """The filter the options give, validated as the API's query parameters are."""
    try:
        return query_args.record_filter({k: v for k, v in values.items() if v is not None})
    except BadArgument as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.name.replace('_', '-')}") from None


@analytics_group.command("funnel")
@click.option("--unit", type=click.Choice(list(UNITS)), default="people", show_default=True,
              help="Count people (each person once, whichever CRMs hold them) or deals (a mirrored "
                   "deal once).")
@click.option("--connection", help="Only this connection's records (default: the whole workspace).")
@_filter_options
def funnel(unit: str, connection: str | None, **filters: str | None) -> None:
    """The funnel as JSON: unit, total, and per stage how many reached it and are in it now, over
    the stage entries of the period (--from/--to) by the records the filters select (the API's
    GET /analytics/funnel parameters)."""
    flt = _record_filter(filters)
    services = services_from_env()
    connection_id = find_connection(services, connection).id if connection else None
    with services.session() as session:
        echo_json(kept_funnel_report(session, tenant_id(services), unit, connection_id, flt))
