"""SQL expressions that mean the same on SQLite and PostgreSQL, so analytics keep one code path.

Each is a SQLAlchemy function element compiled per dialect: calendar dates, calendar buckets and
ordered string aggregation are where the two databases differ. (Percentiles are picked in Python
from histograms the database counts: :func:`mapping.analytics.percentiles`.)
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Date, Integer, String, and_, case, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class utc_date(FunctionElement):  # noqa: N801 - named like the SQL function it renders
    """SQL: the (UTC) calendar date of a stored date and time (stored as naive UTC)."""

    type = Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


class month_day(FunctionElement):  # noqa: N801
    """SQL: the first day of the (UTC) month of a stored date and time, as a date."""

    type = Date()
    inherit_cache = True
    name = "month_day"


@compiles(month_day, "sqlite")
def _month_day_sqlite(element: month_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_day, "postgresql")
def _month_day_postgresql(element: month_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


class calendar_days(FunctionElement):  # noqa: N801
    """SQL: calendar days from the first date to the second (never negative): a stay begun on
    a Monday and left on the Wednesday lasted 2 days, whatever the hours."""

    type = Integer()
    inherit_cache = True
    name = "calendar_days"


@compiles(calendar_days, "sqlite")
def _calendar_days_sqlite(element: calendar_days, compiler: Any, **kw: Any) -> str:
    # The julian days of both days' midnights, whole days apart. A utc_date argument is read as
    # the time it wraps, 'start of day' taking its date as parsed: no date() to format it and
    # julianday() to parse it back (about 200 of the 800 ms one country's year of stays took at
    # 1,000,000 records). Not a rounded julianday of the time itself: SQLite rounds the last
    # half millisecond of a day up to the next day, which date() does not.
    start, end = (compiler.process(_inner_time(clause), **kw) for clause in element.clauses)
    return f"max(0, CAST(julianday({end}, 'start of day') - julianday({start}, 'start of day') AS INTEGER))"


def _inner_time(clause: Any) -> Any:
    return clause.clauses.clauses[0] if isinstance(clause, utc_date) else clause


@compiles(calendar_days, "postgresql")
def _calendar_days_postgresql(element: calendar_days, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"GREATEST(0, ({end}) - ({start}))"


class week_start(FunctionElement):  # noqa: N801
    """The Monday (``YYYY-MM-DD``) of the ISO week of a date and time."""

    type = String()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays on it); six days back is that week's Monday
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_postgresql(element: week_start, compiler: Any, **kw: Any) -> str:
    return f"to_char(date_trunc('week', {compiler.process(element.clauses, **kw)}), 'YYYY-MM-DD')"


class month_start(FunctionElement):  # noqa: N801
    """The first day (``YYYY-MM-DD``) of the month of a date and time."""

    type = String()
    inherit_cache = True
    name = "month_start"


@compiles(month_start, "sqlite")
def _month_sqlite(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m-01', {compiler.process(element.clauses, **kw)})"


@compiles(month_start, "postgresql")
def _month_postgresql(element: month_start, compiler: Any, **kw: Any) -> str:
    return f"to_char(date_trunc('month', {compiler.process(element.clauses, **kw)}), 'YYYY-MM-DD')"


#: Calendar buckets by unit name.
BUCKETS = {"week": week_start, "month": month_start}


class ordered_concat(FunctionElement):  # noqa: N801
    """The values of a group joined with ``>`` in the order of a second column.

    SQLite before 3.44 has no ORDER BY inside an aggregate: the caller feeds it rows already
    sorted by that column from a subquery, which SQLite's group_concat keeps."""

    type = String()
    inherit_cache = True
    name = "ordered_concat"
    separator = ">"


class ordered_codes(ordered_concat):  # noqa: N801
    """:class:`ordered_concat` with nothing between the values (one-character codes: a value's
    position in the text is its place in the order)."""

    inherit_cache = True
    name = "ordered_codes"
    separator = ""


@compiles(ordered_concat, "sqlite")
@compiles(ordered_codes, "sqlite")
def _concat_sqlite(element: ordered_concat, compiler: Any, **kw: Any) -> str:
    value, _order = list(element.clauses)
    return f"group_concat({compiler.process(value, **kw)}, '{element.separator}')"


@compiles(ordered_concat, "postgresql")
@compiles(ordered_codes, "postgresql")
def _concat_postgresql(element: ordered_concat, compiler: Any, **kw: Any) -> str:
    value, order = list(element.clauses)
    return (f"string_agg({compiler.process(value, **kw)}, '{element.separator}' ORDER BY "
            f"{compiler.process(order, **kw)})")


class text_position(FunctionElement):  # noqa: N801
    """Where the second text first occurs in the first (from 1), 0 if nowhere."""

    type = Integer()
    inherit_cache = True
    name = "text_position"


@compiles(text_position, "sqlite")
def _position_sqlite(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(text_position, "postgresql")
def _position_postgresql(element: text_position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


class not_indexed(FunctionElement):  # noqa: N801
    """SQL: the column, which SQLite is not to look up in an index (its documented unary ``+``):
    for a join SQLite would otherwise lead with the wrong table. PostgreSQL plans by its
    statistics and gets the plain column."""

    inherit_cache = True
    name = "not_indexed"

    @property
    def type(self) -> Any:  # the column's own type, so comparisons bind values as it does
        return self.clauses.clauses[0].type


@compiles(not_indexed, "sqlite")
def _not_indexed_sqlite(element: not_indexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(not_indexed, "postgresql")
def _not_indexed_postgresql(element: not_indexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


def stage_index(column: Any, keys: Sequence[str]) -> Any:
    """The position of a stage key in ``keys`` (the map's order), NULL for any other value."""
    if not keys:
        return literal_column("NULL")
    return case(*((column == key, index) for index, key in enumerate(keys)), else_=None)


def all_of(conditions: Sequence[Any]) -> Any:
    """The conditions joined with AND (true when there are none)."""
    return and_(True, *conditions)


def count_before(moment: Any, times: Sequence[Any], skipped: int = 0, code: int | None = None) -> Any:
    """How many of ``times`` (columns of increasing dates and times, an empty one counting as
    after any moment) come before ``moment``, plus ``skipped``: a binary search, a few comparisons
    per row instead of one per column. With ``code``, the count as one character, of code point
    ``code`` + the count (text: no function call per row to make it one)."""
    if not times:
        return literal_column(str(skipped)) if code is None else \
            literal_column(f"'{chr(code + skipped)}'", String)
    middle = len(times) // 2
    return case((times[middle] < moment, count_before(moment, times[middle + 1:], skipped + middle + 1, code)),
                else_=count_before(moment, times[:middle], skipped, code))


class path_item(FunctionElement):  # noqa: N801
    """SQL: the item at a 0-based position of a ``>``-joined path of stage keys, NULL past its
    end. PostgreSQL only: SQLite reads the stays it serves from the events
    (:func:`integration.journey_stats._stays`)."""

    type = String()
    inherit_cache = True
    name = "path_item"


@compiles(path_item, "postgresql")
def _path_item_postgresql(element: path_item, compiler: Any, **kw: Any) -> str:
    path, position = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"NULLIF(split_part({path}, '>', ({position}) + 1), '')"
