"""``journey db``: schema migrations."""
from __future__ import annotations

import click

from integration.config import load_settings
from integration.store.db import current_revision, make_engine, upgrade


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database at JOURNEY_DATABASE_URL (default: a SQLite file in ./var)."""
    try:
        url = load_settings().resolved_database_url
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    upgrade(url)
    click.echo(f"database at revision {current_revision(make_engine(url))}")
