"""``journey db``: schema migrations and compacting a SQLite book."""
from __future__ import annotations

import click

from integration.config import load_settings
from integration.store.compaction import CompactionRefused, sqlite_path, vacuum
from integration.store.db import current_revision, make_engine, upgrade


@click.group()
def db() -> None:
    """Database schema commands."""


def _database_url() -> str:
    try:
        return load_settings().resolved_database_url
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database at JOURNEY_DATABASE_URL (default: a SQLite file in ./var)."""
    url = _database_url()
    upgrade(url)
    click.echo(f"database at revision {current_revision(make_engine(url))}")


@db.command("vacuum")
@click.option("--wait", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds to wait for syncs and the web app to finish a write before giving up")
def db_vacuum(wait: float) -> None:
    """Compact a SQLite database: rewrite the file with each table and index in one run of pages
    (analytics read from disk 3-6x faster on a large book). Holds the write lock while it runs
    (about 35 s per million records) and needs the file's size free twice: run it in a quiet
    hour. PostgreSQL needs nothing of the kind."""
    path = sqlite_path(_database_url())
    if path is None:
        click.echo("nothing to do: the database is not a SQLite file (PostgreSQL's autovacuum "
                   "keeps its tables, and its analytics scan them in order)")
        return
    try:
        done = vacuum(path, wait)
    except CompactionRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"vacuumed {done.path}: {done.before / 1e6:,.1f} MB -> {done.after / 1e6:,.1f} MB "
               f"in {done.seconds:.1f} s")
