"""The client-side rate budget and the HubSpot error table."""
from __future__ import annotations

import threading
import time

import pytest

from connectors.actions import Action
from connectors.hubspot.errors import record_action, translate
from connectors.hubspot.ratelimit import RateBudget, SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_sliding_window_frees_slots_as_they_age() -> None:
    clock = FakeClock()
    window = SlidingWindow(3, 10.0, clock=clock, sleep=clock.sleep)
    assert [window.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.try_acquire() == pytest.approx(10.0)
    clock.now += 4
    assert window.try_acquire() == pytest.approx(6.0)
    window.acquire()  # sleeps until the first slot ages out
    assert clock.now == pytest.approx(110.0)
    assert window.in_window() == 1  # the three first slots aged out together


def test_margin_and_hold_delay_the_next_slot() -> None:
    clock = FakeClock()
    window = SlidingWindow(1, 1.0, margin_seconds=0.25, clock=clock, sleep=clock.sleep)
    window.acquire()
    assert window.try_acquire() == pytest.approx(1.25)
    clock.now += 2
    window.hold(3.0)
    assert window.try_acquire() == pytest.approx(3.0)


def test_concurrent_acquires_never_exceed_the_limit() -> None:
    budget = RateBudget(5, 0.5, search_per_second=100, margin_seconds=0.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            budget.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 15
    assert all(stamps[i + 5] - stamps[i] >= 0.5 - 1e-3 for i in range(len(stamps) - 5))


def test_search_takes_a_slot_of_both_limits() -> None:
    budget = RateBudget(10, 10.0, search_per_second=2)
    budget.acquire(search=True)
    budget.acquire(search=True)
    assert budget.search.try_acquire() > 0
    assert budget.general.in_window() == 2


RATE_BODY = ('{"status":"error","message":"You have reached your ten_secondly_rolling limit.",'
             '"errorType":"RATE_LIMIT","correlationId":"c","policyName":"TEN_SECONDLY_ROLLING"}')


@pytest.mark.parametrize("status,body,action,code", [
    (401, '{"category":"EXPIRED_AUTHENTICATION","message":"expired"}', Action.REFRESH_AUTH,
     "EXPIRED_AUTHENTICATION"),
    (401, '{"category":"INVALID_AUTHENTICATION","message":"bad"}', Action.REFRESH_AUTH,
     "INVALID_AUTHENTICATION"),
    (403, '{"category":"MISSING_SCOPES","message":"scopes"}', Action.REAUTHORIZE, "MISSING_SCOPES"),
    (429, RATE_BODY, Action.BACKOFF, "RATE_LIMIT"),
    (400, '{"category":"VALIDATION_ERROR","message":"Property values were not valid: '
          '[{\\"error\\":\\"PROPERTY_DOESNT_EXIST\\"}]"}', Action.FAIL, "VALIDATION_ERROR"),
    (400, '{"category":"VALIDATION_ERROR","message":"limit"}', Action.FAIL, "VALIDATION_ERROR"),
    (404, '{"category":"OBJECT_NOT_FOUND","message":"gone"}', Action.FAIL, "OBJECT_NOT_FOUND"),
    (503, "<html>busy</html>", Action.BACKOFF, "HTTP_503"),
    (0, None, Action.BACKOFF, "HTTP_0"),
])
def test_error_table(status: int, body, action: Action, code: str) -> None:
    error = translate(status, body, {}, "GET /x")
    assert error.action is action and error.code == code and error.status == status
    assert error.retryable is (action is Action.BACKOFF)
    assert error.message.startswith(f"HubSpot GET /x: {status}")


@pytest.mark.parametrize("category,action", [
    ("RATE_LIMITS", Action.BACKOFF), ("LOCKED", Action.BACKOFF), ("INTERNAL_ERROR", Action.BACKOFF),
    ("VALIDATION_ERROR", Action.FAIL_RECORD), ("OBJECT_NOT_FOUND", Action.FAIL_RECORD),
    ("SOMETHING_NEW", Action.FAIL_RECORD),
])
def test_per_record_categories_of_a_207_answer(category: str, action: Action) -> None:
    assert record_action(category) is action


def test_rate_limit_hint_follows_the_headers() -> None:
    headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "100"}
    assert translate(429, RATE_BODY, headers, "r").retry_after == pytest.approx(1.0)
    secondly = RATE_BODY.replace("TEN_SECONDLY_ROLLING", "SECONDLY")
    assert translate(429, secondly, {}, "r").retry_after == 1.0
