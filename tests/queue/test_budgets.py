"""Rate budgets shared through Redis: worker processes together stay inside one portal's limit."""
from __future__ import annotations

import copy
import multiprocessing

import pytest

from connectors import registry
from connectors.hubspot import HubSpotConnector, RateBudget
from connectors.hubspot.sandbox import HubSpotPortals
from integration.queue.budgets import RedisResources, RedisWindow
from integration.services import ProcessResources
from tests.fixtures_hubspot import HS_SEED
from tests.fixtures_queue import REDIS_URL

LIMIT, WINDOW = 4, 1.0
PROCESSES, CALLS = 3, 4


def _calls(settings: dict, shared: tuple[str, str] | None, portal: int) -> None:
    """One worker process: CALLS requests through a connector whose budget is shared through
    Redis (``shared`` = (url, prefix)) or kept in this process (None)."""
    resources = RedisResources(*shared) if shared else ProcessResources()
    budget = RateBudget(LIMIT, WINDOW, make_window=lambda name, *limits: resources.rate_window(
        f"hubspot:{portal}:{name}", *limits))
    connector = HubSpotConnector(settings, rate_budget=budget)
    for _ in range(CALLS):
        connector.session.raw_get("GET /account-info/v3/details", "/account-info/v3/details")


def _run_processes(shared: tuple[str, str] | None) -> dict:
    with HubSpotPortals(copy.deepcopy(HS_SEED), rate_limit=LIMIT,
                        rate_window_seconds=WINDOW) as box:
        info = box.info()
        settings = {"base_url": info["base_url"], "access_token": info["private_app_token"]}
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=_calls, args=(settings, shared, info["portal_id"]))
                 for _ in range(PROCESSES)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        assert all(proc.exitcode == 0 for proc in procs)
        return box.calls()["portals"][str(info["portal_id"])]


def test_processes_sharing_a_redis_budget_provoke_no_429(redis_prefix):
    counts = _run_processes((REDIS_URL, redis_prefix))
    assert counts == {"calls": PROCESSES * CALLS, "rate_limited": 0}


def test_without_the_shared_budget_the_same_processes_are_rate_limited():
    """The control: each process on its own budget oversteps the portal's limit together."""
    counts = _run_processes(None)
    assert counts["rate_limited"] > 0


def test_a_hold_pauses_every_holder_of_the_window(redis_prefix):
    a = RedisResources(REDIS_URL, redis_prefix).rate_window("acct:hold", 100, 10.0)
    b = RedisResources(REDIS_URL, redis_prefix).rate_window("acct:hold", 100, 10.0)
    assert a.try_acquire() == 0
    a.hold(5.0)
    assert 4.0 < b.try_acquire() <= 5.0
    assert b.in_window() == 1


def test_a_full_window_says_how_long_until_a_slot_frees(redis_prefix):
    window = RedisResources(REDIS_URL, redis_prefix).rate_window("acct:full", 2, 10.0, 0.5)
    assert [window.try_acquire(), window.try_acquire()] == [0, 0]
    assert 10.0 < window.try_acquire() <= 10.5
    assert window.in_window() == 2


def test_the_hubspot_factory_takes_its_windows_from_the_service(redis_prefix):
    resources = RedisResources(REDIS_URL, redis_prefix)
    settings = {"access_token": "t", "portal_id": "62515", "base_url": "http://127.0.0.1:9"}
    a = registry.spec("hubspot").factory(settings, None, resources)
    b = registry.spec("hubspot").factory(settings, None, resources)
    assert a.session.budget is b.session.budget
    assert isinstance(a.session.budget.general, RedisWindow)
    assert isinstance(a.session.budget.search, RedisWindow)
    assert (a.session.budget.general.limit, a.session.budget.search.limit) == (110, 5)


@pytest.mark.parametrize("limit,window", [(0, 1.0), (1, 0.0)])
def test_a_window_needs_a_limit_and_a_span(redis_prefix, limit, window):
    with pytest.raises(ValueError, match="limit >= 1 and window_seconds > 0"):
        RedisResources(REDIS_URL, redis_prefix).rate_window(f"acct:{limit}", limit, window)
