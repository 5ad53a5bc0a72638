"""record search on SQLite: an FTS5 index of words for one- and two-character texts (q=)

A search text of one or two letters or digits now matches the start of a word
(``integration/store/search.py``); a substring that short had no index, so a text few records
hold read every record (5-6 s at a million on SQLite). On SQLite an external-content FTS5 table
of the three columns' words (unicode61 tokenizer, prefix indexes of one and two characters, no
positions: a prefix query needs none) finds the candidates, kept in step with ``recordstate`` by
triggers like 0018's and filled by one 'rebuild'. Left out, as 0018's table is, when SQLite has
no FTS5 trigram tokenizer (before 3.34): search stays a scan there. PostgreSQL needs nothing new:
0013's pg_trgm indexes serve the word-start test (a regular expression) as they are.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 20:10:00
"""
from alembic import op

from integration.store.search import SQLITE_TRIGRAM, WORDS_TABLE

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

SEARCHED = ('name', 'email', 'company')
COLUMNS = ', '.join(SEARCHED)
NEW = ', '.join(f'new.{c}' for c in SEARCHED)
OLD = ', '.join(f'old.{c}' for c in SEARCHED)
CHANGED = ' OR '.join(f'old.{c} IS NOT new.{c}' for c in SEARCHED)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite' or not SQLITE_TRIGRAM:
        return
    op.execute(f"CREATE VIRTUAL TABLE {WORDS_TABLE} USING fts5({COLUMNS}, content='recordstate', "
               f"content_rowid='id', tokenize='unicode61', prefix='1 2', detail=none, "
               f"columnsize=0)")
    op.execute(f"CREATE TRIGGER {WORDS_TABLE}_insert AFTER INSERT ON recordstate BEGIN "
               f"INSERT INTO {WORDS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END")
    op.execute(f"CREATE TRIGGER {WORDS_TABLE}_delete AFTER DELETE ON recordstate BEGIN "
               f"INSERT INTO {WORDS_TABLE}({WORDS_TABLE}, rowid, {COLUMNS}) "
               f"VALUES ('delete', old.id, {OLD}); END")
    # a sync rewrites whole rows; only a change of a searched column touches the index
    op.execute(f"CREATE TRIGGER {WORDS_TABLE}_update AFTER UPDATE OF {COLUMNS} ON recordstate "
               f"WHEN {CHANGED} BEGIN "
               f"INSERT INTO {WORDS_TABLE}({WORDS_TABLE}, rowid, {COLUMNS}) "
               f"VALUES ('delete', old.id, {OLD}); "
               f"INSERT INTO {WORDS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END")
    op.execute(f"INSERT INTO {WORDS_TABLE}({WORDS_TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for trigger in ('insert', 'delete', 'update'):
        op.execute(f'DROP TRIGGER IF EXISTS {WORDS_TABLE}_{trigger}')
    op.execute(f'DROP TABLE IF EXISTS {WORDS_TABLE}')
