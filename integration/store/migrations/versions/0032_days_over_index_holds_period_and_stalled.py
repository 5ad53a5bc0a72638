"""the days-over sort index holds the entry date and whether a record is stalled

The record list's default order is the most days over first. Records entered long ago are the
most days over, so the records of a recent period come last in that order: at 1,000,000 records
the first page of the last 90 days' stalled records walked the days-over index and read 42,000
rows to keep 101 (30,394 pages on PostgreSQL: 2.1 s from disk). The index now ends with
``entered_at`` and ``stalled`` (``SORT_FILTER_COLUMNS`` in ``integration/store/models.py``), so
the period and the stalled filter are tested on its entries and only the page's rows are read
(375 pages, 168 ms from disk). Indexes made here are analysed where the others were (see 0019).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

NAME = 'ix_recordstate_sort_days_over'
BEFORE = ['connection_id', 'days_over', 'id']
AFTER = [*BEFORE, 'entered_at', 'stalled']


def _remake(columns: list[str]) -> None:
    op.drop_index(NAME, table_name='recordstate')
    op.create_index(NAME, 'recordstate', columns)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        op.execute(f'ANALYZE {NAME}')


def upgrade() -> None:
    _remake(AFTER)


def downgrade() -> None:
    _remake(BEFORE)
