"""``journey connect``, ``connection``, ``provision``, ``status`` and ``token``: installing and
managing CRM connections."""
from __future__ import annotations

import click
from sqlalchemy.exc import IntegrityError

from connectors import registry
from connectors.base import CrmError
from connectors.plugin import SettingField
from integration.cli.common import echo_json, find_connection, services_from_env, tenant_id
from integration.connecting import (ConnectionRefused, InvalidSettings, connect, provision,
                                    reconnect, set_paused)
from integration.status import connection_status
from integration.store.connections import delete_connection, get_connection
from integration.store.tenancy import issue_token


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
        params += [_setting_option(s) for s in spec.settings]

        def callback(name: str, interval: int | None, **values: str) -> None:
            services = services_from_env()
            try:
                with services.session() as session:
                    conn = connect(session, services, tenant_id=tenant_id(services), name=name,
                                   crm=spec.name, values=values, sync_interval_seconds=interval)
                    cid = conn.id
                    account = conn.account_id
            except InvalidSettings as exc:
                raise _usage(exc) from None
            except ConnectionRefused as exc:
                raise click.ClickException(str(exc)) from None
            except IntegrityError:
                raise click.ClickException(f"a connection named {name!r} exists already") from None
            click.echo(f"connected {spec.label} account {account} as {name!r} (id {cid})")

        return click.Command(name, params=params, callback=callback,
                             help=f"Connect {spec.label}.")


connect_group = ConnectGroup("connect", help="Connect a CRM account (the credentials are checked "
                             "with the CRM first).")


def _usage(exc: InvalidSettings) -> click.UsageError:
    return click.UsageError("; ".join(f"--{k.replace('_', '-')}: {v}"
                                      for k, v in exc.problems.items()))


def _setting_option(setting: SettingField) -> click.Option:
    """``--access-token`` and the like, from a connector's declared setting."""
    return click.Option([f"--{setting.name.replace('_', '-')}", setting.name], default=None,
                        help=(setting.help or setting.label) + (" (secret)" if setting.secret else ""))


def _all_setting_options() -> list[click.Option]:
    """One option per setting any CRM declares (reconnect checks them against the connection's)."""
    seen: dict[str, click.Option] = {}
    for crm in registry.names():
        for setting in registry.spec(crm).settings:
            seen.setdefault(setting.name, _setting_option(setting))
    return list(seen.values())


@click.group("connection")
def connection_group() -> None:
    """Manage a connection: reconnect (new credentials), pause, resume, delete."""


def _reconnect(connection: str, **values: str | None) -> None:
    """Give CONNECTION new credentials; the CRM must confirm they reach the same account.

    Only the settings given change. A connection that needs reconnecting is active again after.
    """
    services = services_from_env()
    conn = find_connection(services, connection)
    try:
        conn = reconnect(services, tenant_id(services), conn.id,
                         {k: v for k, v in values.items() if v is not None})
    except InvalidSettings as exc:
        raise _usage(exc) from None
    except ConnectionRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"reconnected {conn.name!r} (account {conn.account_id}); it syncs again")


class _ReconnectCommand(click.Command):
    """``connection reconnect``, whose options (every CRM's settings) are made when it runs or
    shows its help: making them loads every connector, which the other commands here never need."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not self.params:
            self.params = [click.Argument(["connection"]), *_all_setting_options()]
        return super().get_params(ctx)


connection_group.add_command(_ReconnectCommand("reconnect", callback=_reconnect,
                                               help=_reconnect.__doc__))


@connection_group.command("pause")
@click.argument("connection")
def pause_cmd(connection: str) -> None:
    """Stop syncing CONNECTION until it is resumed."""
    _set_paused(connection, True)


@connection_group.command("resume")
@click.argument("connection")
def resume_cmd(connection: str) -> None:
    """Resume syncing CONNECTION."""
    _set_paused(connection, False)


def _set_paused(connection: str, paused: bool) -> None:
    services = services_from_env()
    conn = find_connection(services, connection)
    try:
        conn = set_paused(services, tenant_id(services), conn.id, paused)
    except ConnectionRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{conn.name!r} {'paused' if paused else 'resumed'}")


@connection_group.command("delete")
@click.argument("connection")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_cmd(connection: str, yes: bool) -> None:
    """Delete CONNECTION and everything stored for it (the CRM's data is not touched)."""
    services = services_from_env()
    conn = find_connection(services, connection)
    if not yes:
        click.confirm(f"Delete {conn.name!r} and everything stored for it?", abort=True)
    with services.session() as session:
        delete_connection(session, get_connection(session, tenant_id(services), conn.id))
    click.echo(f"deleted {conn.name!r}")


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
