"""HubSpot sandbox fixtures, usable by every area's tests.

- ``hs_sandbox``: one started sandbox for the session, seeded with :data:`HS_SEED` (treat it as
  read-only; tests that write should start their own);
- ``make_hs_sandbox(seed, **options)``: start a sandbox with any seed and options; stopped at the
  end of the test module.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

import pytest

from connectors.hubspot.sandbox import HubSpotSandbox

#: A small realistic portal: the default pipeline, deals at several stages, contacts.
HS_SEED: dict[str, Any] = {
    "portal_id": 62515,
    "deals": [
        {"id": "18462730011",
         "properties": {"dealname": "Globex renewal", "amount": "24000", "pipeline": "default",
                        "dealstage": "contractsent", "createdate": "2026-09-01T10:00:00Z",
                        "hubspot_owner_id": "310987", "hs_analytics_source": "REFERRALS"},
         "history": {"dealstage": [
             {"value": "appointmentscheduled", "timestamp": "2026-09-01T10:00:00Z"},
             {"value": "qualifiedtobuy", "timestamp": "2026-09-12T09:30:00Z"},
             {"value": "contractsent", "timestamp": "2026-10-05T12:00:00Z"}]}},
        {"id": "18462730012",
         "properties": {"dealname": "Initech expansion", "amount": "180000", "pipeline": "default",
                        "dealstage": "closedwon", "createdate": "2026-06-02T08:00:00Z",
                        "hubspot_owner_id": "310988"},
         "history": {"dealstage": [
             {"value": "appointmentscheduled", "timestamp": "2026-06-02T08:00:00Z"},
             {"value": "decisionmakerboughtin", "timestamp": "2026-07-15T14:00:00Z"},
             {"value": "closedwon", "timestamp": "2026-08-30T16:45:00Z"}]}},
        {"id": "18462730013",
         "properties": {"dealname": "Umbrella pilot", "amount": "9500", "pipeline": "default",
                        "dealstage": "appointmentscheduled", "createdate": "2026-10-20T11:00:00Z"}},
    ],
    "contacts": [
        {"id": "151",
         "properties": {"email": "ana@globex.example", "firstname": "Ana", "lastname": "Silva",
                        "jobtitle": "VP Operations", "industry": "Manufacturing", "country": "Portugal",
                        "company": "Globex",
                        "lifecyclestage": "salesqualifiedlead", "createdate": "2026-08-11T08:00:00Z"},
         "history": {"lifecyclestage": [
             {"value": "lead", "timestamp": "2026-08-11T08:00:00Z"},
             {"value": "salesqualifiedlead", "timestamp": "2026-09-14T16:00:00Z"}]}},
        {"id": "152",
         "properties": {"email": "li@initech.example", "firstname": "Li", "lastname": "Wei",
                        "jobtitle": "CTO", "lifecyclestage": "customer",
                        "createdate": "2026-05-01T08:00:00Z"}},
    ],
}


@pytest.fixture(scope="session")
def hs_sandbox() -> Iterator[HubSpotSandbox]:
    """A started sandbox seeded with :data:`HS_SEED`, shared by the whole session."""
    with HubSpotSandbox(copy.deepcopy(HS_SEED)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def make_hs_sandbox() -> Iterator[Callable[..., HubSpotSandbox]]:
    """Factory: ``make_hs_sandbox(seed=None, **options)`` -> a started sandbox (default seed
    :data:`HS_SEED`); every sandbox it made stops when the module's tests are done."""
    started: list[HubSpotSandbox] = []

    def make(seed: dict[str, Any] | None = None, **options: Any) -> HubSpotSandbox:
        sandbox = HubSpotSandbox(copy.deepcopy(HS_SEED if seed is None else seed), **options)
        started.append(sandbox.start())
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()
