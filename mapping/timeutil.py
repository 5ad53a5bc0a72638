"""Time helpers shared by classification, timelines and write-back planning."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_DAY = timedelta(days=1)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is timezone.utc:  # the common case: connectors parse UTC stamps
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def whole_days(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end`` (both aware), never negative."""
    return max(0, (end - start) // _DAY)
