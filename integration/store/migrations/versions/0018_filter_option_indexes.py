"""record states by CRM and by pipeline: the filter bar's choices by a loose index scan

The bar offers each filter's distinct values. Read with DISTINCT, the two unindexed columns (crm,
pipeline) cost a pass over every record: 1.3 s each at a million records on SQLite. With an index
each value is one probe (``integration.analytics.distinct_values``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 13:50:00
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_recordstate_conn_crm', 'recordstate', ['connection_id', 'crm'])
    op.create_index('ix_recordstate_conn_pipeline', 'recordstate', ['connection_id', 'pipeline'])


def downgrade() -> None:
    op.drop_index('ix_recordstate_conn_pipeline', table_name='recordstate')
    op.drop_index('ix_recordstate_conn_crm', table_name='recordstate')
