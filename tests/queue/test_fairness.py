"""The scheduler is fair: a tenant with many due connections holds at most its share of places in
the queue, interleaved with the other tenants', so it cannot starve them."""
from __future__ import annotations

import base64
import dataclasses
import json

import pytest
import redis

from integration.queue.scheduler import Scheduler, fair_order
from integration.queue.tasks import make_celery
from integration.store.connections import create_connection
from integration.store.tenancy import get_or_create_tenant
from tests.fixtures_queue import REDIS_URL

SHARE = 3


@pytest.fixture(scope="module")
def tenants(services):
    """Tenant "big" with twelve connections never synced, tenant "small" with one."""
    made = {}
    with services.session() as s:
        for name, count in (("big", 12), ("small", 1)):
            tenant = get_or_create_tenant(s, f"fair-{name}").id
            # Stored as they are: connect() would ask HubSpot about the token first.
            made[name] = (tenant, [create_connection(s, services.secret_box, tenant_id=tenant,
                                                     name=f"{name}-{n}", crm="hubspot",
                                                     settings={}, secrets={"access_token": "t"},
                                                     account_id=f"{name}-{n}").id
                                   for n in range(count)])
    return made


@pytest.fixture(scope="module")
def scheduler(services, queue_settings):
    settings = queue_settings.with_overrides(queue_tenant_share=SHARE)
    return Scheduler(dataclasses.replace(services, settings=settings), make_celery(settings))


def _queue(settings) -> list[list[int]]:
    """The task arguments waiting in the broker's list, first out first."""
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{settings.redis_prefix}:{settings.redis_prefix}.work"
    raw = client.lrange(key, 0, -1)[::-1]  # kombu pushes on the left and pops on the right
    return [json.loads(base64.b64decode(json.loads(message)["body"]))[0] for message in raw]


def test_a_big_tenant_gets_its_share_and_the_small_one_is_not_behind_it(scheduler, tenants):
    big, small = tenants["big"], tenants["small"]
    queued = scheduler.tick()
    assert [t for t, _ in queued] == [big[0], small[0], big[0], big[0]]
    assert [c for t, c in queued if t == big[0]] == big[1][:SHARE]
    assert _queue(scheduler.services.settings) == [[cid, tenant] for tenant, cid in queued]
    assert scheduler.tick() == []  # all still waiting: nothing queued twice


def test_when_tasks_start_the_tenant_gets_places_back(scheduler, tenants):
    big, small = tenants["big"], tenants["small"]
    scheduler.ledger.started(big[0], big[1][0])
    scheduler.ledger.started(small[0], small[1][0])
    queued = scheduler.tick()
    # The started ones run under their lease in real life; here nothing holds it, so they are
    # due again and queue behind the others of their tenant.
    assert [t for t, _ in queued] == [big[0], small[0]]
    assert queued[0][1] in big[1] and queued[1][1] == small[1][0]


def test_fair_order_interleaves_tenants():
    assert fair_order({2: [20, 21, 22], 1: [10]}) == [(1, 10), (2, 20), (2, 21), (2, 22)]
    assert fair_order({}) == []
