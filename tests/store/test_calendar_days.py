"""Calendar days between two stored times, as the analytics count a stay's days, on SQLite and
PostgreSQL alike: by the UTC dates, whatever the hours, never negative."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import DateTime, literal, select

from integration.store.sqlfuncs import calendar_days, utc_date

PAIRS = [
    (datetime(2026, 12, 2, 0, 0), datetime(2026, 12, 2, 23, 59, 59, 999999)),  # the same day
    (datetime(2026, 12, 2, 23, 59, 59, 999999), datetime(2026, 12, 3, 0, 0, 0, 1)),  # a microsecond
    (datetime(2026, 12, 2, 23, 59, 59, 999600), datetime(2026, 12, 3, 23, 59, 59, 999700)),
    (datetime(2024, 2, 28, 12, 0), datetime(2024, 3, 1, 1, 0)),  # a leap day between
    (datetime(2025, 12, 31, 23, 0), datetime(2026, 1, 1, 0, 30)),  # a year's end
    (datetime(2026, 12, 3, 8, 0), datetime(2026, 12, 1, 9, 0)),  # ended before it began: 0
    (datetime(2020, 1, 1, 0, 0), datetime(2026, 12, 2, 18, 0)),
]


@pytest.mark.parametrize("began, ended", PAIRS)
def test_calendar_days_count_dates_not_hours(services, began, ended):
    expected = max(0, (ended.date() - began.date()).days)
    at = [literal(moment, DateTime()) for moment in (began, ended)]
    with services.engine.connect() as c:
        assert c.execute(select(calendar_days(utc_date(at[0]), utc_date(at[1])))).scalar() == expected
        # a date against a time (the rollup's days begun against today)
        assert c.execute(select(calendar_days(literal(began.date()), utc_date(at[1])))).scalar() == \
            expected
        assert c.execute(select(calendar_days(utc_date(at[0]), literal(date(2019, 1, 1))))).scalar() == 0
