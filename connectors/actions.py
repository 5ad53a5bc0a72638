"""Error handling as data: what to do about a CRM's answer, decided by one table per connector.

In the manner of the Airbyte CDK's error handlers, each connector declares an :class:`ErrorTable`
from (HTTP status, CRM error code, optionally a phrase of the message) to an :class:`Action`. Every
:class:`~connectors.base.CrmError` carries the action its table chose; the sync engine, the outbox
flush and the worker act on that action and never on exception classes or CRM codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(str, Enum):
    """What the caller should do about a failed CRM call or a record the CRM refused."""

    #: Try the same call again at once (a bounded number of times): a blip such as a lost query cursor.
    RETRY = "retry"
    #: Wait (the CRM's hint, else exponential backoff) and try again: 429, 503, lock contention.
    BACKOFF = "backoff"
    #: The access token expired: refresh it and try again once.
    REFRESH_AUTH = "refresh_auth"
    #: The credentials were refused and cannot be refreshed: the connection needs reconnecting.
    REAUTHORIZE = "reauthorize"
    #: The CRM's (or the configured share of its) daily API quota is spent: stop, resume later.
    PAUSE_QUOTA = "pause_quota"
    #: Only this record failed (a validation rule, a bad value): record it, go on with the rest.
    FAIL_RECORD = "fail_record"
    #: The call itself is wrong (unknown field, missing permission, bad settings): stop the run.
    FAIL = "fail"

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed if simply made again later."""
        return self in (Action.RETRY, Action.BACKOFF)


#: Matches any status or any code in an :class:`ErrorRule`.
ANY = None


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """One row of an error table. ``status``/``code`` of None match anything; ``phrase``, when
    set, must appear in the CRM's message (case-insensitive): Salesforce tells a spent daily
    quota from a concurrency limit only by its message."""

    status: int | None
    code: str | None
    action: Action
    phrase: str | None = None

    def matches(self, status: int | None, code: str | None, message: str) -> bool:
        """Whether this row covers the CRM's answer."""
        return ((self.status is None or self.status == status)
                and (self.code is None or self.code == code)
                and (self.phrase is None or self.phrase.lower() in (message or "").lower()))


@dataclass(frozen=True, slots=True)
class ErrorTable:
    """A connector's error rules, first match wins. Answers no row covers fall back on the status
    class: no answer at all (status 0 or None: connection reset, timeout) and 5xx back off, 429
    backs off, everything else fails."""

    rules: tuple[ErrorRule, ...]

    def action(self, status: int | None, code: str | None = None, message: str = "") -> Action:
        """The action for a CRM answer with ``status``, error ``code`` and ``message``."""
        for rule in self.rules:
            if rule.matches(status, code, message):
                return rule.action
        if not status or status >= 500 or status == 429:
            return Action.BACKOFF
        return Action.FAIL
