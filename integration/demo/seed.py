"""The demo book: a realistic, deterministic seed for both sandboxes, dated relative to ``now``.

A few hundred opportunities, deals, leads and contacts with stage histories; some move briskly,
some linger long enough to be stalled, some are lost. Same ``now`` and ``seed``, same book.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

SF_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
             "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
             "Negotiation/Review", "Closed Won"]
SF_LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                    "Closed - Not Converted"]
HS_DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                  "decisionmakerboughtin", "contractsent", "closedwon"]
HS_LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                "opportunity", "customer", "evangelist"]

COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
             "Wonka", "Soylent", "Tyrell", "Cyberdyne", "Vandelay", "Pied Piper", "Aperture",
             "Massive Dynamic", "Oscorp", "Gringotts", "Monarch", "Dunder Mifflin", "Prestige Worldwide"]
INDUSTRIES = ["Manufacturing", "Technology", "Healthcare", "Retail", "Finance", "Education"]
FIRST = ["Ana", "Li", "Sam", "Priya", "Jonas", "Mia", "Omar", "Chen", "Lucia", "Tom", "Aisha", "Ben"]
LAST = ["Silva", "Wei", "Jones", "Patel", "Berg", "Rossi", "Haddad", "Lin", "Garcia", "Novak"]
TITLES = ["VP Operations", "CTO", "Head of IT", "Procurement Manager", "CFO", "Founder",
          "Office Manager", "Director of Sales", "Engineer"]
SOURCES = ["Web", "Webinar", "Partner Referral", "Trade Show", "Phone Inquiry"]
SF_OWNERS = ["0055g00000OwNeRAAA", "0055g00000OwNeRBAA", "0055g00000OwNeRCAA", "0055g00000OwNeRDAA"]
HS_OWNERS = ["310987", "310988", "310989"]
#: The reps who own the demo records: (first name, last name) per owner id, in the lists' order.
REPS = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson")]


def _sf_users() -> list[dict[str, str]]:
    return [{"Id": owner, "FirstName": first, "LastName": last, "Email": f"{first.lower()}@demo.example"}
            for owner, (first, last) in zip(SF_OWNERS, REPS)]


def _hs_owners() -> list[dict[str, str]]:
    return [{"id": owner, "firstName": first, "lastName": last, "email": f"{first.lower()}@demo.example"}
            for owner, (first, last) in zip(HS_OWNERS, REPS)]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _walk(rng: random.Random, stages: list[str], start: datetime, now: datetime,
          lost: str | None) -> list[tuple[str, datetime]]:
    """A plausible stage history: forward steps of a few days to weeks, sometimes lost."""
    target = rng.randint(0, len(stages) - 1)
    history, moment = [(stages[0], start)], start
    for stage in stages[1:target + 1]:
        step = timedelta(days=rng.choice([2, 4, 7, 10, 14, 21, 35]), hours=rng.randint(0, 23))
        if moment + step >= now:
            break
        moment += step
        history.append((stage, moment))
    if lost and rng.random() < 0.12 and history[-1][0] != stages[-1]:
        moment = min(moment + timedelta(days=rng.randint(3, 20)), now - timedelta(hours=1))
        history.append((lost, moment))
    return history


def _link_across_crms(contacts: list[dict[str, Any]], leads: list[dict[str, Any]],
                      opportunities: list[dict[str, Any]], people: list[dict[str, Any]],
                      deals: list[dict[str, Any]]) -> None:
    """Make part of the book the same people and deals in both CRMs, as HubSpot's own Salesforce
    integration would: e-mail addresses on Salesforce contacts and leads (unique), a quarter of the
    HubSpot contacts sharing one of them (in another case; every other one also carrying the
    Salesforce id), and a few HubSpot deals mirroring an opportunity."""
    for kind, records in (("contact", contacts), ("lead", leads)):
        for i, record in enumerate(records):
            record["Email"] = f"{record['FirstName'].lower()}.{record['LastName'].lower()}.{kind}{i}@demo.example"
    twins = [("salesforcecontactid", c) for c in contacts] + [("salesforceleadid", l) for l in leads]
    for i, person in enumerate(people[: len(people) // 4]):
        if i >= len(twins):
            break
        id_property, twin = twins[i * len(twins) // max(len(people) // 4, 1)]
        person["properties"]["email"] = twin["Email"].upper() if i % 3 == 0 else twin["Email"]
        if i % 2:
            person["properties"][id_property] = twin["Id"]
    for deal, opportunity in zip(deals[:20], opportunities[:20]):
        deal["properties"]["hs_salesforceopportunityid"] = opportunity["Id"]


def demo_seed(now: datetime, seed: int = 7, *, opportunities: int = 300, leads: int = 120,
              sf_contacts: int = 150, deals: int = 300, hs_contacts: int = 200) -> dict[str, Any]:
    """The demo seed (both CRMs) as the sandbox seed format describes it."""
    rng = random.Random(seed)
    accounts = [{"Id": f"0015g00000Ac{i:03d}", "Name": f"{name} Corp",
                 "Industry": rng.choice(INDUSTRIES), "NumberOfEmployees": rng.choice([12, 45, 180, 900, 5200, 24000])}
                for i, name in enumerate(COMPANIES)]
    opps = []
    for i in range(opportunities):
        account = rng.choice(accounts)
        start = now - timedelta(days=rng.randint(5, 240), hours=rng.randint(0, 23))
        history = _walk(rng, SF_STAGES, start, now, "Closed Lost")
        opps.append({
            "Id": f"0065g0000Op{i:04d}", "Name": f"{account['Name']} - {rng.choice(['Platform', 'Renewal', 'Expansion', 'Pilot'])} {i}",
            "AccountId": account["Id"], "Amount": rng.choice([4800, 12000, 36000, 85000, 140000, 420000]),
            "StageName": history[-1][0], "CloseDate": (now + timedelta(days=rng.randint(-30, 120))).date().isoformat(),
            "LeadSource": rng.choice(SOURCES), "Type": rng.choice(["New Customer", "Existing Customer - Upgrade"]),
            "OwnerId": rng.choice(SF_OWNERS), "CreatedDate": _iso(start),
            "history": [{"StageName": s, "CreatedDate": _iso(t)} for s, t in history]})
    sf_leads = [{
        "Id": f"00Q5g0000Le{i:04d}", "FirstName": rng.choice(FIRST), "LastName": rng.choice(LAST),
        "Company": f"{rng.choice(COMPANIES)} Ltd", "Title": rng.choice(TITLES),
        "Status": rng.choice(SF_LEAD_STATUSES[:2] * 3 + SF_LEAD_STATUSES[2:]),
        "LeadSource": rng.choice(SOURCES),
        "CreatedDate": _iso(now - timedelta(days=rng.randint(1, 90)))} for i in range(leads)]
    contacts = [{
        "Id": f"0035g0000Co{i:04d}", "FirstName": rng.choice(FIRST), "LastName": rng.choice(LAST),
        "AccountId": rng.choice(accounts)["Id"], "Title": rng.choice(TITLES),
        "CreatedDate": _iso(now - timedelta(days=rng.randint(30, 400)))} for i in range(sf_contacts)]
    roles = [{"OpportunityId": rng.choice(opps)["Id"], "ContactId": c["Id"],
              "Role": rng.choice(["Decision Maker", "Economic Buyer", "Evaluator"]), "IsPrimary": True}
             for c in contacts[: sf_contacts * 2 // 3]]
    hs_deals = []
    for i in range(deals):
        start = now - timedelta(days=rng.randint(5, 200), hours=rng.randint(0, 23))
        history = _walk(rng, HS_DEAL_STAGES, start, now, "closedlost")
        hs_deals.append({"id": str(18462730000 + i), "properties": {
            "dealname": f"{rng.choice(COMPANIES)} {rng.choice(['renewal', 'new logo', 'upsell'])} {i}",
            "amount": str(rng.choice([3000, 9000, 24000, 60000, 150000, 300000])), "pipeline": "default",
            "dealstage": history[-1][0], "createdate": _iso(start),
            "hubspot_owner_id": rng.choice(HS_OWNERS)},
            "history": {"dealstage": [{"value": s, "timestamp": _iso(t)} for s, t in history]}})
    people = []
    for i in range(hs_contacts):
        start = now - timedelta(days=rng.randint(3, 300))
        history = _walk(rng, HS_LIFECYCLE, start, now, None)
        first = rng.choice(FIRST)
        company = rng.choice(COMPANIES)
        people.append({"id": str(151 + i), "properties": {
            "email": f"{first.lower()}.{i}@{company.lower().replace(' ', '')}.example",
            "company": company, "firstname": first, "jobtitle": rng.choice(TITLES), "lifecyclestage": history[-1][0],
            "createdate": _iso(start)},
            "history": {"lifecyclestage": [{"value": s, "timestamp": _iso(t)} for s, t in history]}})
    _link_across_crms(contacts, sf_leads, opps, people, hs_deals)
    return {"salesforce": {"org_id": "00D5g000004DeMoEAK", "users": _sf_users(), "accounts": accounts,
                           "opportunities": opps, "leads": sf_leads, "contacts": contacts,
                           "opportunity_contact_roles": roles},
            "hubspot": {"portal_id": 62515, "owners": _hs_owners(), "deals": hs_deals, "contacts": people}}
