"""record search on SQLite: an FTS5 trigram index of name, e-mail and company for q=

A search is a case-insensitive substring match (``integration/store/search.py``), which no B-tree
index serves; PostgreSQL has pg_trgm indexes for it (0013). On SQLite, an external-content FTS5
table with the trigram tokenizer indexes the three columns of ``recordstate`` (its rowid is the
record's id); triggers keep it in step with every insert, delete and change of those columns,
whatever writes them. Without FTS5's trigram tokenizer (SQLite before 3.34) the table is left
out and search stays a scan.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 13:40:00
"""
import logging

from alembic import op

from integration.store.search import FTS_TABLE, SQLITE_TRIGRAM

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SEARCHED = ('name', 'email', 'company')
log = logging.getLogger(__name__)
COLUMNS = ', '.join(SEARCHED)
NEW = ', '.join(f'new.{c}' for c in SEARCHED)
OLD = ', '.join(f'old.{c}' for c in SEARCHED)
CHANGED = ' OR '.join(f'old.{c} IS NOT new.{c}' for c in SEARCHED)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    if not SQLITE_TRIGRAM:
        log.warning("SQLite has no FTS5 trigram tokenizer; record search stays a scan")
        return
    op.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({COLUMNS}, content='recordstate', "
               f"content_rowid='id', tokenize='trigram case_sensitive 0')")
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON recordstate BEGIN "
               f"INSERT INTO {FTS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END")
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON recordstate BEGIN "
               f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {COLUMNS}) "
               f"VALUES ('delete', old.id, {OLD}); END")
    # a sync rewrites whole rows; only a change of a searched column touches the index
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {COLUMNS} ON recordstate "
               f"WHEN {CHANGED} BEGIN "
               f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {COLUMNS}) "
               f"VALUES ('delete', old.id, {OLD}); "
               f"INSERT INTO {FTS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END")
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for trigger in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS {FTS_TABLE}_{trigger}')
    op.execute(f'DROP TABLE IF EXISTS {FTS_TABLE}')
