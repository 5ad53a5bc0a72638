"""Helpers shared by the test suite."""
from __future__ import annotations

import os
import re
import time

import pytest


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
