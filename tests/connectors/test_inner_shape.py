"""The inner shape every connector shares: error tables, the paginator's loop guard, the batch
sink's partial stop, bounded token refresh. Pure functions, no CRM needed."""
from __future__ import annotations

import pytest

from connectors.actions import ANY, Action, ErrorRule, ErrorTable
from connectors.base import AuthExpired, CrmError, QuotaReached, RateLimited, TransientError, error_for
from connectors.rest import BatchSink, call_with_refresh, paginate

TABLE = ErrorTable((
    ErrorRule(ANY, "LIMIT", Action.PAUSE_QUOTA, phrase="daily"),
    ErrorRule(ANY, "LIMIT", Action.BACKOFF),
    ErrorRule(401, ANY, Action.REFRESH_AUTH),
    ErrorRule(400, "BAD_VALUE", Action.FAIL_RECORD),
))


@pytest.mark.parametrize("status, code, message, action", [
    (403, "LIMIT", "Daily limit spent", Action.PAUSE_QUOTA),
    (403, "LIMIT", "too many at once", Action.BACKOFF),
    (401, "WHATEVER", "", Action.REFRESH_AUTH),
    (400, "BAD_VALUE", "", Action.FAIL_RECORD),
    (400, "OTHER", "", Action.FAIL),          # no row: a 4xx fails
    (503, "OTHER", "", Action.BACKOFF),       # no row: a 5xx backs off
    (429, None, "", Action.BACKOFF),
    (0, None, "", Action.BACKOFF),            # no answer at all
    (None, None, "", Action.BACKOFF),
])
def test_an_error_table_is_first_match_with_a_status_class_fallback(status, code, message, action):
    assert TABLE.action(status, code, message) is action


@pytest.mark.parametrize("action, status, kind", [
    (Action.REFRESH_AUTH, 401, AuthExpired), (Action.PAUSE_QUOTA, 403, QuotaReached),
    (Action.BACKOFF, 429, RateLimited), (Action.BACKOFF, 503, TransientError),
    (Action.FAIL, 400, CrmError),
])
def test_errors_carry_the_action_their_table_chose(action, status, kind):
    error = error_for(action, "m", status=status, code="C")
    assert type(error) is kind and error.action is action
    assert error.retryable is (action in (Action.RETRY, Action.BACKOFF))


def test_the_paginator_follows_tokens_and_stops_a_loop():
    pages = {None: ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", None)}
    assert [p[0] for p in paginate(lambda t: pages[t], lambda p: p[1], what="x")] == ["a", "b", "c"]
    looping = {None: ("a", "t1"), "t1": ("b", "t2"), "t2": ("c", "t1")}
    seen = []
    with pytest.raises(CrmError) as loop:
        for page in paginate(lambda t: looping[t], lambda p: p[1], what="tickets"):
            seen.append(page[0])
    assert seen == ["a", "b", "c"]
    assert (loop.value.code, loop.value.action) == ("PAGINATION_LOOP", Action.FAIL)


def _sink(fail_on: int | None, error: CrmError) -> tuple[BatchSink, list[list[int]]]:
    sent: list[list[int]] = []

    def write(batch):
        if len(sent) == fail_on:
            raise error
        sent.append(batch)
        return [f"ok{i}" for i in batch]

    return BatchSink(2, write, failed=lambda item, exc: f"failed{item}:{exc.code}"), sent


def test_the_batch_sink_sizes_batches_and_keeps_what_was_written():
    sink, sent = _sink(None, CrmError("x"))
    progress = []
    pairs = sink.write(range(5), progress=lambda what, done, total: progress.append((done, total)))
    assert sent == [[0, 1], [2, 3], [4]] and [r for _, r in pairs] == ["ok0", "ok1", "ok2", "ok3", "ok4"]
    assert progress == [(2, 5), (4, 5), (5, 5)]
    sink, sent = _sink(1, QuotaReached("spent", code="Q", status=403))
    assert [r for _, r in sink.write(range(5))] == ["ok0", "ok1", "failed2:Q", "failed3:Q", "failed4:Q"]
    sink, sent = _sink(1, QuotaReached("ceiling", code="C", unsent=True))  # refused before sending
    assert [r for _, r in sink.write(range(5))] == ["ok0", "ok1", "failed2:C", "failed3:C", "failed4:C"]
    sink, _ = _sink(1, TransientError("timed out", code="T"))  # no answer: batch 2 may land yet
    with pytest.raises(CrmError):
        sink.write(range(5))
    sink, _ = _sink(1, CrmError("bad field", code="F"))  # retrying cannot fix it: raised
    with pytest.raises(CrmError):
        sink.write(range(5))
    sink, _ = _sink(0, TransientError("down", code="D"))  # nothing written yet: raised
    with pytest.raises(CrmError):
        sink.write(range(5))


class _Credentials:
    def __init__(self, can: bool) -> None:
        self.can_refresh = can
        self.refreshes = 0

    def refresh(self) -> None:
        self.refreshes += 1


def test_token_refresh_is_bounded_and_ends_in_reauthorize():
    creds = _Credentials(True)
    calls = []

    def expired_once():
        calls.append(1)
        if len(calls) == 1:
            raise AuthExpired("expired", code="E")
        return "ok"

    assert call_with_refresh(expired_once, creds) == "ok" and creds.refreshes == 1

    def always_expired():
        raise AuthExpired("expired", code="E")

    with pytest.raises(CrmError) as spent:
        call_with_refresh(always_expired, creds, max_refreshes=2)
    assert spent.value.action is Action.REAUTHORIZE and creds.refreshes == 3
    with pytest.raises(CrmError) as impossible:
        call_with_refresh(always_expired, _Credentials(False))
    assert impossible.value.action is Action.REAUTHORIZE
    with pytest.raises(CrmError) as other:
        call_with_refresh(lambda: (_ for _ in ()).throw(TransientError("down")), creds)
    assert other.value.action is Action.BACKOFF
