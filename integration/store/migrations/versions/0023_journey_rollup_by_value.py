"""journey rollup per filter value (owner, persona, country...) and closed stays by week

Journey events carry their record's filter values (``RECORD_DIMENSIONS``, copied from its state
row): ``journeyrollupbyvalue`` counts the stays of each value by month (moves by next stage,
closed stays by days lasted) and the open ones by day, so a
view filtered on one owner, persona, country, lead source, pipeline or CRM reads it instead of
joining every event of the period to the records. ``journeyrollup`` gains closed stays by week
(weekly trends read whole weeks, not day rows). Backfilled in set-based SQL: one UPDATE ... FROM
of the events, then one grouped INSERT ... SELECT per value column and kind.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 17:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.models import RECORD_DIMENSIONS, JourneyRollup, JourneyRollupByValue
from integration.store.rollups import (CLOSED_BY_MONTH, CLOSED_BY_WEEK, MOVES_BY_MONTH, OPEN_BY_DAY,
                                       rebuild)


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in RECORD_DIMENSIONS:
        op.add_column('journeyevent', sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # UPDATE ... FROM: PostgreSQL, and SQLite since 3.33
    op.execute(sa.text(
        "UPDATE journeyevent SET " + ", ".join(f"{name} = r.{name}" for name in RECORD_DIMENSIONS)
        + " FROM recordstate AS r WHERE r.connection_id = journeyevent.connection_id "
        "AND r.object = journeyevent.object AND r.crm_id = journeyevent.crm_id"))
    op.create_table('journeyrollupbyvalue',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('object', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('next_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
    sa.PrimaryKeyConstraint('connection_id', 'dimension', 'value', 'kind', 'day', 'object', 'stage',
                            'next_stage', 'days')
    )
    op.create_index('ix_journeyrollupbyvalue_empty', 'journeyrollupbyvalue', ['connection_id'],
                    postgresql_where=sa.text('n = 0'), sqlite_where=sa.text('n = 0'))
    rebuild(op.get_bind(), kinds={JourneyRollup: (CLOSED_BY_WEEK,),
                                  JourneyRollupByValue: (MOVES_BY_MONTH, CLOSED_BY_MONTH, OPEN_BY_DAY)})


def downgrade() -> None:
    op.drop_index('ix_journeyrollupbyvalue_empty', table_name='journeyrollupbyvalue')
    op.drop_table('journeyrollupbyvalue')
    op.execute(sa.text(f"DELETE FROM journeyrollup WHERE kind = {CLOSED_BY_WEEK}"))
    with op.batch_alter_table('journeyevent', schema=None) as batch_op:
        for name in RECORD_DIMENSIONS:
            batch_op.drop_column(name)
