"""journey summary: a period's runs read from one index holding what they need

At a million records on SQLite, the runs of the last 90 days (a third of the records reach into
it) took 9.4 s: one look-up of a summary row per index entry, in last-entry order, scattered over
the table. The index now holds the columns the runs read (covered, first entry, path, entry
times), so they are read in one pass over the period's part of it: 4.0 s at load 7.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 17:55:00
"""
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

#: The entry-time columns of migration 0022's summary.
ENTRY_TIMES = [f'at{slot}' for slot in range(12)]


def upgrade() -> None:
    op.create_index('ix_journeysummary_period', 'journeysummary',
                    ['connection_id', 'last_at', 'covered', 'first_at', 'path', *ENTRY_TIMES])
    op.drop_index('ix_journeysummary_last', table_name='journeysummary')


def downgrade() -> None:
    op.create_index('ix_journeysummary_last', 'journeysummary', ['connection_id', 'last_at'])
    op.drop_index('ix_journeysummary_period', table_name='journeysummary')
