"""Helpers shared by the test suite."""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from sqlalchemy import event


def require_or_skip(kind: str, reason: str) -> None:
    """Skip with ``reason``, or fail when CI made this part mandatory (JOURNEY_REQUIRE_<KIND>=1)."""
    if os.environ.get(f"JOURNEY_REQUIRE_{kind.upper()}") == "1":
        pytest.fail(f"{kind} is mandatory here (JOURNEY_REQUIRE_{kind.upper()}=1): {reason}")
    pytest.skip(reason)


def wait_for(check, timeout: float = 60.0, every: float = 0.3):
    """Poll ``check()`` until it returns something truthy, and return that value; fail after
    ``timeout`` seconds (a bound, not a speed assertion: it only stops a hung test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting after {timeout} s")


def forge_signed_in(client, services, tenant_id: int, csrf: str = "known-token", email: str | None = None) -> None:
    """Give a test client the cookie of a real server-side session of ``tenant_id``."""
    from integration.store.web_sessions import start_web_session

    with services.session() as db:
        sid = start_web_session(db, tenant_id, email)
    with client.session_transaction() as sess:
        sess.update(sid=sid, tenant_id=tenant_id, csrf=csrf)
        if email:
            sess["user_email"] = email


def records_count(html: str) -> str:
    """The record count a records page shows ("1,234", or "1,000+" while it counts up to the cap)."""
    found = re.search(r'<span id="record-count">([^<]+)</span> record\(s\)', html)
    assert found, "the records page shows no record count"
    return found.group(1)


#: What a word follows in a record search: ASCII control characters, space and punctuation.
WORD_SEPARATOR = r"[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"


def search_holds(value: str | None, q: str) -> bool:
    """Whether a searched column's value holds the search text ``q``, as documented (README,
    integration/store/search.py), spelled out in Python: a word start for one or two letters or
    digits, a substring otherwise, in any case."""
    if value is None:
        return False
    needle, value = q.lower(), value.lower()
    if len(needle) <= 2 and re.fullmatch("[a-z0-9]+", needle):
        return re.search(f"(^|{WORD_SEPARATOR}){needle}", value) is not None
    return needle in value


@contextmanager
def statements_sent(engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) ``engine`` sends while the block runs, in order."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)
