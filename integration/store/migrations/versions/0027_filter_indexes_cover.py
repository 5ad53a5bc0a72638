"""the filter indexes hold what the analytics read of the filtered records

A view filtered on records (a country, a lead source, a pipeline, a CRM, a persona, an owner)
read each matching record's row for its key (to join its events, journey summary and link) and
its stage: at a million records, a country's 125,000 rows lay on 50,000 pages, a second of a
workspace funnel's 1.5 on PostgreSQL. The filter indexes now end with those columns
(``FILTERED_READS`` in ``integration/store/models.py``), and the records come from the index
alone. Indexes made here are analysed where the others were (see 0019).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 00:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

READS = ['object', 'crm_id', 'crm', 'stage', 'entered_at']
#: index -> its columns before, without the reads
INDEXES = {
    'ix_recordstate_conn_country': ['connection_id', 'country'],
    'ix_recordstate_conn_lead_source': ['connection_id', 'lead_source'],
    'ix_recordstate_conn_crm': ['connection_id', 'crm'],
    'ix_recordstate_conn_pipeline': ['connection_id', 'pipeline'],
    'ix_recordstate_sort_persona': ['connection_id', 'persona', 'id'],
    'ix_recordstate_sort_owner_id': ['connection_id', 'owner_id', 'id'],
}


def _remake(with_reads: bool) -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='recordstate')
        reads = [column for column in READS if column not in columns] if with_reads else []
        op.create_index(name, 'recordstate', columns + reads)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        for name in INDEXES:
            op.execute(f'ANALYZE {name}')


def upgrade() -> None:
    _remake(with_reads=True)


def downgrade() -> None:
    _remake(with_reads=False)
