"""outbox: an index on the record an item writes to

Each page a sync stores replaces the open plans of its records (``outbox.replace_plans``: a
SELECT of their failed items and a DELETE, ``WHERE connection_id = ? AND object = ? AND crm_id IN
(...)``). The outbox had indexes on the connection and on (connection, status, due time) only,
so both statements read every open item of the connection: on the first sync of a million
HubSpot contacts, whose write-backs wait in the outbox for the people pass, 1 s each a page at
370,000 items waiting, a cost growing with the square of the pull. With the index they read the
page's own items.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 14:40:00
"""
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_record', 'outboxitem', ['connection_id', 'object', 'crm_id'])


def downgrade() -> None:
    op.drop_index('ix_outbox_record', table_name='outboxitem')
