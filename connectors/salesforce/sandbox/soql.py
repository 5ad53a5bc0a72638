"""A parser for the SOQL subset the sandbox answers, with Salesforce's error messages.

Supported: field lists with parent paths (``Account.Industry``), child subqueries
(``(SELECT ... FROM OpportunityHistories ORDER BY CreatedDate)``), WHERE with comparisons, ``IN``,
``NOT IN``, ``LIKE``, ``AND``/``OR``/``NOT`` and parentheses, date and datetime literals, ORDER BY
with ``ASC``/``DESC`` and ``NULLS FIRST``/``LAST``, LIMIT and OFFSET.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Union


class SoqlError(Exception):
    """A query Salesforce would refuse; ``code`` is its errorCode, ``message`` its full message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def located(text: str, pos: int, code: str, detail: str) -> SoqlError:
    """A :class:`SoqlError` whose message points at ``pos`` in ``text`` the way Salesforce's do."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:] if line_end == -1 else text[line_start:line_end]
    col = pos - line_start + 1
    return SoqlError(code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}")


@dataclass(frozen=True, slots=True)
class FieldPath:
    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Condition:
    path: FieldPath
    op: str  # = != < <= > >= IN NOT IN LIKE
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # AND / OR
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: "Expr"


Expr = Union[Condition, BoolOp, Not]


@dataclass(frozen=True, slots=True)
class OrderItem:
    path: FieldPath
    descending: bool
    nulls_last: bool


@dataclass(slots=True)
class Query:
    text: str
    sobject: str
    sobject_pos: int
    fields: list[Union[FieldPath, "Query"]] = field(default_factory=list)
    where: Expr | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    #: ``SELECT count() FROM ...``: only ``totalSize`` is returned.
    count_only: bool = False


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value in a condition, remembering whether it was quoted (for type checks)."""

    value: Any
    quoted: bool


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE)

_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
             "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
            "_": "\\_", "%": "\\%"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int

    @property
    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "ident" and upper in _KEYWORDS else None


def _tokenize(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos]
            raise located(text, pos, "MALFORMED_QUERY", f"unexpected token: '{bad}'")
        if m.lastgroup != "ws":
            tokens.append(_Tok(m.lastgroup or "", m.group(), pos))
        pos = m.end()
    tokens.append(_Tok("eof", "<EOF>", len(text)))
    return tokens


def parse(text: str) -> Query:
    """Parse a SOQL query. Raises :class:`SoqlError` (``MALFORMED_QUERY``) on what it cannot read."""
    parser = _Parser(text)
    query = parser.select()
    parser.expect_eof()
    return query


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    # ----------------------------------------------------------------------- token helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def advance(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def unexpected(self, tok: _Tok | None = None) -> SoqlError:
        tok = tok or self.tok
        shown = tok.text if tok.kind == "eof" else f"'{tok.text}'"
        return located(self.text, tok.pos, "MALFORMED_QUERY", f"unexpected token: {shown}")

    def keyword(self, *words: str) -> str | None:
        if self.tok.keyword in words:
            return self.advance().keyword
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise self.unexpected()

    def expect_punct(self, ch: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != ch:
            raise self.unexpected()
        self.advance()

    def is_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def expect_eof(self) -> None:
        if self.tok.kind != "eof":
            raise self.unexpected()

    def ident(self) -> _Tok:
        if self.tok.kind != "ident" or self.tok.keyword is not None:
            raise self.unexpected()
        return self.advance()

    def path(self) -> FieldPath:
        tok = self.ident()
        return FieldPath(tuple(tok.text.split(".")), tok.pos)

    def integer(self) -> int:
        if self.tok.kind != "number" or not self.tok.text.isdigit():
            raise self.unexpected()
        return int(self.advance().text)

    # ----------------------------------------------------------------------------- grammar
    def select(self) -> Query:
        self.expect_keyword("SELECT")
        if self.tok.kind == "ident" and self.tok.text.lower() == "count" and self.toks[self.i + 1].text == "(":
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            return self.rest_of_select([], count_only=True)
        items: list[FieldPath | Query] = [self.select_item()]
        while self.is_punct(","):
            self.advance()
            items.append(self.select_item())
        return self.rest_of_select(items, count_only=False)

    def rest_of_select(self, items: list[FieldPath | Query], *, count_only: bool) -> Query:
        self.expect_keyword("FROM")
        sobject = self.ident()
        query = Query(text=self.text, sobject=sobject.text, sobject_pos=sobject.pos, fields=items,
                      count_only=count_only)
        if self.keyword("WHERE"):
            query.where = self.expression()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            query.order_by.append(self.order_item())
            while self.is_punct(","):
                self.advance()
                query.order_by.append(self.order_item())
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        return query

    def select_item(self) -> FieldPath | Query:
        if self.is_punct("("):
            self.advance()
            sub = self.select()
            self.expect_punct(")")
            return sub
        return self.path()

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = self.keyword("ASC", "DESC") == "DESC"
        nulls_last = descending
        if self.keyword("NULLS"):
            which = self.keyword("FIRST", "LAST")
            if which is None:
                raise self.unexpected()
            nulls_last = which == "LAST"
        return OrderItem(path, descending, nulls_last)

    def expression(self) -> Expr:
        first = self.term()
        op = self.keyword("AND", "OR")
        if op is None:
            return first
        items = [first, self.term()]
        while True:
            other_tok = self.tok
            other = self.keyword("AND", "OR")
            if other is None:
                return BoolOp(op, tuple(items))
            if other != op:
                # Salesforce refuses AND and OR side by side without parentheses.
                raise self.unexpected(other_tok)
            items.append(self.term())

    def term(self) -> Expr:
        if self.keyword("NOT"):
            return Not(self.term())
        if self.is_punct("("):
            self.advance()
            inner = self.expression()
            self.expect_punct(")")
            return inner
        return self.condition()

    def condition(self) -> Condition:
        path = self.path()
        pos = self.tok.pos
        if self.tok.kind == "op":
            op = self.advance().text
            return Condition(path, "!=" if op == "<>" else op, self.literal(), pos)
        if self.keyword("LIKE"):
            return Condition(path, "LIKE", self.literal(), pos)
        negated = self.keyword("NOT") is not None
        if self.keyword("IN"):
            self.expect_punct("(")
            values = [self.literal()]
            while self.is_punct(","):
                self.advance()
                values.append(self.literal())
            self.expect_punct(")")
            return Condition(path, "NOT IN" if negated else "IN", tuple(values), pos)
        raise self.unexpected()

    def literal(self) -> Literal:
        tok = self.advance()
        if tok.kind == "string":
            body = tok.text[1:-1]
            return Literal(re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body), True)
        if tok.kind == "number":
            return Literal(float(tok.text) if "." in tok.text else int(tok.text), False)
        if tok.kind == "datetime":
            return Literal(datetime.fromisoformat(tok.text.replace("Z", "+00:00")), False)
        if tok.kind == "date":
            return Literal(date.fromisoformat(tok.text), False)
        constants = {"NULL": None, "TRUE": True, "FALSE": False}
        if tok.keyword in constants:
            return Literal(constants[tok.keyword], False)
        raise self.unexpected(tok)
