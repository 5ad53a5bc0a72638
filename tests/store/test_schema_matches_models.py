"""The schema the migrations build is the one the models declare (tables, columns, indexes and
keys), on SQLite and PostgreSQL: a model change without its migration, or a migration that makes
an index other than the model's, fails here rather than in a customer's upgrade."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import integration.store.models  # noqa: F401 (the tables the metadata holds)
from integration.store.db import make_engine, upgrade
from integration.store.search import FTS_TABLE, WORDS_TABLE
from tests.fixtures_store import empty_db_url  # noqa: F401 (fixture)

#: What the search makes by migration alone (integration/store/search.py): SQLite's full-text
#: tables (virtual tables, with their shadow tables) and PostgreSQL's trigram indexes (GIN on
#: expressions), which the models cannot declare.
SEARCH_TABLES = (FTS_TABLE, WORDS_TABLE)
TRIGRAM_INDEXES = "ix_recordstate_search_"


def _not_search(diff) -> bool:
    kind, thing = diff[0], diff[1]
    return not (kind == "remove_table" and thing.name.startswith(SEARCH_TABLES)
                or kind == "remove_index" and thing.name.startswith(TRIGRAM_INDEXES))


def _declared_here(diff, dialect: str) -> bool:
    """False for an index the models declare for another database only (``ddl_if``), which
    alembic's comparison (on copies of the models' indexes) does not heed."""
    if diff[0] != "add_index":
        return True
    declared = {index.name: index for index in SQLModel.metadata.tables[diff[1].table.name].indexes}
    only = declared[diff[1].name]._ddl_if
    return only is None or only.dialect in (None, dialect)


def test_the_migrated_schema_is_the_models_schema(empty_db_url):
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert [diff for diff in diffs if _not_search(diff) and _declared_here(diff, engine.dialect.name)] == []
