"""``journey connect``, ``provision``, ``status`` and ``token``: installing a CRM connection."""
from __future__ import annotations

import click
from sqlalchemy.exc import IntegrityError

from connectors import registry
from connectors.base import CrmError
from integration.cli.common import echo_json, find_connection, services_from_env, tenant_id
from integration.connecting import InvalidSettings, connect, provision
from integration.status import connection_status
from integration.store.tenancy import issue_token


def register(main: click.Group) -> None:
    main.add_command(connect_group)
    main.add_command(provision_cmd)
    main.add_command(status_cmd)
    main.add_command(token_group)


class ConnectGroup(click.Group):
    """One subcommand per registered CRM, its options made from the connector's declared settings."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return registry.names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        try:
            spec = registry.spec(name)
        except KeyError:
            return None
        params = [click.Option(["--name"], required=True, help="A name for this connection."),
                  click.Option(["--interval"], type=int, default=None,
                               help="Seconds between scheduled syncs.")]
        params += [click.Option([f"--{s.name.replace('_', '-')}", s.name], default=None,
                                help=(s.help or s.label) + (" (secret)" if s.secret else ""))
                   for s in spec.settings]

        def callback(name: str, interval: int | None, **values: str) -> None:
            services = services_from_env()
            try:
                with services.session() as session:
                    conn = connect(session, services, tenant_id=tenant_id(services), name=name,
                                   crm=spec.name, values=values, sync_interval_seconds=interval)
                    cid = conn.id
            except InvalidSettings as exc:
                raise click.UsageError("; ".join(f"--{k.replace('_', '-')}: {v}"
                                                 for k, v in exc.problems.items())) from None
            except IntegrityError:
                raise click.ClickException(f"a connection named {name!r} exists already") from None
            click.echo(f"connected {spec.label} as {name!r} (id {cid})")

        return click.Command(name, params=params, callback=callback,
                             help=f"Connect {spec.label}.")


connect_group = ConnectGroup("connect", help="Connect a CRM account.")


@click.command("provision")
@click.argument("connection")
def provision_cmd(connection: str) -> None:
    """Create the write-back fields in the CRM and grant access to them (safe to repeat)."""
    services = services_from_env()
    conn = find_connection(services, connection)
    try:
        fields = provision(services, conn.id)
    except CrmError as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from None
    for f in fields:
        click.echo(f"{f.object}.{f.name}: {'created' if f.created else 'exists'}")


@click.command("status")
@click.argument("connection")
def status_cmd(connection: str) -> None:
    """Health of a connection: last runs, outbox, stage counts, quota."""
    services = services_from_env()
    conn = find_connection(services, connection)
    with services.session() as session:
        echo_json(connection_status(session, conn.id))


@click.group("token")
def token_group() -> None:
    """Admin API tokens."""


@token_group.command("create")
@click.option("--name", default="admin", show_default=True)
def token_create(name: str) -> None:
    """Create an admin token for the REST API; it is shown once."""
    services = services_from_env()
    with services.session() as session:
        click.echo(issue_token(session, tenant_id(services), name))
