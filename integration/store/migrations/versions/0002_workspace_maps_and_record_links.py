"""workspace maps and record links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mapversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.Integer(), nullable=True))
        batch_op.alter_column('connection_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_mapversion_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_unique_constraint('uq_mapversion_tenant_version', ['tenant_id', 'version'])
        batch_op.create_foreign_key('fk_mapversion_tenant', 'tenant', ['tenant_id'], ['id'])

    op.create_table('recordlink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('object', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('crm_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('group_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('person_values', sa.JSON(), nullable=True),
    sa.Column('updated_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'object', 'crm_id')
    )
    with op.batch_alter_table('recordlink', schema=None) as batch_op:
        batch_op.create_index('ix_recordlink_tenant_group', ['tenant_id', 'group_key'], unique=False)
        batch_op.create_index('ix_recordlink_tenant_email', ['tenant_id', 'email'], unique=False)


def downgrade() -> None:
    op.drop_table('recordlink')
    with op.batch_alter_table('mapversion', schema=None) as batch_op:
        batch_op.drop_constraint('fk_mapversion_tenant', type_='foreignkey')
        batch_op.drop_constraint('uq_mapversion_tenant_version', type_='unique')
        batch_op.drop_index(batch_op.f('ix_mapversion_tenant_id'))
        batch_op.alter_column('connection_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('tenant_id')
