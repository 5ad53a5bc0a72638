"""SQL expressions that mean the same on SQLite and PostgreSQL, so analytics keep one code path.

Each is a SQLAlchemy function element compiled per dialect: calendar dates, calendar buckets and
ordered string aggregation are where the two databases differ. Percentiles are picked with
window functions over a histogram (:func:`histogram`, :func:`percentile_columns`), which both
databases run alike.
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Date, Integer, String, and_, case, func, literal_column, select
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
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # both julian days fall on noon of whole days, so the difference is a whole number
    return f"max(0, CAST(julianday({end}) - julianday({start}) AS INTEGER))"


@compiles(calendar_days, "postgresql")
def _calendar_days_postgresql(element: calendar_days, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"GREATEST(0, ({end}) - ({start}))"


class floor_int(FunctionElement):  # noqa: N801
    """The largest whole number not over a (non-negative) number."""

    type = Integer()
    inherit_cache = True
    name = "floor_int"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element: floor_int, compiler: Any, **kw: Any) -> str:
    # CAST truncates toward zero: the floor for the non-negative values it is given
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@compiles(floor_int, "postgresql")
def _floor_postgresql(element: floor_int, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS INTEGER)"


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


#: The percentiles the analytics report, by name.
PERCENTILES = {"p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}


def histogram(value: Any, groups: Sequence[Any], query: Any, weight: Any = None) -> Any:
    """``query`` (selecting the labelled ``groups`` and maybe aggregates) as a histogram subquery:
    per group and distinct ``value``, its columns, ``n`` rows (or the sum of ``weight``, for rows
    that count several: rollups), ``upto`` the rows up to and including this value, ``total`` the
    group's rows. Percentiles are then picked from it with :func:`percentile_columns`: the
    window functions run over the distinct values, not over every row."""
    rows = func.count() if weight is None else func.sum(weight)
    counted = query.add_columns(value.label("value"), rows.label("n")) \
        .group_by(*groups, value).subquery()
    keys = [counted.c[g.key] for g in groups]
    return select(*counted.c,
                  func.sum(counted.c.n).over(partition_by=keys, order_by=counted.c.value).label("upto"),
                  func.sum(counted.c.n).over(partition_by=keys).label("total")).subquery()


def percentile_columns(hist: Any, wanted: dict[str, float] = PERCENTILES) -> list[Any]:
    """Aggregate columns over a :func:`histogram` giving each wanted percentile of the values of
    a group, interpolated linearly between the two nearest ranks (PostgreSQL's
    ``percentile_cont``, Python's ``statistics.quantiles(method="inclusive")``)."""
    c = hist.c
    first = c.upto - c.n  # the 0-based rank of the first row holding this value

    def at(rank: Any) -> Any:
        return and_(first <= rank, rank < c.upto)

    columns = []
    for name, share in wanted.items():
        exact = (c.total - 1) * share
        low = floor_int(exact)
        fraction = exact - low
        columns.append(func.sum(case((at(low), c.value * (1 - fraction)), else_=0)
                                + case((at(low + 1), c.value * fraction), else_=0)).label(name))
    return columns


def stage_index(column: Any, keys: Sequence[str]) -> Any:
    """The position of a stage key in ``keys`` (the map's order), NULL for any other value."""
    if not keys:
        return literal_column("NULL")
    return case(*((column == key, index) for index, key in enumerate(keys)), else_=None)


def all_of(conditions: Sequence[Any]) -> Any:
    """The conditions joined with AND (true when there are none)."""
    return and_(True, *conditions)


def count_before(moment: Any, times: Sequence[Any], skipped: int = 0) -> Any:
    """How many of ``times`` (columns of increasing dates and times, an empty one counting as
    after any moment) come before ``moment``, plus ``skipped``: a binary search, a few comparisons
    per row instead of one per column."""
    if not times:
        return literal_column(str(skipped))
    middle = len(times) // 2
    return case((times[middle] < moment, count_before(moment, times[middle + 1:], skipped + middle + 1)),
                else_=count_before(moment, times[:middle], skipped))


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
