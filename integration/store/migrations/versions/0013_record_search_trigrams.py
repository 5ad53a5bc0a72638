"""record search: trigram indexes on PostgreSQL for q= (name, e-mail, company)

A search is a case-insensitive substring match (``lower(column) LIKE '%text%'``), which no B-tree
index serves. On PostgreSQL, pg_trgm's GIN indexes on ``lower(column)`` do. pg_trgm ships with
PostgreSQL; creating it needs the CREATE privilege on the database: without it the migration
leaves search as a scan, as on SQLite.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 11:00:00
"""
import logging

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SEARCHED = ('name', 'email', 'company')
log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm is not available (%s); record search stays a scan", exc.orig)
        return
    for column in SEARCHED:
        op.execute(f'CREATE INDEX ix_recordstate_search_{column} ON recordstate '
                   f'USING gin (lower({column}) gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in SEARCHED:
        op.execute(f'DROP INDEX IF EXISTS ix_recordstate_search_{column}')
