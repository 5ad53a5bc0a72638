"""record list sorting: next best action as a column, a (connection, column, id) index per sort

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: Sort columns of the record list; each gets an index that serves keyset paging in both
#: directions (see integration/record_pages.py).
SORTED = ('name', 'stage', 'persona', 'owner_id', 'entered_at', 'days_over', 'amount',
          'next_best_action')


def upgrade() -> None:
    op.add_column('recordstate', sa.Column('next_best_action', sa.Text(), nullable=True))
    extract = ("state ->> 'next_best_action'" if op.get_bind().dialect.name == 'postgresql'
               else "json_extract(state, '$.next_best_action')")
    op.execute(f"UPDATE recordstate SET next_best_action = {extract}")
    # (connection_id, stage, id) serves every query the old (connection_id, stage) index did.
    op.drop_index('ix_recordstate_conn_stage', table_name='recordstate')
    for column in SORTED:
        op.create_index(f'ix_recordstate_sort_{column}', 'recordstate',
                        ['connection_id', column, 'id'])


def downgrade() -> None:
    for column in SORTED:
        op.drop_index(f'ix_recordstate_sort_{column}', table_name='recordstate')
    op.create_index('ix_recordstate_conn_stage', 'recordstate', ['connection_id', 'stage'])
    op.drop_column('recordstate', 'next_best_action')
