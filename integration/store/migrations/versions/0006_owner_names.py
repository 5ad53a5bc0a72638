"""owner names

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crmowner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'owner_id')
    )
    with op.batch_alter_table('crmowner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmowner_connection_id'), ['connection_id'], unique=False)


def downgrade() -> None:
    op.drop_table('crmowner')
