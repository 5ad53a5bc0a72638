"""Formula fields: a formula is parsed and type-checked once, when the Tooling API creates or
changes the field, and evaluated on every read (SOQL, record GET), as Salesforce does.

The sandbox knows the part of Salesforce's formula language that number formulas over dates use:
number literals, field names (case-insensitive), ``+ - * /``, comparisons (``= == != <> < <= > >=``),
``&& ||``, parentheses, and the functions ``NOW TODAY FLOOR CEILING ROUND ABS MAX MIN IF ISBLANK
BLANKVALUE AND OR NOT``. Types follow Salesforce: DateTime - DateTime and Date - Date are a number of
days, DateTime + Number a DateTime; mixing Date and DateTime is refused. A formula the sandbox does
not understand is refused when the field is created, never guessed at.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from connectors.salesforce.sandbox.values import NUMERIC_TYPES

#: A compiled expression: (record, now) -> value.
Evaluator = Callable[[Mapping[str, Any], datetime], Any]

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\|\||&&|<=|>=|<>|!=|==|[-+*/(),<>=]))")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}
#: Formula types of describe field types (others are Text).
_FIELD_KINDS = {"datetime": "DateTime", "date": "Date", "boolean": "Checkbox", "int": "Number",
                **{t: "Number" for t in NUMERIC_TYPES}}


class FormulaError(ValueError):
    """The formula does not parse or does not type-check; the message is Salesforce's wording."""


@dataclass(frozen=True)
class Typed:
    """A compiled sub-expression and its formula type (Number, Date, DateTime, Checkbox, Text)."""

    kind: str
    run: Evaluator


@dataclass(frozen=True)
class Formula:
    """A compiled formula of a field: ``evaluate(record, now)`` gives the field's value."""

    text: str
    kind: str
    scale: int
    blank_as_zero: bool
    run: Evaluator

    def evaluate(self, record: Mapping[str, Any], now: datetime) -> Any:
        """The value Salesforce shows for ``record`` at ``now`` (numbers rounded to the scale)."""
        value = self.run(record, now)
        if value is None or self.kind != "Number":
            return value
        return round(float(value), self.scale)


def compile_formula(text: str, fields: Mapping[str, str], *, result: str = "Number", scale: int = 0,
                    blank_as_zero: bool = False) -> Formula:
    """Compile ``text`` over an object whose fields are ``fields`` (name -> describe type).

    ``blank_as_zero`` is ``formulaTreatBlanksAs: BlankAsZero``: a blank number field reads as 0
    (blank dates stay blank). Raises :class:`FormulaError` with Salesforce's message.
    """
    parser = _Parser(text, {name.lower(): (name, _FIELD_KINDS.get(t, "Text")) for name, t in fields.items()},
                     blank_as_zero)
    typed = parser.parse()
    if typed.kind != result:
        raise FormulaError(f"Formula result is data type ({typed.kind}), incompatible with expected data "
                           f"type ({result}).")
    return Formula(text=text, kind=result, scale=scale, blank_as_zero=blank_as_zero, run=typed.run)


