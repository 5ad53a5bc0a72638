"""The sandbox's SOQL parser: what it reads and the MALFORMED_QUERY messages it gives."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from connectors.salesforce.sandbox.soql import BoolOp, Condition, FieldPath, Not, Query, SoqlError, parse


def test_reads_parent_paths_child_subqueries_and_clauses():
    q = parse("SELECT Id, Account.Industry, (SELECT StageName, CreatedDate FROM OpportunityHistories "
              "ORDER BY CreatedDate) FROM Opportunity WHERE SystemModstamp >= 2026-01-01T00:00:00Z AND "
              "(StageName IN ('A', 'B') OR Name LIKE 'Ac%') ORDER BY SystemModstamp DESC NULLS LAST, Id "
              "LIMIT 10 OFFSET 5")
    assert q.sobject == "Opportunity"
    assert [f.parts for f in q.fields if isinstance(f, FieldPath)] == [("Id",), ("Account", "Industry")]
    sub = q.fields[2]
    assert isinstance(sub, Query) and sub.sobject == "OpportunityHistories"
    assert isinstance(q.where, BoolOp) and q.where.op == "AND"
    first, second = q.where.items
    assert isinstance(first, Condition)
    assert first.value.value == datetime(2026, 1, 1, tzinfo=timezone.utc) and not first.value.quoted
    assert isinstance(second, BoolOp) and second.op == "OR"
    assert [(o.path.parts, o.descending, o.nulls_last) for o in q.order_by] == [
        (("SystemModstamp",), True, True), (("Id",), False, False)]
    assert (q.limit, q.offset) == (10, 5)


def test_literals_not_and_escapes():
    q = parse("SELECT Id FROM Lead WHERE NOT Name = 'O\\'Brien' AND CreatedDate < 2026-01-01 AND "
              "IsConverted = false AND NumberOfEmployees > 10.5 AND Email != null AND Status NOT IN ('x')")
    assert isinstance(q.where, BoolOp)
    negated, created, converted, employees, email, status = q.where.items
    assert isinstance(negated, Not) and negated.item.value.value == "O'Brien"
    assert created.value.value == date(2026, 1, 1)
    assert converted.value.value is False
    assert employees.value.value == 10.5
    assert email.op == "!=" and email.value.value is None
    assert status.op == "NOT IN"


@pytest.mark.parametrize("text, column, token", [
    ("SELECT Id FORM Opportunity", 11, "'FORM'"),
    ("SELECT Id FROM", 15, "<EOF>"),
    ("SELECT Id, FROM Lead", 12, "'FROM'"),
    ("SELECT Id FROM Lead WHERE Name = 'a' AND Title = 'b' OR Company = 'c'", 54, "'OR'"),
    ("SELECT Id FROM Lead WHERE Name = 'unterminated", 34, "''unterminated'"),
    ("SELECT Id FROM Lead LIMIT x", 27, "'x'"),
])
def test_malformed_queries_point_at_the_bad_token(text, column, token):
    with pytest.raises(SoqlError) as info:
        parse(text)
    assert info.value.code == "MALFORMED_QUERY"
    assert info.value.message == (f"\n{text}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\n"
                                  f"unexpected token: {token}")


def test_errors_on_later_lines_count_rows():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id\nFROM Lead\nWHERE Name = = 'x'")
    assert "ERROR at Row:3:Column:14" in info.value.message
    assert info.value.message.startswith("\nWHERE Name = = 'x'\n             ^\n")
