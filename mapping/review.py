"""When a journey map is due for review: the map's ``review.every_days`` since its last review."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.model import JourneyMap
from mapping.timeutil import whole_days


@dataclass(frozen=True)
class ReviewStatus:
    """A map's review standing at ``now``.

    ``last_reviewed`` is None when the map was never reviewed (then it is due); ``due_at`` is when
    the next review falls due (None when never reviewed); ``days_overdue`` counts whole days past
    ``due_at`` (0 when not due).
    """

    every_days: int
    last_reviewed: datetime | None
    due_at: datetime | None
    due: bool
    days_overdue: int


def review_status(jmap: JourneyMap, last_reviewed: datetime | None, now: datetime) -> ReviewStatus:
    """Whether ``jmap``, last reviewed at ``last_reviewed`` (a version applied or marked
    reviewed), is due for review at ``now``."""
    every = jmap.review_rule.every_days
    if last_reviewed is None:
        return ReviewStatus(every, None, None, True, 0)
    due_at = last_reviewed + timedelta(days=every)
    due = now >= due_at
    return ReviewStatus(every, last_reviewed, due_at, due, whole_days(due_at, now) if due else 0)
