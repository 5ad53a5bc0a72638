"""journey rollup cohorts: records counted by the day of their first entry, first stage and stages reached

A cohort view (records by the month they entered their first stage, and how far each month's
got) grouped the journey summaries of every record that began in the period: at 1,000,000
records a year of them, 0.3-0.55 s on its own and most of a journeys page that missed the
one-second goal on PostgreSQL. The rollup now counts records in rows of a fifth kind
(``COHORTS``: day of the first entry, first stage, every stage reached), for the whole
connection and per segment, which such views add up (``integration/store/rollups.py``).

Filled from the stored journey summaries and record states, streamed and added a chunk of
records at a time (bench/RESULTS.md, "Cohorts from the rollup"); the table is then vacuumed on
PostgreSQL, as 0030 does, so views read its index alone.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 13:00:00
"""
from alembic import op
import sqlalchemy as sa

from integration.store.rollups import COHORTS, rebuild_cohorts


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rebuild_cohorts(bind)
    if bind.dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('VACUUM ANALYZE journeyrollup')
    elif bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        op.execute('ANALYZE journeyrollup')


def downgrade() -> None:
    op.execute(f'DELETE FROM journeyrollup WHERE kind = {COHORTS}')
