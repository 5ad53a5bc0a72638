"""The period and filters of the analytics and records views, read from named texts: a request's
query string (the API) or a command's options (the CLI) get one validation and one wording of
every error. Pure: no Flask, no click; each caller turns :class:`BadArgument` into its own error.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from connectors import registry
from integration.analytics import RecordFilter

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Filters every records and analytics view takes, matched exactly against the stored record
#: (``owner_name`` against the owner names the CRM gives, in any case).
TEXT_FILTERS = ("object", "persona", "owner", "owner_name", "pipeline", "stage", "country",
                "lead_source")

Args = Mapping[str, str]


class BadArgument(ValueError):
    """A parameter that cannot be used: ``name`` is the parameter, ``str()`` says where and why,
    ``details`` go into the API's error body."""

    def __init__(self, name: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.name, self.details = name, details


def text_value(args: Args, name: str, max_length: int = 200) -> str | None:
    """A text of at most ``max_length`` characters, None when absent or empty."""
    raw = args.get(name)
    if raw is not None and len(raw) > max_length:
        raise BadArgument(name, f"{name}: at most {max_length} characters")
    return raw or None


def choice_value(args: Args, name: str, choices: list[str]) -> str | None:
    """A value that must be one of ``choices``, None when absent."""
    raw = args.get(name)
    if raw is not None and raw not in choices:
        raise BadArgument(name, f"{name}: one of {', '.join(choices)}")
    return raw


def bool_value(args: Args, name: str) -> bool | None:
    """A true/false value (true, 1, yes / false, 0, no; any case), None when absent."""
    raw = args.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadArgument(name, f"{name}: must be true or false")


def date_value(args: Args, name: str) -> date | None:
    """An ISO date (YYYY-MM-DD), None when absent or empty."""
    raw = args.get(name)
    if not raw:
        return None
    try:
        # Only YYYY-MM-DD: fromisoformat alone would also take 20260101 or 2026-W01-1.
        if not ISO_DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise BadArgument(name, f"{name}: must be a date as YYYY-MM-DD, not {raw[:40]!r}") from None


def period(args: Args) -> tuple[datetime | None, datetime | None]:
    """The period ``from``..``to`` (ISO dates, both days included) as [since, until) in UTC;
    :class:`BadArgument` when a date is malformed or ``from`` is after ``to``."""
    first, last = date_value(args, "from"), date_value(args, "to")
    if first is not None and last is not None and first > last:
        raise BadArgument("from", f"from ({first}) is after to ({last})",
                          {"from": first.isoformat(), "to": last.isoformat()})
    since = datetime.combine(first, time(), timezone.utc) if first else None
    # The last day ends at the next midnight; there is none after 9999-12-31, so no upper bound.
    until = (datetime.combine(last + timedelta(days=1), time(), timezone.utc)
             if last is not None and last < date.max else None)
    return since, until


def record_filter(args: Args) -> RecordFilter:
    """The record filter ``args`` give: :data:`TEXT_FILTERS`, ``crm``, search ``q``, ``stalled``
    and the period ``from``/``to``."""
    since, until = period(args)
    return RecordFilter(**{name: text_value(args, name) for name in TEXT_FILTERS},
                        crm=choice_value(args, "crm", registry.names()), q=text_value(args, "q"),
                        stalled=bool_value(args, "stalled"), since=since, until=until)
