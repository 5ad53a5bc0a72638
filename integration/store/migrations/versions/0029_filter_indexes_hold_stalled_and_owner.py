"""the filter indexes hold whether a record is stalled, and its owner

The dashboard's stalled counts of a view filtered on records (one country over a year) read every
stalled record of the period by the stalled records' index and looked each one's row up for the
filter: 145,000 look-ups for one country at a million records (SQLite 240-400 ms, PostgreSQL
190-220 ms). The filter indexes now end with ``stalled`` and ``owner_id`` too (``FILTERED_READS``
in ``integration/store/models.py``), so those counts come from the filter's index alone (SQLite
20 ms). Unfiltered, the stalled counts of a period (the last 90 days: 73,000 stalled records) read
the stalled records' period index and looked each row up for its stage and owner (SQLite 280-400
ms); that index now ends with them. Indexes made here are analysed where the others were (see
0019).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

BEFORE = ['object', 'crm_id', 'crm', 'stage', 'entered_at']
AFTER = [*BEFORE, 'stalled', 'owner_id']
#: index -> its columns before the reads
INDEXES = {
    'ix_recordstate_conn_country': ['connection_id', 'country'],
    'ix_recordstate_conn_lead_source': ['connection_id', 'lead_source'],
    'ix_recordstate_conn_crm': ['connection_id', 'crm'],
    'ix_recordstate_conn_pipeline': ['connection_id', 'pipeline'],
    'ix_recordstate_sort_persona': ['connection_id', 'persona', 'id'],
    'ix_recordstate_sort_owner_id': ['connection_id', 'owner_id', 'id'],
}
PERIOD_STALLED = 'ix_recordstate_conn_stalled_entered'
PERIOD_STALLED_BEFORE = ['connection_id', 'stalled', 'entered_at', 'days_over']
PERIOD_STALLED_AFTER = [*PERIOD_STALLED_BEFORE, 'stage', 'owner_id']


def _remake(reads: list[str], period_stalled: list[str]) -> None:
    made = {name: columns + [c for c in reads if c not in columns] for name, columns in INDEXES.items()}
    made[PERIOD_STALLED] = period_stalled
    for name, columns in made.items():
        op.drop_index(name, table_name='recordstate')
        op.create_index(name, 'recordstate', columns)
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        for name in made:
            op.execute(f'ANALYZE {name}')


def upgrade() -> None:
    _remake(AFTER, PERIOD_STALLED_AFTER)


def downgrade() -> None:
    _remake(BEFORE, PERIOD_STALLED_BEFORE)
