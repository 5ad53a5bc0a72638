"""opened views: the pages people open with a period and filters of their own, warmed after syncs

A filtered view computed cold (a workspace view filtered on records takes seconds at a million
records) was computed again on the first open after every sync. The worker now computes the
views opened in the last week again after each change of the data, so they open from the cache.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 00:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.types import UTCDateTime

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('openedview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('page', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('opened_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'key')
    )
    op.create_index('ix_openedview_recent', 'openedview', ['tenant_id', 'connection_id', 'opened_at'])


def downgrade() -> None:
    op.drop_index('ix_openedview_recent', table_name='openedview')
    op.drop_table('openedview')
