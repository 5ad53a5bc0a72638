"""packed record documents: record, state and crm_values deflated; stage_object and identity as columns

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 11:10:00

The three JSON documents of a stored record go into binary columns of the same names, packed
(integration/store/packed.py, format 1: about a sixth of the JSON). The paths that were read
inside them in SQL, ``record.stage_object`` and ``record.identity``, become columns first.
"""
import json
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa
import sqlmodel

from integration.store.packed import pack, unpack


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

DOCUMENTS = ('record', 'state', 'crm_values')
#: Rows read, converted and written at a time.
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_object', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('identity', sa.JSON(none_as_null=True), nullable=True))
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(f'{name}_packed', sa.LargeBinary(), nullable=True))
    with _indexes_rebuilt_after():
        _copy(sa.JSON, sa.LargeBinary, lambda document: pack(_document(document)), stage_object=True)
    _swap(sa.LargeBinary())


def downgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(f'{name}_packed', sa.JSON(), nullable=True))
    with _indexes_rebuilt_after():
        _copy(sa.LargeBinary, sa.JSON, unpack, stage_object=False)
    _swap(sa.JSON())
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.drop_column('stage_object')
        batch_op.drop_column('identity')


def _document(value):
    return json.loads(value) if isinstance(value, str) else value


@contextmanager
def _indexes_rebuilt_after():
    """On PostgreSQL, drop the table's indexes that back no constraint while every row is
    rewritten and build them anew after (in the migration's transaction): a rewritten row goes
    into every index one entry at a time, where a build sorts each index's entries once."""
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        yield
        return
    indexes = bind.execute(sa.text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'recordstate' "
        "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname AND c.conrelid = 'recordstate'::regclass)")).all()
    for name, _ in indexes:
        op.execute(f'DROP INDEX "{name}"')
    yield
    for _, definition in indexes:
        op.execute(definition)


def _copy(source_type, target_type, convert, *, stage_object: bool) -> None:
    """Fill the ``*_packed`` columns from the documents (and, upgrading, the record's stage object
    and identity columns), a batch of rows at a time: read by keyset (id order), converted here,
    written back in one statement per batch on PostgreSQL (``UPDATE ... FROM unnest``; one
    statement a row costs a round trip each) and in one executemany on SQLite (in-process)."""
    bind = op.get_bind()
    table = sa.table('recordstate', sa.column('id', sa.Integer), *(sa.column(name, source_type)
                                                                 for name in DOCUMENTS))
    write = _writer(bind, target_type, stage_object)
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
        write(values)
        last = rows[-1][0]


def _writer(bind, target_type, stage_object: bool):
    """A function writing a batch of converted rows (dicts keyed ``row_id``, the ``*_packed``
    columns and, with ``stage_object``, ``stage_object`` and ``identity``)."""
    if bind.dialect.name != 'postgresql':
        table = sa.table('recordstate', sa.column('id', sa.Integer), sa.column('stage_object', sa.String),
                         sa.column('identity', sa.JSON(none_as_null=True)),
                         *(sa.column(f'{name}_packed', target_type) for name in DOCUMENTS))
        update = table.update().where(table.c.id == sa.bindparam('row_id'))
        return lambda values: bind.execute(update, values)
    # Each column travels as one array: bytes as bytea, text as text, JSON as its text (as the
    # JSON type writes it), cast back on the server.
    document = 'bytea' if target_type is sa.LargeBinary else 'json'
    kinds = {f'{name}_packed': document for name in DOCUMENTS}
    if stage_object:
        kinds.update(stage_object='text', identity='json')
    statement = sa.text(
        'UPDATE recordstate AS r SET '
        + ', '.join(f'{c} = u.{c}' + ('::json' if kind == 'json' else '') for c, kind in kinds.items())
        + ' FROM unnest(CAST(:row_id AS integer[]), '
        + ', '.join(f'CAST(:{c} AS {"bytea" if kind == "bytea" else "text"}[])' for c, kind in kinds.items())
        + f') AS u(id, {", ".join(kinds)}) WHERE r.id = u.id')

    def write(values):
        arrays = {c: [_json_text(v[c]) if kind == 'json' else v[c] for v in values]
                  for c, kind in kinds.items()}
        bind.execute(statement, {'row_id': [v['row_id'] for v in values], **arrays})
    return write


def _json_text(value):
    return None if value is None else json.dumps(value)


def _swap(new_type) -> None:
    """Drop the old document columns and give the filled ones their names."""
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.drop_column(name)
            batch_op.alter_column(f'{name}_packed', new_column_name=name, existing_type=new_type,
                                  nullable=False)
