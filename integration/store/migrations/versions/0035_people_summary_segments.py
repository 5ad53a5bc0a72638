"""people summary by segment: each person's row again per country, persona, lead source, pipeline and owner

A workspace view filtered by one of them (one country over the last year) joined its records'
events and ranked its records' states: at 1,000,000 records one country's workspace page took
1.0 s on SQLite and 1.3 s on PostgreSQL, one owner's 0.8-1.0 s on PostgreSQL. The summary now holds, beside each person's row of all
of their records (``segment`` and ``value`` ``""``), a row per value of each of those record
columns their records hold, made from those records alone, which such a view adds up instead
(``integration/store/people_summaries.py``), as the journey rollup's segments (0030) serve the
connection analytics (which leave the owner to the records' indexes).

The table is remade empty and every tenant's rows are left for the people pass to make, as 0025
did: they follow the workspace map's stages and people rule, which are the service's to read.
The next people pass (the hourly stall pass runs a full one) makes them all; until then the
workspace funnel reads the events, as it does for any view the summary does not hold.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03 20:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.types import UTCDateTime


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

TIMES = [f'at{slot}' for slot in range(16)]
INDEXES = ('uncovered', 'linked', 'lead', 'period', 'paths')


def _create(segmented: bool) -> None:
    segment = ['segment', 'value'] if segmented else []
    op.create_table(
        'peoplesummary',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('group_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        *(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False) for name in segment),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.Column('across_crms', sa.Boolean(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('lead_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('lead_entered_at', UTCDateTime(), nullable=True),
        sa.Column('path', sa.Text(), nullable=True),
        sa.Column('last_at', UTCDateTime(), nullable=True),
        sa.Column('covered', sa.Boolean(), nullable=False),
        *(sa.Column(name, UTCDateTime(), nullable=True) for name in TIMES),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
        sa.PrimaryKeyConstraint('tenant_id', 'group_key', *segment))
    op.create_index('ix_peoplesummary_paths', 'peoplesummary',
                    ['tenant_id', *segment, 'kind', 'covered', 'path'])
    op.create_index('ix_peoplesummary_period', 'peoplesummary',
                    ['tenant_id', *segment, 'kind', 'covered', 'last_at', 'path', *TIMES])
    op.create_index('ix_peoplesummary_lead', 'peoplesummary',
                    ['tenant_id', *segment, 'kind', 'lead_stage', 'lead_entered_at'])
    op.create_index('ix_peoplesummary_linked', 'peoplesummary',
                    ['tenant_id', *segment[:1], 'kind', 'email', 'across_crms', 'records'])
    op.create_index('ix_peoplesummary_uncovered', 'peoplesummary', ['tenant_id', *segment, 'kind', 'group_key'],
                    postgresql_where=sa.text('NOT covered'), sqlite_where=sa.text('covered = 0'))


def _remake(segmented: bool) -> None:
    for name in INDEXES:
        op.drop_index(f'ix_peoplesummary_{name}', table_name='peoplesummary')
    op.drop_table('peoplesummary')
    _create(segmented)
    # no tenant's rows are made: the next people pass makes them all
    op.execute(sa.text('UPDATE tenant SET people_summary_basis = NULL, people_summary_build = NULL'))


def upgrade() -> None:
    _remake(segmented=True)


def downgrade() -> None:
    _remake(segmented=False)
