"""Record search (q=) finds the same records on SQLite (FTS5 trigram index) and PostgreSQL
(pg_trgm), the same as a plain substring scan, for texts the index serves and for those too short
for it; SQLite's index follows every insert, change and delete, and the migration indexes the
records stored before it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import sqlite

from integration.analytics import RecordFilter
from integration.record_pages import count_records, read_page
from integration.store.db import make_engine, upgrade
from integration.store.models import Connection, RecordState
from integration.store.search import FTS_TABLE, SQLITE_TRIGRAM
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from tests.fixtures_store import revisions_of

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
#: (name, e-mail, company) of the book; ids are their positions from 1.
BOOK = [
    ("Acme Renewal", "ops@acme.io", "Acme Corp"),
    ("Jane Doe", "Jane.Doe@Example.com", "Globex Corp"),
    ('=SUM(1), "Big" Deal', None, "Initech"),
    ("100% Pure_Growth", "growth@pure.example", None),
    ("ab", "x@y.z", "Ab Ab"),
    (None, None, None),
    ("Umbrella Renewal", "renew@umbrella.example", "Umbrella"),
]
#: Texts of every length: 1-2 characters (no trigram: the scan), longer ones (the index), mixed
#: case, quotes, LIKE's wildcards (literal), spaces, and a text that spans two columns (no match).
QUERIES = ["a", "A", "ab", "b ", "%", "_", '"', "acm", "ACME", "renewal", "Jane.doe@", "corp",
           '"big"', "100%", "% p", "pure_g", "e_g", ", ", "nobody", "doe jane", "Renewal ops",
           "UMBRELLA.EXAMPLE", "xyz", "x@y"]


def expected(q: str, rows=BOOK) -> list[int]:
    """Ids whose name, e-mail or company holds ``q`` in any case: what a scan finds."""
    needle = q.lower()
    return [i for i, row in enumerate(rows, start=1)
            if any(value is not None and needle in value.lower() for value in row)]


@pytest.fixture(scope="module")
def book(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "search")
        conn = Connection(tenant_id=tenant.id, name="search", crm="hubspot")
        other = Connection(tenant_id=tenant.id, name="other", crm="hubspot")
        db.add_all([conn, other])
        db.commit()
        cid, other_id = conn.id, other.id
        for connection_id in (cid, other_id):  # the other connection holds the same texts
            for n, (name, email, company) in enumerate(BOOK, start=1):
                db.add(RecordState(connection_id=connection_id, object="deal",
                                   crm_id=f"{connection_id}-{n}", name=name, email=email,
                                   company=company, stage="awareness", record={}, state={},
                                   updated_at=NOW))
        db.commit()
    return cid


def found(services, cid: int, q: str) -> list[int]:
    """Positions in BOOK (1-based) of the connection's records the search finds."""
    with services.session() as db:
        rows = db.execute(RecordFilter(q=q).apply(select(RecordState.crm_id).where(
            RecordState.connection_id == cid)).order_by(RecordState.id)).scalars().all()
    return [int(crm_id.split("-")[1]) for crm_id in rows]


@pytest.mark.parametrize("q", QUERIES)
def test_search_finds_what_a_scan_finds(services, book, q):
    assert found(services, book, q) == expected(q)


def test_a_page_and_its_count_agree_with_the_search(services, book):
    with services.session() as db:
        flt = RecordFilter(q="renewal")
        page = read_page(db, book, flt, default_map(), sort="name", limit=1)
        assert [r.name for r in page.rows] == ["Acme Renewal"]
        rest = read_page(db, book, flt, default_map(), sort="name", limit=5, after=page.next)
        assert [r.name for r in rest.rows] == ["Umbrella Renewal"] and rest.next is None
        assert count_records(db, book, flt) == 2


def _uses_index(q: str) -> bool:
    query = RecordFilter(q=q).apply(select(RecordState.id))
    return FTS_TABLE in str(query.compile(dialect=sqlite.dialect()))


@pytest.mark.skipif(not SQLITE_TRIGRAM, reason="this SQLite has no FTS5 trigram tokenizer")
def test_sqlite_asks_its_trigram_index_from_three_characters(services):
    assert _uses_index("acm") and _uses_index("ACME corp")
    assert not _uses_index("ac") and not _uses_index("é")


def test_the_index_follows_changes_and_deletes(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "search")
        conn = Connection(tenant_id=tenant.id, name="changing", crm="hubspot")
        db.add(conn)
        db.commit()
        cid = conn.id
        db.add_all([RecordState(connection_id=cid, object="deal", crm_id=f"{cid}-{n}", name=name,
                                stage="awareness", record={}, state={}, updated_at=NOW)
                    for n, name in ((1, "Wayne Enterprises"), (2, "Stark Industries"))])
        db.commit()
        db.execute(update(RecordState).where(RecordState.crm_id == f"{cid}-1")
                   .values(name="Wayne Foundation", company="Gotham Trust"))
        db.execute(update(RecordState).where(RecordState.crm_id == f"{cid}-2")
                   .values(stage="consideration"))  # no searched column changes
        db.commit()
    assert found(services, cid, "enterprises") == []
    assert found(services, cid, "foundation") == [1]
    assert found(services, cid, "gotham") == [1]
    assert found(services, cid, "industries") == [2]
    with services.session() as db:
        db.execute(delete(RecordState).where(RecordState.crm_id == f"{cid}-2"))
        db.commit()
    assert found(services, cid, "industries") == []


@pytest.mark.skipif(not SQLITE_TRIGRAM, reason="this SQLite has no FTS5 trigram tokenizer")
def test_the_migration_indexes_the_records_stored_before_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    before, mine = revisions_of(url, "_record_search_fts.py")
    upgrade(url, before)
    engine = make_engine(url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-01-01')"))
        db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                        "secrets, sync_interval_seconds, created_at) VALUES (1, 1, 'c', 'hubspot', "
                        "'active', 0, '{}', '', 300, '2026-01-01')"))
        db.execute(text("INSERT INTO recordstate (id, connection_id, object, crm_id, name, company, "
                        "stage, stalled, days_over, record, state, crm_values, updated_at) VALUES "
                        "(7, 1, 'deal', '7', 'Old Record', 'Hooli', 'awareness', false, 0, '', '', '', "
                        "'2026-01-01')"))
    upgrade(url, mine)
    with engine.connect() as db:
        hits = db.execute(text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH '\"hool\"'"))
        assert [r[0] for r in hits] == [7]
    engine.dispose()
