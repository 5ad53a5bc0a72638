"""record filter columns: crm, email, company, country, lead_source

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:30:00

Lists, search and analytics filter on these instead of paths into the record's JSON. Existing rows
are filled from their stored record document.
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ('crm', 'email', 'company', 'country', 'lead_source')
INDEXED = ('email', 'company', 'country', 'lead_source')
#: Where a record stored before the ``company`` canonical field keeps its company, by CRM and
#: object (frozen here: a migration must not change when the connectors do).
COMPANY_RAW = {('salesforce', 'opportunity'): 'Account.Name', ('salesforce', 'contact'): 'Account.Name',
               ('salesforce', 'lead'): 'Company', ('hubspot', 'contact'): 'company'}
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        for name in INDEXED:
            batch_op.create_index(f'ix_recordstate_conn_{name}', ['connection_id', name], unique=False)
    _fill()


def _fill() -> None:
    """Copy the columns' values out of every stored record document, a batch at a time."""
    bind = op.get_bind()
    table = sa.table('recordstate', sa.column('id', sa.Integer), sa.column('record', sa.JSON),
                     *(sa.column(name, sa.String) for name in COLUMNS))
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.record).where(table.c.id > last)
                            .order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = [{'row_id': row_id, **_values(record)} for row_id, record in rows]
        bind.execute(table.update().where(table.c.id == sa.bindparam('row_id')), values)
        last = rows[-1][0]


def _values(record) -> dict:
    document = json.loads(record) if isinstance(record, str) else (record or {})
    fields = document.get('fields') or {}
    raw = document.get('raw') or {}
    company = fields.get('company') or raw.get(COMPANY_RAW.get((document.get('crm'), document.get('object'))))
    return {'crm': document.get('crm'), 'email': (document.get('identity') or {}).get('email'),
            'company': _text(company), 'country': _text(fields.get('country')),
            'lead_source': _text(fields.get('lead_source'))}


def _text(value):
    return None if value in (None, '') or isinstance(value, dict) else str(value)


def downgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in INDEXED:
            batch_op.drop_index(f'ix_recordstate_conn_{name}')
        for name in COLUMNS:
            batch_op.drop_column(name)
