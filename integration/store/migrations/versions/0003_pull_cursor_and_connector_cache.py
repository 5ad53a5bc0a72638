"""pull cursor and connector metadata cache

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pull_cursor', sa.JSON(), nullable=True))
    op.create_table('connectorcache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('expires_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'key')
    )
    with op.batch_alter_table('connectorcache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connectorcache_connection_id'), ['connection_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('connectorcache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connectorcache_connection_id'))
    op.drop_table('connectorcache')
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_column('pull_cursor')
