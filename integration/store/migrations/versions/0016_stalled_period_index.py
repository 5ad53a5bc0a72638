"""record states by stalled, stage-entered date and days over: the dashboard's stalled table of a
period reads its page's ids from the index alone

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 11:40:00
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_recordstate_conn_stalled_entered', 'recordstate',
                    ['connection_id', 'stalled', 'entered_at', 'days_over'])


def downgrade() -> None:
    op.drop_index('ix_recordstate_conn_stalled_entered', table_name='recordstate')
