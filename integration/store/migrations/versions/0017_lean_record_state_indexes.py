"""record states: three indexes no query reads dropped, and room on PostgreSQL's pages for the
write-back's update

Every stored record is inserted into each index of ``recordstate`` and, unless PostgreSQL can
update it in place (a HOT update), inserted again when the write-back records the CRM's values.
Dropped, as no query reads them:

- ``ix_recordstate_connection_id``: every index here starts with the connection (the unique
  key ``(connection_id, object, crm_id)`` among them), so any serves a lookup by connection;
- ``ix_recordstate_conn_email`` and ``ix_recordstate_conn_company``: nothing filters or sorts
  by them; search matches inside them (``lower(column) LIKE``), served by the trigram indexes.

On PostgreSQL the table's pages are filled to 70% (``fillfactor``): a confirmed write-back
rewrites only ``crm_values``, which no index holds, so the new row version can stay on its page
without touching an index (a HOT update) when the page has room. Pages written from now on get
the room; SQLite updates rows in place and has no such setting.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 13:30:00
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

FILLFACTOR = 70
DROPPED = {'ix_recordstate_connection_id': ['connection_id'],
           'ix_recordstate_conn_email': ['connection_id', 'email'],
           'ix_recordstate_conn_company': ['connection_id', 'company']}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name='recordstate')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE recordstate SET (fillfactor = {FILLFACTOR})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE recordstate RESET (fillfactor)')
    for name, columns in DROPPED.items():
        op.create_index(name, 'recordstate', columns)