class _Parser:
    """Recursive descent over the tokens: || < && < comparison < + - < * / < unary < primary."""

    def __init__(self, text: str, fields: Mapping[str, tuple[str, str]], blank_as_zero: bool) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.fields = fields
        self.blank_as_zero = blank_as_zero

    def parse(self) -> Typed:
        if not self.tokens:
            raise FormulaError("Formula: You must enter a value")
        typed = self._or()
        if self.at < len(self.tokens):
            raise FormulaError(f"Syntax error. Extra {self.tokens[self.at][1]}")
        return typed

    # ------------------------------------------------------------------------------ tokens
    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise FormulaError(f"Syntax error. Missing '{expected or ')'}'")
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise FormulaError(f"Syntax error. Found '{token[1]}'")
        self.at += 1
        return token

    # ------------------------------------------------------------------------ precedence
    def _or(self) -> Typed:
        left = self._and()
        while self._peek() == "||":
            self._take()
            left = _logic(True, [left, self._and()])
        return left

    def _and(self) -> Typed:
        left = self._comparison()
        while self._peek() == "&&":
            self._take()
            left = _logic(False, [left, self._comparison()])
        return left

    def _comparison(self) -> Typed:
        left = self._sum()
        if self._peek() in _COMPARE:
            op = self._take()[1]
            right = self._sum()
            if left.kind != right.kind:
                raise FormulaError(f"Incorrect parameter type for operator '{op}'. Expected {left.kind}, "
                                   f"received {right.kind}")
            compare = _COMPARE[op]
            return Typed("Checkbox", lambda r, n: _strict(compare, left.run(r, n), right.run(r, n)))
        return left

    def _sum(self) -> Typed:
        left = self._product()
        while self._peek() in ("+", "-"):
            left = _arithmetic(self._take()[1], left, self._product())
        return left

    def _product(self) -> Typed:
        left = self._unary()
        while self._peek() in ("*", "/"):
            left = _arithmetic(self._take()[1], left, self._unary())
        return left

    def _unary(self) -> Typed:
        if self._peek() == "-":
            self._take()
            inner = self._unary()
            _expect("-", inner, "Number")
            return Typed("Number", lambda r, n: None if (v := inner.run(r, n)) is None else -v)
        return self._primary()

    def _primary(self) -> Typed:
        kind, text = self._take()
        if kind == "number":
            value = float(text)
            return Typed("Number", lambda r, n: value)
        if text == "(":
            inner = self._or()
            self._take(")")
            return inner
        if kind != "name":
            raise FormulaError(f"Syntax error. Found '{text}'")
        if self._peek() == "(":
            self._take("(")
            args: list[Typed] = []
            while self._peek() != ")":
                if self._peek() is None:
                    raise FormulaError("Syntax error. Missing ')'")
                args.append(self._or())
                if self._peek() != ")":
                    self._take(",")
            self._take(")")
            return _function(text.upper(), args)
        return self._field(text)

    def _field(self, text: str) -> Typed:
        found = self.fields.get(text.lower())
        if found is None:
            raise FormulaError(f"Field {text} does not exist. Check spelling.")
        name, kind = found
        if kind == "Number" and self.blank_as_zero:
            return Typed(kind, lambda r, n: 0 if r.get(name) is None else r.get(name))
        return Typed(kind, lambda r, n: r.get(name))


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None:
            raise FormulaError(f"Syntax error. Found '{text[at:].strip()[:1]}'")
        kind = match.lastgroup or "op"
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def _expect(name: str, typed: Typed, *kinds: str) -> None:
    if typed.kind not in kinds:
        raise FormulaError(f"Incorrect parameter type for function '{name}()'. Expected {', '.join(kinds)}, "
                           f"received {typed.kind}")


def _strict(op: Callable[..., Any], *values: Any) -> Any:
    """``op`` of the values, blank when any is blank (Salesforce's blank propagation)."""
    return None if any(v is None for v in values) else op(*values)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


#: (operator, left type, right type) -> (result type, function)
_ARITHMETIC: dict[tuple[str, str, str], tuple[str, Callable[[Any, Any], Any]]] = {
    ("+", "Number", "Number"): ("Number", lambda a, b: a + b),
    ("-", "Number", "Number"): ("Number", lambda a, b: a - b),
    ("*", "Number", "Number"): ("Number", lambda a, b: a * b),
    ("/", "Number", "Number"): ("Number", lambda a, b: None if b == 0 else a / b),
    ("+", "DateTime", "Number"): ("DateTime", lambda a, b: a + timedelta(days=b)),
    ("+", "Number", "DateTime"): ("DateTime", lambda a, b: b + timedelta(days=a)),
    ("-", "DateTime", "Number"): ("DateTime", lambda a, b: a - timedelta(days=b)),
    ("-", "DateTime", "DateTime"): ("Number", lambda a, b: _days(a - b)),
    ("+", "Date", "Number"): ("Date", lambda a, b: a + timedelta(days=math.floor(b))),
    ("+", "Number", "Date"): ("Date", lambda a, b: b + timedelta(days=math.floor(a))),
    ("-", "Date", "Number"): ("Date", lambda a, b: a - timedelta(days=math.floor(b))),
    ("-", "Date", "Date"): ("Number", lambda a, b: (a - b).days),
}


