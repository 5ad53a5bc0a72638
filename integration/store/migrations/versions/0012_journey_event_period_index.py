"""journey events by connection and date: analytics over a period read only its stage entries

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 10:55:00
"""
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_journeyevent_conn_occurred', 'journeyevent', ['connection_id', 'occurred_at'])


def downgrade() -> None:
    op.drop_index('ix_journeyevent_conn_occurred', table_name='journeyevent')
