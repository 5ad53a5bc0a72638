"""record states by CRM and by pipeline: the filter bar's choices by a loose index scan

The bar offers each filter's distinct values. Read with DISTINCT, the two unindexed columns (crm,
pipeline) cost a pass over every record: 1.3 s each at a million records on SQLite. With an index
each value is one probe (``integration.analytics.distinct_values``).

On SQLite, an index created after ANALYZE has no statistics while the others have theirs, and the
planner then takes it for a very selective one: it read the latest write of a connection (the
analytics stamp) through the new pipeline index, every entry of the connection, instead of one
probe of ``ix_recordstate_conn_updated``. The new indexes are analysed when the others are.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 13:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


NEW = ('ix_recordstate_conn_crm', 'ix_recordstate_conn_pipeline')


def upgrade() -> None:
    op.create_index(NEW[0], 'recordstate', ['connection_id', 'crm'])
    op.create_index(NEW[1], 'recordstate', ['connection_id', 'pipeline'])
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        for index in NEW:
            op.execute(f'ANALYZE {index}')


def downgrade() -> None:
    op.drop_index('ix_recordstate_conn_pipeline', table_name='recordstate')
    op.drop_index('ix_recordstate_conn_crm', table_name='recordstate')