def _arithmetic(op: str, left: Typed, right: Typed) -> Typed:
    found = _ARITHMETIC.get((op, left.kind, right.kind))
    if found is None:
        raise FormulaError(f"Incorrect parameter type for operator '{op}'. Expected Number, Date, DateTime, "
                           f"received {right.kind}")
    kind, apply = found
    return Typed(kind, lambda r, n: _strict(apply, left.run(r, n), right.run(r, n)))


def _logic(any_true: bool, parts: list[Typed]) -> Typed:
    """OR (``any_true``) or AND of Checkbox values."""
    for part in parts:
        _expect("OR" if any_true else "AND", part, "Checkbox")

    def run(r: Mapping[str, Any], n: datetime) -> bool:
        values = [bool(p.run(r, n)) for p in parts]  # a blank condition counts as false
        return any(values) if any_true else all(values)
    return Typed("Checkbox", run)


def _function(name: str, args: list[Typed]) -> Typed:
    arity = {"NOW": 0, "TODAY": 0, "FLOOR": 1, "CEILING": 1, "ABS": 1, "ROUND": 2, "IF": 3,
             "ISBLANK": 1, "BLANKVALUE": 2, "NOT": 1}
    if name not in arity and name not in ("MAX", "MIN", "AND", "OR"):
        raise FormulaError(f"Unknown function {name}. Check spelling.")
    if name in arity and len(args) != arity[name]:
        raise FormulaError(f"Incorrect number of parameters for function '{name}()'. Expected {arity[name]}, "
                           f"received {len(args)}")
    if name == "NOW":
        return Typed("DateTime", lambda r, n: n)
    if name == "TODAY":
        return Typed("Date", lambda r, n: n.date())
    if name in ("AND", "OR"):
        return _logic(name == "OR", args)
    if name == "NOT":
        _expect(name, args[0], "Checkbox")
        return Typed("Checkbox", lambda r, n: not args[0].run(r, n))
    if name == "ISBLANK":
        return Typed("Checkbox", lambda r, n: args[0].run(r, n) in (None, ""))
    if name == "IF":
        condition, then, otherwise = args
        _expect(name, condition, "Checkbox")
        if then.kind != otherwise.kind:
            raise FormulaError(f"Incorrect parameter type for function 'IF()'. Expected {then.kind}, "
                               f"received {otherwise.kind}")
        return Typed(then.kind, lambda r, n: then.run(r, n) if condition.run(r, n) else otherwise.run(r, n))
    if name == "BLANKVALUE":
        value, fallback = args
        if value.kind != fallback.kind:
            raise FormulaError(f"Incorrect parameter type for function 'BLANKVALUE()'. Expected {value.kind}, "
                               f"received {fallback.kind}")

        def blank_value(r: Mapping[str, Any], n: datetime) -> Any:
            held = value.run(r, n)
            return fallback.run(r, n) if held in (None, "") else held
        return Typed(value.kind, blank_value)
    if not args:
        raise FormulaError(f"Incorrect number of parameters for function '{name}()'. Expected 1, received 0")
    for arg in args:
        _expect(name, arg, "Number")
    numeric: dict[str, Callable[..., Any]] = {
        "FLOOR": math.floor, "CEILING": math.ceil, "ABS": abs, "MAX": max, "MIN": min,
        "ROUND": lambda x, digits: round(x, int(digits))}
    apply = numeric[name]
    return Typed("Number", lambda r, n: _strict(apply, *(a.run(r, n) for a in args)))

