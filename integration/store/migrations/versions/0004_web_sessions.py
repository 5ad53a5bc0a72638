"""web sessions kept on the server (sign-out ends them)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('websession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('user_email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_id_hash'), ['id_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_websession_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_websession_id_hash'))
    op.drop_table('websession')
