"""connection state: paused / needs reconnecting, failure backoff, one connection per CRM account

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:20:00
"""
from alembic import op
import sqlalchemy as sa

import integration.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

DUPLICATE_REASON = ("Connected to the same CRM account as connection {keep}; reconnect it with "
                    "credentials of another account, or delete it.")


def upgrade() -> None:
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(), nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('state_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('retry_at', integration.store.types.UTCDateTime(),
                                      nullable=True))
    _detach_duplicates()
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_connection_tenant_account',
                                          ['tenant_id', 'crm', 'account_id'])


def _detach_duplicates() -> None:
    """Before the constraint: where a tenant connected one CRM account twice, the oldest keeps it;
    the others lose the account id and wait for an admin in the "needs reconnecting" state."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, tenant_id, crm, account_id FROM connection WHERE account_id IS NOT NULL "
        "ORDER BY id")).all()
    first: dict[tuple, int] = {}
    for row in rows:
        key = (row.tenant_id, row.crm, row.account_id)
        if key not in first:
            first[key] = row.id
            continue
        bind.execute(sa.text("UPDATE connection SET account_id = NULL, state = 'needs_reconnect', "
                             "state_reason = :reason WHERE id = :id"),
                     {"reason": DUPLICATE_REASON.format(keep=first[key]), "id": row.id})


def downgrade() -> None:
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_constraint('uq_connection_tenant_account', type_='unique')
        batch_op.drop_column('retry_at')
        batch_op.drop_column('failures')
        batch_op.drop_column('state_reason')
        batch_op.drop_column('state')
