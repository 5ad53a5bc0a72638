"""SQLite reads a period's journey summaries per path, in its period index's order

A period's funnel and paths need, of each record whose journey reaches into the period, its path
and how many of its entries came before the period (and before its end). SQLite read those from
``ix_journeysummary_period`` in last-entry order, and Python counted the rows: at 1,000,000
records the last 365 days streamed 722,000 rows, 0.7-1.1 s of a funnel. The index now leads with
the path, so SQLite groups the rows per path in the index's order, with no sort, and hands back
one row per path: its records and the cuts of those the period's bounds cut
(``journey_stats._coded_cuts``; 0.41-0.46 s). ``covered`` comes after the path: second, its
statistics would tell the planner that ``covered = 0`` keeps half the summaries, and it read
the uncovered records' funnel from all the period's events (17 s). The index stays SQLite's
only (0033). Indexes made here are analysed where the others were (see 0019).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

NAME = 'ix_journeysummary_period'
TIMES = [f'at{slot}' for slot in range(12)]
BEFORE = ['connection_id', 'last_at', 'covered', 'first_at', 'path', *TIMES]
AFTER = ['connection_id', 'path', 'covered', 'last_at', 'first_at', *TIMES]


def _remake(columns: list[str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    op.drop_index(NAME, table_name='journeysummary')
    op.create_index(NAME, 'journeysummary', columns)
    if bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        op.execute(f'ANALYZE {NAME}')


def upgrade() -> None:
    _remake(AFTER)


def downgrade() -> None:
    _remake(BEFORE)
