"""Record search (q=) finds the same records on SQLite (FTS5 tables) and PostgreSQL (GIN
indexes) as a plain scan would: a substring for texts of three characters or more and for short
ones holding other than letters and digits, the start of a word for one or two letters or digits;
SQLite's indexes follow every insert, change and delete, and the migrations index the records
stored before them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import sqlite

from integration.analytics import RecordFilter, plan_search
from integration.record_pages import count_records, read_page
from integration.store.db import make_engine, upgrade
from integration.store.models import Connection, RecordState
from integration.store import search
from integration.store.search import FTS_TABLE, SQLITE_TRIGRAM, WORDS_TABLE, dense_head
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map
from tests.fixtures_store import add_connection, insert_connection_one, revisions_of
from tests.support import search_holds, statements_sent

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
    ("Suite 42", "r1042@example.com", "3M Co"),
    ("Café Ünder", "o'brien+tag@x-ray.example", "Order 1042"),
    ("Tab\there", "[brackets]`tick", "a~tilde{curly}|pipe"),
]
#: Texts of every length: 1-2 letters or digits (word starts: after spaces, punctuation, at the
#: start, not inside a word nor after an accented letter), 1-2 other characters (substrings),
#: longer ones (substrings), mixed case, quotes, LIKE's wildcards (literal), spaces, and a text
#: that spans two columns (no match).
QUERIES = ["a", "A", "ab", "42", "3m", "br", "ta", "ra", "nd", "he", "ti", "cu", "pi", "zq", "b ",
           "%", "_", '"', "@e", "é", "acm", "ACME", "renewal", "Jane.doe@", "corp", '"big"', "100%",
           "% p", "pure_g", "e_g", ", ", "nobody", "doe jane", "Renewal ops", "UMBRELLA.EXAMPLE",
           "xyz", "x@y"]
def expected(q: str, rows=BOOK) -> list[int]:
    """Ids whose name, e-mail or company holds ``q``."""
    return [i for i, row in enumerate(rows, start=1)
            if any(search_holds(value, q) for value in row)]


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


def found(services, cid: int, q: str, dense: bool = False) -> list[int]:
    """Positions in BOOK (1-based) of the connection's records the search finds (``dense``: as
    for a word head most records hold, without the word index)."""
    with services.session() as db:
        rows = db.execute(RecordFilter(q=q, q_dense=dense).apply(select(RecordState.crm_id).where(
            RecordState.connection_id == cid)).order_by(RecordState.id)).scalars().all()
    return [int(crm_id.split("-")[1]) for crm_id in rows]


@pytest.mark.parametrize("q", QUERIES)
def test_search_finds_what_a_scan_finds(services, book, q):
    assert found(services, book, q) == expected(q)


def test_a_session_weighs_a_word_head_once(services, book, monkeypatch):
    # a page and its count, or each page of a CSV export, ask in one session: one look each
    monkeypatch.setattr(search, "DENSE_READS", 1)
    with statements_sent(services.engine) as statements, services.session() as db:
        answers = [dense_head(db, q) for q in ("a", "A", "a", "b")]
    assert answers[:3] == [answers[0]] * 3
    looks = [sql for sql, _ in statements if WORDS_TABLE in sql]
    sqlite_index = services.engine.dialect.name == "sqlite" and SQLITE_TRIGRAM
    assert len(looks) == (2 if sqlite_index else 0)  # "a" once (any case), "b" once


@pytest.mark.parametrize("q", QUERIES)
def test_a_dense_word_head_finds_the_same_without_the_index(services, book, q):
    assert found(services, book, q, dense=True) == expected(q)


def test_a_word_head_many_records_hold_is_dense_on_sqlite(services, book, monkeypatch):
    # a capped count of 1: dense from sqrt(records) holders (a table of some 20 records: 5);
    # "a" starts a word of 3 records of each connection's book
    with services.session() as db:
        monkeypatch.setattr(search, "DENSE_READS", 1)
        sqlite_index = services.engine.dialect.name == "sqlite" and SQLITE_TRIGRAM
        assert dense_head(db, "A") is sqlite_index and dense_head(db, "a") is sqlite_index
        assert plan_search(db, RecordFilter(q="a")).q_dense is sqlite_index
        assert not dense_head(db, "ab") and not dense_head(db, "zq") and not dense_head(db, "acm")
        assert not plan_search(db, RecordFilter(q="zq")).q_dense


def test_a_page_and_its_count_agree_with_the_search(services, book):
    with services.session() as db:
        flt = RecordFilter(q="renewal")
        page = read_page(db, book, flt, default_map(), sort="name", limit=1)
        assert [r.name for r in page.rows] == ["Acme Renewal"]
        rest = read_page(db, book, flt, default_map(), sort="name", limit=5, after=page.next)
        assert [r.name for r in rest.rows] == ["Umbrella Renewal"] and rest.next is None
        assert count_records(db, book, flt) == 2


def test_the_meaning_spelled_out():
    holds = search_holds
    assert holds("r1042@example.com", "ex") and not holds("r1042@example.com", "42")
    assert holds("Suite 42", "42") and holds("x-ray", "ra") and not holds("Café Ünder", "nd")
    assert holds("r1042@example.com", "1042@") and holds("Café", "é")


def _uses(q: str, table: str) -> bool:
    query = RecordFilter(q=q).apply(select(RecordState.id))
    return table in str(query.compile(dialect=sqlite.dialect()))


@pytest.mark.skipif(not SQLITE_TRIGRAM, reason="this SQLite has no FTS5 trigram tokenizer")
def test_sqlite_asks_its_trigram_index_from_three_characters_and_its_words_below(services):
    assert _uses("acm", FTS_TABLE) and _uses("ACME corp", FTS_TABLE)
    assert _uses("ac", WORDS_TABLE) and _uses("7", WORDS_TABLE) and not _uses("ac", FTS_TABLE)
    assert not any(_uses(q, table) for q in ("é", "@e", "a ") for table in (FTS_TABLE, WORDS_TABLE))


def test_a_rare_word_start_is_planned_through_an_index(services, book):
    query = RecordFilter(q="zq").apply(select(RecordState.id))
    sql = str(query.compile(dialect=services.engine.dialect, compile_kwargs={"literal_binds": True}))
    with services.session() as db:
        if services.engine.dialect.name == "postgresql":
            db.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(db.execute(text("EXPLAIN " + sql)).scalars())
            # the word-start expression is served by the trigram indexes as they are
            assert all(f"ix_recordstate_search_{column}" in plan for column in ("name", "email", "company"))
            return
        if not SQLITE_TRIGRAM:
            pytest.skip("this SQLite has no FTS5 trigram tokenizer: short searches read every record")
        plan = "\n".join(str(row[-1]) for row in db.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert f"{WORDS_TABLE} VIRTUAL TABLE" in plan, plan


def test_the_index_follows_changes_and_deletes(services):
    with services.session() as db:
        cid = add_connection(db, "search", "changing")
        db.add_all([RecordState(connection_id=cid, object="deal", crm_id=f"{cid}-{n}", name=name,
                                stage="awareness", record={}, state={}, updated_at=NOW)
                    for n, name in ((1, "Wayne Enterprises"), (2, "Stark Industries"))])
        db.commit()
        db.execute(update(RecordState).where(RecordState.crm_id == f"{cid}-1")
                   .values(name="Wayne Foundation", company="Gotham Trust"))
        db.execute(update(RecordState).where(RecordState.crm_id == f"{cid}-2")
                   .values(stage="consideration"))  # no searched column changes
        db.commit()
    assert found(services, cid, "enterprises") == [] and found(services, cid, "en") == []
    assert found(services, cid, "foundation") == [1] and found(services, cid, "fo") == [1]
    assert found(services, cid, "gotham") == [1] and found(services, cid, "g") == [1]
    assert found(services, cid, "industries") == [2] and found(services, cid, "in") == [2]
    with services.session() as db:
        db.execute(delete(RecordState).where(RecordState.crm_id == f"{cid}-2"))
        db.commit()
    assert found(services, cid, "industries") == [] and found(services, cid, "in") == []


@pytest.mark.skipif(not SQLITE_TRIGRAM, reason="this SQLite has no FTS5 trigram tokenizer")
@pytest.mark.parametrize("migration, table, query", [("_record_search_fts.py", FTS_TABLE, '"hool"'),
                                                     ("_record_search_words.py", WORDS_TABLE, '"ho"*')])
def test_a_search_migration_indexes_the_records_stored_before_it(tmp_path, migration, table, query):
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    before, mine = revisions_of(url, migration)
    upgrade(url, before)
    engine = make_engine(url)
    with engine.begin() as db:
        insert_connection_one(db)
        db.execute(text("INSERT INTO recordstate (id, connection_id, object, crm_id, name, email, "
                        "company, stage, stalled, days_over, record, state, crm_values, updated_at) "
                        "VALUES (7, 1, 'deal', '7', 'Old Record', 'r7@hooli.example', 'Hooli XYZ', "
                        "'awareness', false, 0, '', '', '', '2026-01-01')"))
    upgrade(url, mine)
    with engine.connect() as db:
        hits = db.execute(text(f"SELECT rowid FROM {table} WHERE {table} MATCH :query"), {"query": query})
        assert [r[0] for r in hits] == [7]
    engine.dispose()
