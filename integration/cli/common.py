"""What the CLI commands share: services from the environment, tenant lookup, output helpers."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from integration.services import Services
    from integration.store.models import Connection

TENANT_ENV = "JOURNEY_TENANT"


def services_from_env(migrate: bool = True) -> Services:
    """Settings from the environment, the database brought up to date, services built."""
    # Imported here: the commands that need no database (map validate, classify, sandbox, help)
    # then start without loading SQLAlchemy, alembic and the store.
    from integration.config import load_settings
    from integration.services import build_services
    from integration.store.db import upgrade

    try:
        settings = load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if migrate:
        upgrade(settings.resolved_database_url)
    return build_services(settings)


def tenant_id(services: Services, name: str | None = None) -> int:
    """The id of the tenant the CLI acts for (``JOURNEY_TENANT``, default ``default``)."""
    from integration.store.tenancy import get_or_create_tenant

    with services.session() as session:
        return get_or_create_tenant(session, name or os.environ.get(TENANT_ENV, "default")).id


def find_connection(services: Services, ref: str) -> Connection:
    """The CLI tenant's connection ``ref`` (name or id); a clear error when there is none."""
    from integration.store.connections import NotFound, get_connection

    with services.session() as session:
        try:
            return get_connection(session, tenant_id(services), ref)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None


def parse_as_of(value: str | None) -> datetime | None:
    """An ISO-8601 instant given on the command line; a date alone means midnight UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or time", param_hint="--as-of")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def echo_json(data: Any) -> None:
    """One JSON object on one line."""
    click.echo(json.dumps(data, default=_json_default, sort_keys=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class TerminalProgress:
    """Progress on stderr for a terminal (one updating line per kind of work); silent otherwise."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = ""

    def __call__(self, what: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        text = f"{what}: {done}" + (f"/{total} ({done * 100 // max(total, 1)}%)" if total else "")
        if what != self._last and self._last:
            self.stream.write("\n")
        self._last = what
        self.stream.write("\r" + text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()
