"""Store fixtures: each test module gets a fresh database on SQLite and on a real PostgreSQL.

PostgreSQL comes from JOURNEY_TEST_POSTGRES_URL (default: the local server's ``test`` database);
each module creates its own database next to it and drops it afterwards. Without a server the
PostgreSQL cases skip with the reason, unless JOURNEY_REQUIRE_POSTGRES=1 (CI) makes them fail.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from integration.config import Settings
from integration.services import build_services
from integration.store.db import scratch_postgres, upgrade
from integration.store.models import Connection
from integration.store.tenancy import get_or_create_tenant
from tests.support import require_or_skip

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_database(tag: str):
    """Create a throwaway database; return (url, drop)."""
    base = os.environ.get("JOURNEY_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        return scratch_postgres(base, tag)
    except Exception as exc:  # the server is absent or refuses us
        require_or_skip("postgres", f"no PostgreSQL at {make_url(base).render_as_string(hide_password=True)}: "
                        f"{type(exc).__name__}")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request, tmp_path):
    """An empty database URL, never migrated (a migration test brings it where it needs): once
    on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url, drop = _postgres_database(request.node.name[:20].lower().replace("[", "_"))
    yield url
    drop()


def revisions_of(url: str, migration_file: str) -> tuple[str, str]:
    """(the revision before, the revision) of the migration in ``migration_file`` (its name
    without the number: revisions are renumbered when branches land)."""
    from alembic.script import ScriptDirectory

    from integration.store.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(url))
    mine = next(r for r in script.walk_revisions() if r.module.__file__.endswith(migration_file))
    return mine.down_revision, mine.revision


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db_url(request, tmp_path_factory):
    """A migrated, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("db")) / "journey.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    url, drop = _postgres_database(request.module.__name__.rsplit(".", 1)[-1][:20])
    upgrade(url)
    yield url
    drop()


def make_settings(db_url: str, data_dir: Path, **overrides) -> Settings:
    """Settings for a test service on ``db_url``."""
    return Settings(data_dir=data_dir, database_url=db_url,
                    secret_key=Fernet.generate_key().decode(), session_secret="test-session",
                    **overrides)


@pytest.fixture(scope="module")
def services(db_url, tmp_path_factory):
    """Services (engine, secret box) on the module's database."""
    svc = build_services(make_settings(db_url, tmp_path_factory.mktemp("data"),
                                       outbox_backoff_seconds=0.0))
    yield svc
    svc.engine.dispose()


def add_connection(session, tenant_name: str, name: str, crm: str = "hubspot", **columns) -> int:
    """A tenant's connection with no settings or secrets, committed, for tests that write store
    rows directly; its id."""
    tenant = get_or_create_tenant(session, tenant_name)
    conn = Connection(tenant_id=tenant.id, name=name, crm=crm, **columns)
    session.add(conn)
    session.commit()
    return conn.id


def insert_connection_one(db, crm: str = "hubspot") -> None:
    """Tenant 1 and its connection 1 in plain SQL, for migration tests that write rows into a schema
    older than today's models."""
    db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-01-01')"))
    db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                    "secrets, sync_interval_seconds, created_at) VALUES (1, 1, 'c', :crm, "
                    "'active', 0, '{}', '', 300, '2026-01-01')"), {"crm": crm})
