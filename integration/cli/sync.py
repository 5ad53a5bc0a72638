"""``journey sync``: one sync of one connection, with a JSON summary as the last line."""
from __future__ import annotations

import click

from integration.cli.common import (TerminalProgress, echo_json, find_connection, parse_as_of,
                                    services_from_env)
from integration.sync.engine import sync_connection
from integration.sync.lease import Busy, leased, process_owner


@click.command("sync")
@click.argument("connection")
@click.option("--full", is_flag=True, help="Read every record, not only those changed since the last sync.")
@click.option("--dry-run", is_flag=True, help="Classify and plan, but store and write nothing.")
@click.option("--as-of", help="Evaluate stalls at this ISO-8601 instant instead of now.")
def sync_cmd(connection: str, full: bool, dry_run: bool, as_of: str | None) -> None:
    """Pull CONNECTION's changed records, classify them and write back what changed.

    Exits 1 when the run failed; the last line is always the JSON summary
    (read, changed, written, failed, api_calls, ...).
    """
    services = services_from_env()
    conn = find_connection(services, connection)
    progress = TerminalProgress()
    try:
        with leased(services, conn.id, process_owner("cli")) as lease:
            summary = sync_connection(services, conn.id, full=full, dry_run=dry_run,
                                      now=parse_as_of(as_of), progress=progress, lease=lease)
    except Busy as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        progress.close()
    echo_json(summary.to_dict())
    if summary.status == "failed":
        raise SystemExit(1)
