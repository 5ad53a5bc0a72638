"""analytics cache and the indexes analytics read

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 10:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import integration.store.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analyticscache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stamp', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('computed_at', integration.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('connection_id', 'key')
    )
    op.create_index('ix_journeyevent_conn_id', 'journeyevent', ['connection_id', 'id'])
    op.create_index('ix_recordstate_conn_updated', 'recordstate', ['connection_id', 'updated_at'])
    op.create_index('ix_recordstate_conn_stalled', 'recordstate',
                    ['connection_id', 'stalled', 'stage', 'owner_id'])


def downgrade() -> None:
    op.drop_index('ix_recordstate_conn_stalled', table_name='recordstate')
    op.drop_index('ix_recordstate_conn_updated', table_name='recordstate')
    op.drop_index('ix_journeyevent_conn_id', table_name='journeyevent')
    op.drop_table('analyticscache')
