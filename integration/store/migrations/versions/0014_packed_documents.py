"""packed record documents: record, state and crm_values deflated; stage_object and identity as columns

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:10:00

The three JSON documents of a stored record go into binary columns of the same names, packed
(integration/store/packed.py, format 1: about a sixth of the JSON). The paths that were read
inside them in SQL, ``record.stage_object`` and ``record.identity``, become columns first.
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.packed import pack, unpack


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

DOCUMENTS = ('record', 'state', 'crm_values')
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_object', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('identity', sa.JSON(none_as_null=True), nullable=True))
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(f'{name}_packed', sa.LargeBinary(), nullable=True))
    _copy(sa.JSON, sa.LargeBinary, lambda document: pack(_document(document)), stage_object=True)
    _swap(sa.LargeBinary())


def downgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(f'{name}_packed', sa.JSON(), nullable=True))
    _copy(sa.LargeBinary, sa.JSON, unpack, stage_object=False)
    _swap(sa.JSON())
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.drop_column('stage_object')
        batch_op.drop_column('identity')


def _document(value):
    return json.loads(value) if isinstance(value, str) else value


def _copy(source_type, target_type, convert, *, stage_object: bool) -> None:
    """Fill the ``*_packed`` columns from the documents (and, upgrading, the record's stage object
    and identity columns), a batch of rows at a time."""
    bind = op.get_bind()
    table = sa.table('recordstate', sa.column('id', sa.Integer), sa.column('stage_object', sa.String),
                     sa.column('identity', sa.JSON(none_as_null=True)),
                     *(sa.column(name, source_type) for name in DOCUMENTS),
                     *(sa.column(f'{name}_packed', target_type) for name in DOCUMENTS))
    last = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, *(table.c[name] for name in DOCUMENTS))
                            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        values = []
        for row_id, *documents in rows:
            row = {'row_id': row_id, **{f'{name}_packed': convert(document)
                                        for name, document in zip(DOCUMENTS, documents)}}
            if stage_object:
                record = _document(documents[0]) or {}
                row.update(stage_object=record.get('stage_object'), identity=record.get('identity'))
            values.append(row)
        bind.execute(table.update().where(table.c.id == sa.bindparam('row_id')), values)
        last = rows[-1][0]


def _swap(new_type) -> None:
    """Drop the old document columns and give the filled ones their names."""
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.drop_column(name)
            batch_op.alter_column(f'{name}_packed', new_column_name=name, existing_type=new_type,
                                  nullable=False)
