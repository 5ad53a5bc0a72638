"""journey events: each holds its next stage, and the record index holds each stay with its move

A view filtered on records (one country over a year) that the journey summary does not answer
reads its records' stays from their events: each record's events by the record index, then each
event's row for its stage and times, and for trends and moves each stay's next event by ``seq``.
On SQLite, which reads every filtered record's stays from its events, that was 281,000 row reads
for one country at a million records, and a scan of the record's events for each next stay. Each
event now holds the stage the record moved on to (``next_stage``: the next event's ``to_stage``,
as ``exited_at`` is its ``occurred_at``), filled in here for the stored events, and the record
index goes on with ``seq``, the stage, the times and the next stage, so the stays and their moves
come from the index alone (SQLite, one country over a year at 1,000,000 records: the stays with
their moves 790 -> 270 ms, trends 1.4 -> 0.9-1.0 s). Filling in 3.9 million events took 5.6 s on
SQLite and 106 s on PostgreSQL (every row rewritten), each index build 6 s and 15 s. Analysed
where the others were (see 0019).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 07:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

NAME = 'ix_journeyevent_record'
RECORD = ['connection_id', 'object', 'crm_id']
STAYS = ['seq', 'to_stage', 'occurred_at', 'exited_at']


def _index(columns: list[str]) -> None:
    op.drop_index(NAME, table_name='journeyevent')
    op.create_index(NAME, 'journeyevent', columns)


def _analyse() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        op.execute(f'ANALYZE {NAME}')


def upgrade() -> None:
    op.add_column('journeyevent', sa.Column('next_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _index(RECORD + STAYS)  # each next event one probe away while they are filled in
    op.execute("UPDATE journeyevent SET next_stage = (SELECT following.to_stage "
               "FROM journeyevent AS following WHERE following.connection_id = journeyevent.connection_id "
               "AND following.object = journeyevent.object AND following.crm_id = journeyevent.crm_id "
               "AND following.seq = journeyevent.seq + 1) WHERE exited_at IS NOT NULL")
    _index(RECORD + STAYS + ['next_stage'])
    _analyse()


def downgrade() -> None:
    _index(RECORD)
    with op.batch_alter_table('journeyevent') as batch_op:
        batch_op.drop_column('next_stage')
    _analyse()
