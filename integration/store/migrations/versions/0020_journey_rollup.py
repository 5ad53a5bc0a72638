"""journey rollup: stage stays counted by day (or month), stage, next stage or days

The table is filled by 0030, which gives it its segments: the rollup code counts by the columns
of that revision's table, not of this one's.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 13:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('journeyrollup',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('object', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('next_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('connection_id', 'kind', 'day', 'object', 'stage', 'next_stage', 'days')
    )
    op.create_index('ix_journeyrollup_empty', 'journeyrollup', ['connection_id'],
                    postgresql_where=sa.text('n = 0'), sqlite_where=sa.text('n = 0'))


def downgrade() -> None:
    op.drop_index('ix_journeyrollup_empty', table_name='journeyrollup')
    op.drop_table('journeyrollup')
