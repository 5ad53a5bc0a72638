"""journey rollup by segment: stays counted again per persona, country, lead source and pipeline

A view filtered by one of them (one country over the last year) counted its stays from the
events of its records: at 1,000,000 records one country's journeys page took 1.0-1.2 s, its KPIs
0.74-0.83 s. The rollup now holds a copy of its rows per value of each of those record columns
(``segment``, ``value``; ``""`` for the whole connection), which such views add up instead
(``integration/store/rollups.py``). Views read the key's index alone: on SQLite the table is
WITHOUT ROWID (its rows live in the primary key's b-tree), on PostgreSQL the key's index
INCLUDEs the count (one country's year of time in stage read 28,598 pages of index and table,
now 431 of index). PostgreSQL's index-only scans skip only the table pages its visibility map
marks all-visible, which a VACUUM does: the upgrade runs one (outside the migration's
transaction, which is committed first) rather than leave the views slow until autovacuum comes.

The table is remade and counted afresh from the events and record states, with one grouped
INSERT ... SELECT per segment and kind: 3-4 minutes and under 100 MB of memory per million
records (bench/RESULTS.md, "Rollup segments"). Its statistics are taken at once, where the other
tables have theirs (see 0019).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.rollups import rebuild_stays


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

COUNTED = ['kind', 'day', 'object', 'stage', 'next_stage', 'days']


def _create(segmented: bool) -> None:
    segment = [sa.Column('segment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
               sa.Column('value', sqlmodel.sql.sqltypes.AutoString(), nullable=False)] if segmented else []
    op.create_table(
        'journeyrollup',
        sa.Column('connection_id', sa.Integer(), nullable=False),
        *segment,
        sa.Column('kind', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('object', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('next_stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['connection.id'], ),
        sa.PrimaryKeyConstraint('connection_id', *(['segment', 'value'] if segmented else []), *COUNTED,
                                **({'postgresql_include': ['n']} if segmented else {})),
        **({'sqlite_with_rowid': False} if segmented else {}))
    op.create_index('ix_journeyrollup_empty', 'journeyrollup', ['connection_id'],
                    postgresql_where=sa.text('n = 0'), sqlite_where=sa.text('n = 0'))


def _drop() -> None:
    op.drop_index('ix_journeyrollup_empty', table_name='journeyrollup')
    op.drop_table('journeyrollup')


def upgrade() -> None:
    _drop()
    _create(segmented=True)
    bind = op.get_bind()
    rebuild_stays(bind)
    if bind.dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('VACUUM ANALYZE journeyrollup')
    elif bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        op.execute('ANALYZE journeyrollup')


def downgrade() -> None:
    # the whole connections' rows are 0020's table as it was
    columns = ', '.join(['connection_id', *COUNTED, 'n'])
    op.execute(f"CREATE TABLE journeyrollup_whole AS SELECT {columns} FROM journeyrollup "
               "WHERE segment = ''")
    _drop()
    _create(segmented=False)
    op.execute(f"INSERT INTO journeyrollup ({columns}) SELECT {columns} FROM journeyrollup_whole")
    op.drop_table('journeyrollup_whole')
