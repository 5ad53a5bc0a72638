"""``journey map``: validate, show, apply, preview and check coverage of journey maps, list their
history with what each version changed, and mark them reviewed."""
from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from integration.cli.common import (echo_json, find_connection, parse_as_of, services_from_env,
                                    tenant_id)
from mapping import MapValidationError, load_map_file, map_to_yaml
from mapping.review import review_status

if TYPE_CHECKING:
    from integration.sync.map_in_force import MapInForce

# The commands that read the store import it inside, so `journey map validate` (and classify,
# which loads its map here) starts without SQLAlchemy and the service.


@click.group("map")
def map_group() -> None:
    """Journey map files and the map in force for a connection."""


def load_map_or_exit(path: str):
    try:
        return load_map_file(path)
    except MapValidationError as exc:
        for problem in exc.problems:
            click.echo(f"{path}: {problem}", err=True)
        raise SystemExit(1) from None


@map_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file: str) -> None:
    """Check a map file; print a summary, or every problem with its path (exit 1)."""
    if not Path(file).is_file():
        raise click.ClickException(f"{file}: no such file")
    jmap = load_map_or_exit(file)
    sources = sum(len(objs) for objs in jmap.sources.values())
    click.echo(f"{file}: ok: '{jmap.name}', {len(jmap.stages)} stages, {len(jmap.exits)} exits, "
               f"{sources} sources, {len(jmap.personas)} personas, {len(jmap.actions)} actions")


_WORKSPACE_HELP = "The workspace map: every connection without a map of its own uses it."


@map_group.command("show")
@click.argument("connection", required=False)
@click.option("--workspace", is_flag=True, help=_WORKSPACE_HELP)
def show(connection: str | None, workspace: bool) -> None:
    """Print the map in force for CONNECTION (or the workspace map) as YAML."""
    from integration.sync.map_in_force import map_in_force, workspace_map

    if workspace == (connection is not None):
        raise click.UsageError("give a CONNECTION or --workspace")
    services = services_from_env()
    with services.session() as session:
        if workspace:
            found, title = workspace_map(session, tenant_id(services)), "workspace"
        else:
            conn = find_connection(services, connection)
            found, title = map_in_force(session, conn.id), conn.name
    click.echo(f"# {title}: {_describe(found)}")
    click.echo(map_to_yaml(found.jmap))


def _describe(found: MapInForce) -> str:
    if found.scope == "default":
        return "default map"
    return f"{'workspace ' if found.scope == 'workspace' else ''}map version {found.version}"


@map_group.command("apply")
@click.argument("target")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--workspace", is_flag=True, help=_WORKSPACE_HELP + " Then TARGET is the FILE.")
@click.option("--comment", "-m", default="", help="What changed and why (kept in the changelog).")
def apply(target: str, file: str | None, workspace: bool, comment: str) -> None:
    """Store FILE as the new map version of CONNECTION: `apply CONNECTION FILE`, or
    `apply --workspace FILE` for the workspace map (takes effect on the next sync)."""
    from integration.map_review import MapRejected, apply_map, version_changes
    from integration.store.map_versions import map_version

    if workspace == (file is not None):
        raise click.UsageError("use `apply CONNECTION FILE` or `apply --workspace FILE`")
    services = services_from_env()
    path = target if workspace else file
    if not Path(path).is_file():
        raise click.ClickException(f"{path}: no such file")
    text = Path(path).read_text(encoding="utf-8")
    conn = None if workspace else find_connection(services, target)
    with services.session() as session:
        try:
            row = apply_map(session, conn.id if conn else None, text, author=getpass.getuser(),
                            comment=comment, source=path,
                            tenant_id=tenant_id(services) if workspace else None)
        except MapRejected as exc:
            for problem in exc.problems:
                click.echo(f"{path}: {problem}", err=True)
            raise SystemExit(1) from None
        older = map_version(session, row.connection_id, row.version - 1, tenant_id=row.tenant_id)
        summary = version_changes(older, row)["summary"]
    title = "workspace" if workspace else conn.name
    click.echo(f"{title}: map version {row.version} saved ({summary}); the next sync applies it")


def _scope(services, connection: str | None, workspace: bool) -> tuple[int, int | None, str]:
    """(tenant id, connection id or None for the workspace map, title) of a map command."""
    if workspace == (connection is not None):
        raise click.UsageError("give a CONNECTION or --workspace")
    if workspace:
        return tenant_id(services), None, "workspace"
    conn = find_connection(services, connection)
    return conn.tenant_id, conn.id, conn.name


@map_group.command("history")
@click.argument("connection", required=False)
@click.option("--workspace", is_flag=True, help=_WORKSPACE_HELP)
def history_cmd(connection: str | None, workspace: bool) -> None:
    """List the versions of CONNECTION's own map (or the workspace map), newest first, each with
    what it changed against the one before."""
    from integration.map_review import history

    services = services_from_env()
    tenant, connection_id, title = _scope(services, connection, workspace)
    with services.session() as session:
        items = history(session, connection_id, tenant)
    if not items:
        click.echo(f"{title}: no map version saved")
    for item in items:
        row = item["row"]
        comment = f"  -- {row.comment}" if row.comment else ""
        click.echo(f"v{row.version}  {row.created_at:%Y-%m-%d %H:%M}  {row.author}  "
                   f"{item['summary']}{comment}")


@map_group.command("reviewed")
@click.argument("connection", required=False)
@click.option("--workspace", is_flag=True, help=_WORKSPACE_HELP)
def reviewed(connection: str | None, workspace: bool) -> None:
    """Mark CONNECTION's map in force (its own, else the workspace map) or the workspace map
    reviewed as it stands; print when the next review is due."""
    from integration.map_review import mark_reviewed
    from integration.store.map_versions import last_reviewed
    from integration.store.types import utcnow
    from integration.sync.map_in_force import map_in_force, workspace_map

    services = services_from_env()
    tenant, connection_id, title = _scope(services, connection, workspace)
    with services.session() as session:
        found = (workspace_map(session, tenant) if connection_id is None
                 else map_in_force(session, connection_id))
        scope = connection_id if found.scope == "connection" else None
        mark_reviewed(session, tenant, scope, reviewed_by=getpass.getuser())
        status = review_status(found.jmap, last_reviewed(session, tenant, scope), utcnow())
    which = "its own map" if scope is not None else "the workspace map"
    click.echo(f"{title}: {which} marked reviewed; next review due {status.due_at:%Y-%m-%d} "
               f"(every {status.every_days} days)")


@map_group.command("preview")
@click.argument("connection")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--as-of", help="Evaluate at this ISO-8601 instant instead of now.")
@click.option("--sample", default=10, show_default=True, help="Example rows to show.")
def preview(connection: str, file: str | None, as_of: str | None, sample: int) -> None:
    """Dry run FILE (default: the current map) over CONNECTION's stored records; nothing is saved."""
    from integration.map_review import preview_map

    services = services_from_env()
    jmap = load_map_or_exit(file) if file else None
    conn = find_connection(services, connection)
    with services.session() as session:
        report = preview_map(session, conn.id, jmap, now=parse_as_of(as_of), sample=sample)
    echo_json(report)


@map_group.command("coverage")
@click.argument("connection")
def coverage(connection: str) -> None:
    """Which of the CRM's real stages the map in force leaves unmapped (reads the CRM)."""
    from integration.map_review import map_coverage

    services = services_from_env()
    echo_json(map_coverage(services, find_connection(services, connection).id))

