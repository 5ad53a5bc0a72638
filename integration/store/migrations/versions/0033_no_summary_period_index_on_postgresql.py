"""PostgreSQL reads a period's journey summaries by a sequential scan, not by their period index

A period's funnel and paths read the journey summaries of every record whose journey reaches
into the period. On PostgreSQL ``ix_journeysummary_period`` served them from the index alone,
but its pages lie scattered on disk as records come and go, and a read from disk fetched them
one at a time: at 1,000,000 records the last 90 days (323,000 entries, 7,131 pages) took
0.58-0.61 s of a cold funnel, 180 days 1.16 s, while a parallel sequential scan of the whole
table (180 MB) takes 0.33-0.36 s cold for any period (185-240 ms warm, against 130-160 by the
index for 90 days). So PostgreSQL drops the index (180 MB less to keep and to write); SQLite,
which has no parallel scan, keeps it (``ix_journeysummary_period`` in
``integration/store/models.py``; bench/RESULTS.md, "Cohorts from the rollup").

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 14:05:00
"""
from alembic import op


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

NAME = 'ix_journeysummary_period'
COLUMNS = ['connection_id', 'last_at', 'covered', 'first_at', 'path', *(f'at{slot}' for slot in range(12))]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index(NAME, table_name='journeysummary')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(NAME, 'journeysummary', COLUMNS)
