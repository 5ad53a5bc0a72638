"""people summary: one row per person or deal of a workspace (its records' stage entries merged, lead record's stage)

The workspace funnel joined every linked record's journey events and ranked every linked record's
state (2 to 16 s cold at a million records). The people pass now keeps one row per person or deal
(``integration/store/people_summaries.py``) and the tenant row what those rows were made from.
Nothing is backfilled here: the rows follow the workspace map's stages and people rule, which
are the service's to read, so the first people pass after the upgrade makes them all (the
tenant's ``people_summary_build`` is NULL), and until then the funnel reads the events as before.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 22:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.types import UTCDateTime

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

SLOTS = range(16)


def upgrade() -> None:
    with op.batch_alter_table('tenant') as batch:
        batch.add_column(sa.Column('people_summary_basis', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('people_summary_build', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('peoplesummary',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('group_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('across_crms', sa.Boolean(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lead_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('lead_entered_at', UTCDateTime(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('last_at', UTCDateTime(), nullable=True),
    sa.Column('covered', sa.Boolean(), nullable=False),
    *(sa.Column(f'at{slot}', UTCDateTime(), nullable=True) for slot in SLOTS),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('tenant_id', 'group_key')
    )
    op.create_index('ix_peoplesummary_paths', 'peoplesummary', ['tenant_id', 'kind', 'covered', 'path'])
    op.create_index('ix_peoplesummary_period', 'peoplesummary',
                    ['tenant_id', 'kind', 'covered', 'last_at', 'path', *(f'at{slot}' for slot in SLOTS)])
    op.create_index('ix_peoplesummary_lead', 'peoplesummary',
                    ['tenant_id', 'kind', 'lead_stage', 'lead_entered_at'])
    op.create_index('ix_peoplesummary_linked', 'peoplesummary',
                    ['tenant_id', 'kind', 'email', 'across_crms', 'records'])
    op.create_index('ix_peoplesummary_uncovered', 'peoplesummary', ['tenant_id', 'kind', 'group_key'],
                    postgresql_where=sa.text('NOT covered'), sqlite_where=sa.text('covered = 0'))


def downgrade() -> None:
    for name in ('uncovered', 'linked', 'lead', 'period', 'paths'):
        op.drop_index(f'ix_peoplesummary_{name}', table_name='peoplesummary')
    op.drop_table('peoplesummary')
    with op.batch_alter_table('tenant') as batch:
        batch.drop_column('people_summary_build')
        batch.drop_column('people_summary_basis')
