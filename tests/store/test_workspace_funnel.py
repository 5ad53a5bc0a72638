"""The workspace funnel counted in SQL, on SQLite and PostgreSQL: a person stands for all of
their linked records, across connections, against the same figures worked out in Python from the
synthetic journeys (bench/analytics_seed.py) that were stored. The stage people are in now (and
how many there are) against :func:`mapping.people.lead_state` over the same records."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from unittest.mock import patch

import pytest
from sqlalchemy import and_, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import select

from bench.analytics_seed import journeys, seed
from integration.analytics import RecordFilter
from integration.people import (funnel_report, funnel_reports, linked_current_stages,
                                linked_funnel_counts, linked_people, summary_current_stages,
                                summary_funnel_counts)
from integration.store import people_summaries
from integration.store.models import Connection, PeopleSummary, RecordLink, RecordState
from integration.store.side_by_side import SideBySide
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map, map_from_dict, map_to_dict
from mapping.classify import JourneyState
from mapping.people import PERSON, lead_state
from tests.store.funnel_reference import count_into_funnels

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
COUNT = 300
JMAP = default_map()
KEYS = JMAP.stage_keys
CASES = {"all": RecordFilter(),
         "period": RecordFilter(since=NOW - timedelta(days=300), until=NOW - timedelta(days=20)),
         "since": RecordFilter(since=NOW - timedelta(days=200)),
         "until": RecordFilter(until=NOW - timedelta(days=100)),
         "country": RecordFilter(country="Germany"),
         "country+period": RecordFilter(country="Germany", since=NOW - timedelta(days=400)),
         "lead source+until": RecordFilter(lead_source="REFERRALS", until=NOW - timedelta(days=100)),
         "persona": RecordFilter(persona="small_buyer"),
         "owner": RecordFilter(owner="300007")}
#: The filters above and the synthetic journeys' values they compare with.
FILTERED = {"country": "country", "lead_source": "lead_source", "persona": "persona", "owner": "owner_id"}
#: Records (connection 0 or 1, journey number) the map does not place: some people have one such
#: record, a few (n % 7 == 1 and n + 1 % 7 == 2) have only such records.
UNMAPPED = {(0, n) for n in range(COUNT) if n % 7 == 1} | {(1, n) for n in range(COUNT) if n % 7 == 2}


def _map(order: str = "same", rule: str = "furthest"):
    """The seeded map, its stages in the ``same`` or ``reversed`` order, under a people ``rule``."""
    document = map_to_dict(JMAP)
    if order == "reversed":
        document["stages"] = document["stages"][::-1]
        # the new last stage has no next one to convert to
        (document["stages"][-1].get("targets") or {}).pop("conversion", None)
    document["people"] = {"stage": rule, "link_by_email": True}
    return map_from_dict(document)


#: People the summary's rows of some tests leave to the events.
UNCOVERED = [f"p{n}" for n in range(0, COUNT, 5)]
#: Workspace maps: the records were classified on JMAP, a workspace map may order stages otherwise.
MAPS = {"furthest": _map(), "latest": _map(rule="latest"), "reversed": _map("reversed")}


@pytest.fixture(scope="module")
def workspace(services):
    """(tenant id, [connection ids]): two connections holding the same COUNT journeys, person n
    linking record n of the first with record n+1 of the second (so each person's journey is
    two different records' stays)."""
    with services.session() as db:
        tenant = get_or_create_tenant(db, "workspace-funnel")
        conns = [Connection(tenant_id=tenant.id, name=f"c{i}", crm="hubspot", account_id=str(i))
                 for i in (1, 2)]
        db.add_all(conns)
        db.commit()
        ids, tenant_id = [c.id for c in conns], tenant.id
    for cid in ids:
        seed(services.engine, cid, JMAP, COUNT, NOW)
    records = list(journeys(JMAP, COUNT, NOW))
    links = []
    for n in range(COUNT):
        for cid, record in ((ids[0], records[n]), (ids[1], records[(n + 1) % COUNT])):
            links.append({"tenant_id": tenant_id, "connection_id": cid, "object": record.object,
                          "crm_id": record.crm_id, "kind": PERSON, "group_key": f"p{n}",
                          "updated_at": NOW})
    with services.engine.begin() as conn:
        conn.execute(insert(RecordLink.__table__), links)
        for index, n in UNMAPPED:
            conn.execute(update(RecordState).where(and_(
                RecordState.connection_id == ids[index], RecordState.crm_id == records[n].crm_id))
                .values(stage="unmapped"))
    return tenant_id, ids


def _matches(flt, journey) -> bool:
    return all(getattr(flt, name) in (None, getattr(journey, held)) for name, held in FILTERED.items())


def expected(flt):
    """The three counts per stage, from each person's two records' stays in the period."""
    records = list(journeys(JMAP, COUNT, NOW))
    reached, entered, strict = Counter(), Counter(), Counter()
    for n in range(COUNT):
        firsts = {}
        for j in (records[n], records[(n + 1) % COUNT]):
            if not _matches(flt, j):
                continue
            for stage, at, _ in j.stays:
                if stage in KEYS and (flt.since is None or at >= flt.since) and (
                        flt.until is None or at < flt.until):
                    firsts[stage] = min(at, firsts.get(stage, at))
        count_into_funnels(firsts, KEYS, reached, entered, strict)
    return [(reached[k], entered[k], strict[k]) for k in KEYS]


@pytest.mark.parametrize("case", CASES)
def test_each_person_counts_once_with_all_of_their_records(services, workspace, case):
    tenant_id, ids = workspace
    with services.session() as db:
        counts = linked_funnel_counts(db, tenant_id, PERSON, ids, KEYS, CASES[case])
        one_connection = linked_funnel_counts(db, tenant_id, PERSON, ids[:1], KEYS, CASES[case])
        deals = linked_funnel_counts(db, tenant_id, "deal", ids, KEYS, CASES[case])
    assert counts == expected(CASES[case])
    assert counts[0][0] > 0
    # people reach further with two records than with one, and nobody links deals here
    assert sum(r for r, _, _ in counts) > sum(r for r, _, _ in one_connection)
    assert deals == [(0, 0, 0)] * len(KEYS)


def test_another_tenant_sees_none_of_them(services, workspace):
    _, ids = workspace
    with services.session() as db:
        stranger = get_or_create_tenant(db, "workspace-funnel-stranger").id
        assert linked_funnel_counts(db, stranger, PERSON, ids, KEYS, RecordFilter()) == [(0, 0, 0)] * len(KEYS)


def _state(jmap, stage: str, entered: datetime, record) -> JourneyState:
    """The stored state of a record as the workspace map places its stage."""
    placed = stage in jmap.stage_keys or stage in jmap.exit_keys
    return JourneyState(crm="hubspot", object=record.object, id=record.crm_id, crm_stage=stage,
                        pipeline="default", stage=stage, stage_label=stage,
                        is_exit=jmap.is_exit(stage), stage_index=jmap.stage_index(stage),
                        entered_at=entered, entered_at_source=None, days_in_stage=0,
                        expected_days=None, stalled=False, days_over=0, persona="general",
                        persona_label="General", next_best_action=None, unmapped=not placed)


def expected_current(jmap, flt):
    """(people with a matching record, people now in each stage entered in the period), from
    :func:`lead_state` over each person's two records' last stays."""
    records = list(journeys(JMAP, COUNT, NOW))
    current = dict.fromkeys((*jmap.stage_keys, *sorted(jmap.exit_keys)), 0)
    total = 0
    for n in range(COUNT):
        states = []
        for index, m in ((0, n), (1, (n + 1) % COUNT)):
            record = records[m]
            if not _matches(flt, record):
                continue
            stage, entered, _ = record.stays[-1]
            states.append(_state(jmap, "unmapped" if (index, m) in UNMAPPED else stage, entered, record))
        if not states:
            continue
        total += 1
        lead = lead_state(states, jmap.people_rule)
        if lead is not None and (flt.since is None or lead.entered_at >= flt.since) and (
                flt.until is None or lead.entered_at < flt.until):
            current[lead.stage] += 1
    return total, current


@pytest.mark.parametrize("workspace_map", MAPS)
@pytest.mark.parametrize("case", CASES)
def test_people_now_in_each_stage_follow_their_lead_record(services, workspace, case, workspace_map):
    tenant_id, ids = workspace
    jmap, flt = MAPS[workspace_map], CASES[case]
    with services.session() as db:
        total, current = linked_current_stages(db, tenant_id, PERSON, ids, jmap, flt)
        alone = linked_current_stages(db, tenant_id, PERSON, ids[:1], jmap, flt)
        stranger = get_or_create_tenant(db, "workspace-funnel-stranger").id
        nobody = linked_current_stages(db, stranger, PERSON, ids, jmap, flt)
    assert (total, current) == expected_current(jmap, flt)
    # people stand in several stages (one owner's dozen people in two)
    assert len([n for n in current.values() if n]) > (1 if case == "owner" else 2)
    # with one connection's records alone, people stand where that record stands
    assert alone[1] != current
    assert nobody == (0, dict.fromkeys(current, 0))


def test_the_workspace_maps_order_decides_who_leads():
    """The cases above tell the maps apart: each gives other people's stages."""
    answers = [expected_current(jmap, RecordFilter())[1] for jmap in MAPS.values()]
    assert answers[0] != answers[1] and answers[0] != answers[2]
    assert expected_current(MAPS["furthest"], RecordFilter())[0] == COUNT


def test_linked_people_are_those_with_records_in_two_crms(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "workspace-linked-people")
        conns = [Connection(tenant_id=tenant.id, name=name, crm=crm, account_id=name)
                 for name, crm in (("sf", "salesforce"), ("hs1", "hubspot"), ("hs2", "hubspot"))]
        db.add_all(conns)
        db.commit()
        sf, hs1, hs2 = (c.id for c in conns)
        rows = [("b@x.example", sf, "b"), ("b@x.example", hs1, "b"), ("b@x.example", hs2, "b"),
                ("a@x.example", sf, "a"), ("a@x.example", hs2, "a"),
                ("c@x.example", hs1, "c"), ("c@x.example", hs2, "c"),  # one CRM only
                (None, sf, "d"), (None, hs1, "d"),  # no e-mail to show
                ("e@x.example", sf, "e")]
        db.execute(insert(RecordLink.__table__), [
            {"tenant_id": tenant.id, "connection_id": cid, "object": "contact", "crm_id": f"{group}{n}",
             "kind": PERSON, "email": email, "group_key": group, "updated_at": NOW}
            for n, (email, cid, group) in enumerate(rows)])
        assert linked_people(db, tenant.id) == [{"email": "a@x.example", "records": 2},
                                                {"email": "b@x.example", "records": 3}]
        assert linked_people(db, tenant.id, limit=1) == [{"email": "a@x.example", "records": 2}]
        assert linked_people(db, get_or_create_tenant(db, "workspace-funnel-stranger").id) == []


def _summary_rows(db, tenant_id):
    """The tenant's summary rows, (group key, the other columns) each."""
    columns = sorted(PeopleSummary.__table__.columns, key=lambda c: c.name != "group_key")
    return sorted(tuple(row) for row in db.execute(
        sa_select(*columns).where(PeopleSummary.tenant_id == tenant_id)))


@pytest.mark.parametrize("workspace_map", MAPS)
@pytest.mark.parametrize("case", CASES)
def test_the_people_summary_gives_the_figures_of_the_events(services, workspace, case, workspace_map):
    """One row per person (their records' entries merged, their lead record's stage) counts as
    the events and states do: the runs of the people it covers, the events of the others. One
    country's figures come from each person's row of their records in that country (a person's
    two records are often in two countries)."""
    tenant_id, ids = workspace
    jmap, flt = MAPS[workspace_map], CASES[case]
    with services.session() as db:
        people_summaries.rebuild(db, tenant_id, ids, jmap, "test")
        # every person here fits in a row: a fifth are read from their events as if they did not
        db.execute(update(PeopleSummary).where(PeopleSummary.tenant_id == tenant_id,
                                               PeopleSummary.group_key.in_(UNCOVERED))
                   .values(covered=False))
        counts = summary_funnel_counts(db, tenant_id, PERSON, ids, jmap.stage_keys, flt)
        live = linked_funnel_counts(db, tenant_id, PERSON, ids, jmap.stage_keys, flt)
        stages = summary_current_stages(db, tenant_id, PERSON, jmap, flt)
        covered = Counter(db.exec(select(PeopleSummary.covered).where(
            PeopleSummary.tenant_id == tenant_id, PeopleSummary.segment == "")))
        stranger = get_or_create_tenant(db, "workspace-funnel-stranger").id
        nobody = summary_current_stages(db, stranger, PERSON, jmap, flt)
    assert counts == live
    if workspace_map != "reversed":
        assert counts == expected(flt)
    assert stages == expected_current(jmap, flt)
    # both parts are at work: people the summary covers, and people read from their events
    assert (covered[True], covered[False]) == (COUNT - len(UNCOVERED), len(UNCOVERED))
    assert nobody == (0, dict.fromkeys(stages[1], 0))


def test_a_refresh_of_some_people_makes_the_rows_a_rebuild_makes(services, workspace):
    tenant_id, ids = workspace
    some = [f"p{n}" for n in range(0, COUNT, 4)]
    with services.session() as db:
        people_summaries.rebuild(db, tenant_id, ids, JMAP, "test")
        whole = _summary_rows(db, tenant_id)
        # the first record of each of those people moves to a stage of its own, entered now, and
        # to a country of its own (its old country's row goes, or loses that record)
        db.execute(update(RecordState).where(RecordState.connection_id == ids[0],
                                             RecordState.crm_id.in_(_first_records(db, ids[0], some)))
                   .values(stage="advocacy", entered_at=NOW, country="Atlantis"))
        people_summaries.refresh(db, tenant_id, ids, JMAP, some, "test")
        refreshed = _summary_rows(db, tenant_id)
        people_summaries.rebuild(db, tenant_id, ids, JMAP, "test")
        rebuilt = _summary_rows(db, tenant_id)
        db.rollback()
    assert refreshed == rebuilt != whole
    changed = {row[0] for row in set(refreshed) - set(whole)}
    assert changed and changed <= set(some)
    assert {row[0] for row in refreshed if "Atlantis" in row} == changed


def _first_records(db, connection_id, groups):
    return list(db.exec(select(RecordLink.crm_id).where(RecordLink.connection_id == connection_id,
                                                        RecordLink.group_key.in_(groups))))


def test_the_funnel_reads_the_summary_only_while_it_holds_what_the_events_say(services, workspace):
    """Made from today's data, the summary answers (rows altered by hand show through); once a
    record is written again it is not current, and the funnel reads the events."""
    tenant_id, ids = workspace
    with services.session() as db:
        live = funnel_report(db, tenant_id)
        people_summaries.rebuild(db, tenant_id, ids, JMAP,
                                 people_summaries.basis(db, ids, JMAP))
        db.commit()
    with services.session() as db:
        assert funnel_report(db, tenant_id) == live
        db.execute(update(PeopleSummary).where(PeopleSummary.tenant_id == tenant_id)
                   .values(lead_stage="advocacy"))
        altered = funnel_report(db, tenant_id)
        assert altered["exits"] == dict.fromkeys(altered["exits"], 0) != live["exits"]
        # one country's figures come from its rows too; those of one connection, or of a filter
        # on records the rows are not made by, never do
        germany = funnel_report(db, tenant_id, flt=RecordFilter(country="Germany"))
        assert germany["exits"] == dict.fromkeys(germany["exits"], 0) != \
            _live_report(db, tenant_id, RecordFilter(country="Germany"))["exits"]
        for flt in (RecordFilter(country="Germany", persona="general"), RecordFilter(crm="hubspot"),
                    RecordFilter(owner_name="owner 01")):
            assert funnel_report(db, tenant_id, flt=flt) == _live_report(db, tenant_id, flt)
        assert funnel_report(db, tenant_id, connection_id=ids[0]) == \
            _live_report(db, tenant_id, RecordFilter(), connection_id=ids[0])
        db.execute(update(RecordState).where(RecordState.connection_id == ids[1])
                   .values(updated_at=NOW + timedelta(days=1)))
        assert not people_summaries.is_current(db, tenant_id, ids, JMAP)
        assert funnel_report(db, tenant_id) == live
        db.rollback()


def _live_report(db, tenant_id, flt, **scope):
    with patch.object(people_summaries, "is_current", return_value=False):
        return funnel_report(db, tenant_id, flt=flt, **scope)


def _row_counts(db, tenant_id):
    """The tenant's summary rows by segment."""
    return dict(db.execute(sa_select(PeopleSummary.segment, func.count()).where(
        PeopleSummary.tenant_id == tenant_id).group_by(PeopleSummary.segment)).all())


def test_a_persons_row_merges_their_records_entries_in_time_order(services, workspace):
    tenant_id, ids = workspace
    records = list(journeys(JMAP, COUNT, NOW))
    with services.session() as db:
        people_summaries.rebuild(db, tenant_id, ids, JMAP, "test")
        rows = {row.group_key: row for row in db.exec(
            select(PeopleSummary).where(PeopleSummary.tenant_id == tenant_id, PeopleSummary.segment == ""))}
    for n in range(COUNT):
        entries = sorted((at, stage) for j in (records[n], records[(n + 1) % COUNT])
                         for stage, at, _ in j.stays if stage in KEYS)
        row = rows[f"p{n}"]
        times = [at for at, _ in entries]
        assert row.path == "".join(people_summaries.CODES[KEYS.index(stage)] for _, stage in entries)
        assert row.covered == (len(times) <= people_summaries.SLOTS and times == sorted(set(times)))
        assert [getattr(row, f"at{slot}") for slot in range(min(len(times), 16))] == times[:16]
        assert row.records == 2 and row.across_crms is False  # both connections are HubSpot


def test_a_map_with_more_stages_than_a_path_can_name_is_left_to_the_events(services, workspace):
    tenant_id, ids = workspace
    document = map_to_dict(JMAP)
    document["stages"] += [{"key": f"extra{n}", "label": f"Extra {n}"}
                           for n in range(len(people_summaries.CODES) - len(KEYS) + 1)]
    big = map_from_dict(document)
    with services.session() as db:
        people_summaries.rebuild(db, tenant_id, ids, JMAP, "test")
        made = _row_counts(db, tenant_id)
        people_summaries.rebuild(db, tenant_id, ids, big, "big")
        kept = _row_counts(db, tenant_id)
        db.rollback()
    assert not people_summaries.answers(big) and people_summaries.answers(JMAP)
    # untouched, and never read: the map is not the one they were made for
    assert made == kept and made[""] == COUNT
    assert people_summaries.build_key(ids, big) != people_summaries.build_key(ids, JMAP)


class CountedHelpers(SideBySide):
    """Side by side reads that count those a helper ran."""

    helped = 0

    def _helped(self, read):
        self.helped += 1
        return super()._helped(read)


@pytest.fixture()
def some_deals(services, workspace):
    """A third of the workspace's people made deals (committed: side by side reads use sessions
    of their own), people again afterwards."""
    tenant_id, ids = workspace
    deals = [f"p{n}" for n in range(0, COUNT, 3)]

    def make(kind):
        with services.session() as db:
            db.execute(update(RecordLink).where(RecordLink.tenant_id == tenant_id,
                                                RecordLink.group_key.in_(deals)).values(kind=kind))
            people_summaries.rebuild(db, tenant_id, ids, JMAP, people_summaries.basis(db, ids, JMAP))
    make("deal")
    yield deals
    make(PERSON)


@pytest.mark.parametrize("case", ["all", "country+period"])
def test_both_units_read_side_by_side_give_each_units_own_funnel(services, workspace, some_deals, case):
    tenant_id, _ = workspace
    with services.session() as db:
        # unfiltered the people summary answers, filtered the records' events and states: each
        # unit's counts and current stages, four reads
        one_by_one = {unit: funnel_report(db, tenant_id, unit, flt=CASES[case]) for unit in ("people", "deals")}
        reads = CountedHelpers(services.engine, helpers=2)
        together = funnel_reports(db, tenant_id, ("people", "deals"), flt=CASES[case], reads=reads)
        with pytest.raises(ValueError, match="unit must be one of"):
            funnel_reports(db, tenant_id, ("people", "households"))
    assert together == one_by_one
    assert together["people"]["total"] > 0 and together["deals"]["total"] > 0
    assert together["people"]["stages"][0]["reached"] > 0 and together["deals"]["stages"][0]["reached"] > 0
    # the two helpers take two reads at once, and another if one is free again by then
    assert reads.helped in (2, 3)
