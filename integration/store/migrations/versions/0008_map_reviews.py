"""map reviews: a map marked reviewed without a new version

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mapreview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviewed_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mapreview', schema=None) as batch_op:
        batch_op.create_index('ix_mapreview_scope', ['tenant_id', 'connection_id', 'reviewed_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('mapreview')
