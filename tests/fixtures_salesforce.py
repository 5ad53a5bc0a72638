"""Salesforce sandbox fixtures, usable by every area's tests.

``sf_sandbox`` is one started sandbox per test session holding :func:`sf_seed`; tests that change
data or faults should start their own with ``make_sf_sandbox(seed, **options)`` (stopped at the
end of the session) so they do not disturb others.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
import requests

from connectors.salesforce import SPEC
from connectors.salesforce.sandbox import SalesforceSandbox

ACME = "0015g00000AbCdEAAV"
GLOBEX = "0015g00000GlObXAAV"
OPP_ACME = "0065g00000XyZ01AAF"
OPP_GLOBEX = "0065g00000XyZ02AAF"
OPP_WON = "0065g00000XyZ03AAF"
CONTACT_LI = "0035g00000CoNt1AAB"
CONTACT_MIA = "0035g00000CoNt2AAB"
LEAD_ANA = "00Q5g00000LeAd1EAB"
OWNER = "0055g00000OwNeRAAA"


def sf_seed() -> dict[str, Any]:
    """A small realistic org: two accounts, three opportunities with history, a lead, two contacts."""
    return {
        "org_id": "00D5g000004ExAmEAC",
        "accounts": [
            {"Id": ACME, "Name": "Acme Corp", "Industry": "Manufacturing", "NumberOfEmployees": 5200,
             "BillingCountry": "Germany"},
            {"Id": GLOBEX, "Name": "Globex", "Industry": "Technology", "NumberOfEmployees": 80,
             "BillingCountry": "Portugal"},
        ],
        "opportunities": [
            {"Id": OPP_ACME, "Name": "Acme - Platform", "AccountId": ACME, "Amount": 180000,
             "StageName": "Negotiation/Review", "CloseDate": "2026-12-15", "LeadSource": "Web",
             "Type": "New Customer", "OwnerId": OWNER, "CreatedDate": "2026-08-01T09:00:00Z",
             "history": [
                 {"StageName": "Prospecting", "CreatedDate": "2026-08-01T09:00:00Z"},
                 {"StageName": "Qualification", "CreatedDate": "2026-08-20T15:30:00Z"},
                 {"StageName": "Negotiation/Review", "CreatedDate": "2026-09-28T11:00:00Z"},
             ]},
            {"Id": OPP_GLOBEX, "Name": "Globex - Pilot", "AccountId": GLOBEX, "Amount": 24000,
             "StageName": "Prospecting", "CloseDate": "2027-01-31", "LeadSource": "Webinar",
             "OwnerId": OWNER, "CreatedDate": "2026-10-01T10:00:00Z"},
            {"Id": OPP_WON, "Name": "Acme - Renewal", "AccountId": ACME, "Amount": 50000,
             "StageName": "Closed Won", "CloseDate": "2026-07-01", "OwnerId": OWNER,
             "CreatedDate": "2026-05-01T08:00:00Z",
             "history": [
                 {"StageName": "Qualification", "CreatedDate": "2026-05-01T08:00:00Z"},
                 {"StageName": "Closed Won", "CreatedDate": "2026-06-25T16:00:00Z"},
             ]},
        ],
        "leads": [
            {"Id": LEAD_ANA, "FirstName": "Ana", "LastName": "Silva", "Company": "Initech",
             "Title": "VP Operations", "Status": "Working - Contacted", "LeadSource": "Webinar",
             "Country": "Brazil", "Industry": "Retail", "NumberOfEmployees": 300,
             "CreatedDate": "2026-10-02T08:00:00Z"},
        ],
        "contacts": [
            {"Id": CONTACT_LI, "FirstName": "Li", "LastName": "Wei", "AccountId": ACME, "Title": "CTO",
             "MailingCountry": "Germany", "CreatedDate": "2026-06-10T08:00:00Z"},
            {"Id": CONTACT_MIA, "FirstName": "Mia", "LastName": "Rossi", "AccountId": GLOBEX,
             "Title": "Head of IT", "CreatedDate": "2026-06-11T08:00:00Z"},
        ],
        "opportunity_contact_roles": [
            {"OpportunityId": OPP_WON, "ContactId": CONTACT_LI, "Role": "Decision Maker", "IsPrimary": True},
            {"OpportunityId": OPP_ACME, "ContactId": CONTACT_LI, "Role": "Decision Maker", "IsPrimary": True},
        ],
    }


def sf_settings(sandbox: SalesforceSandbox, **overrides: Any) -> dict[str, Any]:
    """Connector settings for ``sandbox`` (the SPEC's settings taken from ``info()``)."""
    info = sandbox.info()
    names = {s.name for s in SPEC.settings}
    return {**{k: v for k, v in info.items() if k in names}, **overrides}


def sf_control(sandbox: SalesforceSandbox, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST (with a body) or GET (without) a ``/__sandbox__/<path>`` endpoint; returns its JSON."""
    url = f"{sandbox.instance_url}/__sandbox__/{path}"
    info = sandbox.info()
    with requests.Session() as session:
        session.trust_env = False
        response = (session.post(url, json=body, verify=info["ca_file"], timeout=10) if body is not None
                    else session.get(url, verify=info["ca_file"], timeout=10))
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="session")
def make_sf_sandbox() -> Iterator[Callable[..., SalesforceSandbox]]:
    """Factory: ``make_sf_sandbox(seed=None, **options)`` -> a started sandbox, stopped at session end."""
    started: list[SalesforceSandbox] = []

    def make(seed: dict[str, Any] | None = None, **options: Any) -> SalesforceSandbox:
        sandbox = SalesforceSandbox(seed, **options).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture(scope="session")
def sf_sandbox(make_sf_sandbox: Callable[..., SalesforceSandbox]) -> SalesforceSandbox:
    """A started sandbox holding :func:`sf_seed`, shared by the whole session."""
    return make_sf_sandbox(sf_seed())
