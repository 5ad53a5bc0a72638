"""The people pass after a sync re-links only the records stored since the last pass, with the
people they leave or join, and ends where a pass over every record ends: a quiet pass reads
nothing, a changed e-mail moves a record between people, and a record naming one of the other
CRM not yet stored is linked when that one arrives. On SQLite and PostgreSQL; in file order."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select, update

from integration.store.connections import create_connection
from integration.store.models import PeopleSummary, RecordLink, RecordState
from integration.store.records import states_by_key
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.people import people_pass, refresh_people
from integration.sync.verdicts import Judged, judge, save_page
from mapping import CrmRecord, StageChange, default_map
from mapping.records import Identity, RecordRef

NOW = utcnow()
STAGES = {"salesforce": ("lead", "Working - Contacted"), "hubspot": ("contact", "lead")}


def _id(crm: str, n: int) -> str:
    return f"{crm[:2]}{n:04d}"


def _person(crm: str, n: int, email: str, same_as: tuple[RecordRef, ...] = (),
            modified=NOW) -> CrmRecord:
    obj, stage = STAGES[crm]
    created = NOW - timedelta(days=40 + n)
    return CrmRecord(crm=crm, object=obj, id=_id(crm, n), stage_value=stage,
                     created_at=created, modified_at=modified, name=f"Person {n}",
                     history=(StageChange(stage, created),),
                     identity=Identity("person", email, same_as))


@pytest.fixture(scope="module")
def world(services):
    with services.session() as s:
        tenant = get_or_create_tenant(s, "people-incremental").id
        ids = {crm: create_connection(s, services.secret_box, tenant_id=tenant, name=crm, crm=crm,
                                      settings={}, secrets={}).id for crm in STAGES}
    return {"tenant": tenant, "ids": ids}


def _store(services, world, records: list[CrmRecord], when) -> None:
    """What a sync at ``when`` does with the records it read."""
    jmap = default_map()
    for crm in STAGES:
        page = [r for r in records if r.crm == crm]
        with services.session() as s:
            held = states_by_key(s, world["ids"][crm], [(r.object, r.id) for r in page])
            save_page(s, world["ids"][crm], [Judged(r, judge(r, jmap, when, {}),
                                                    held.get((r.object, r.id)), {})
                                             for r in page], jmap, when, refresh_events=False,
                      run_id=None)


def _pass(services, world, *, full=False, when=NOW):
    with services.session() as s:
        return refresh_people(s, world["tenant"], world["ids"]["hubspot"], when, full=full)


def _links(services, world) -> dict[tuple, tuple]:
    with services.session() as s:
        rows = s.exec(select(RecordLink).where(RecordLink.tenant_id == world["tenant"])).all()
        return {(r.connection_id, r.object, r.crm_id): (r.group_key, r.email, r.person_values,
                                                       r.dangling) for r in rows}


def _group(links, world, crm, n):
    obj = STAGES[crm][0]
    return links[(world["ids"][crm], obj, _id(crm, n))][0]


def _same_as_full(services, world) -> dict:
    """The links after the incremental pass equal those a pass over every record makes."""
    incremental = _links(services, world)
    _pass(services, world, full=True)
    assert _links(services, world) == incremental
    return incremental


BOOK = [*(_person("salesforce", n, f"p{n}@shared.example") for n in range(6)),
        *(_person("hubspot", n, f"P{n}@Shared.example" if n < 3 else f"own{n}@hs.example")
          for n in range(6)),
        # names Salesforce lead 7, which is not stored yet: it falls back to its e-mail
        _person("hubspot", 7, "someone.else@hs.example", (RecordRef("salesforce", "lead", "sa0007"),))]


def test_a_first_pass_links_everything_and_a_quiet_one_reads_nothing(services, world):
    _store(services, world, BOOK, NOW)
    first = _pass(services, world)
    assert first.records == len(BOOK)
    links = _same_as_full(services, world)
    assert _group(links, world, "salesforce", 1) == _group(links, world, "hubspot", 1)
    assert _group(links, world, "salesforce", 4) != _group(links, world, "hubspot", 4)
    assert links[(world["ids"]["hubspot"], "contact", _id("hubspot", 7))][3] == ["salesforce:lead:sa0007"]
    quiet = _pass(services, world)
    assert (quiet.records, quiet.relinked, quiet.replanned) == (0, 0, 0)


def test_a_changed_email_moves_one_record_and_reads_only_the_people_involved(services, world):
    later = NOW + timedelta(minutes=5)
    # HubSpot contact 1 takes Salesforce lead 4's address: it leaves person 1, joins person 4
    _store(services, world, [_person("hubspot", 1, "p4@shared.example", modified=later)], later)
    moved = _pass(services, world, when=later)
    # the changed record, the person it left (one more record) and the one it joined (one)
    assert moved.records == 3
    links = _same_as_full(services, world)
    assert _group(links, world, "hubspot", 1) == _group(links, world, "salesforce", 4)
    assert _group(links, world, "salesforce", 1) != _group(links, world, "hubspot", 1)
    assert _pass(services, world).records == 0


def test_a_record_arriving_links_the_record_that_named_it_before(services, world):
    later = NOW + timedelta(minutes=10)
    _store(services, world, [_person("salesforce", 7, "lead7@sf.example", modified=later)], later)
    arrived = _pass(services, world, when=later)
    assert arrived.records == 2 and arrived.relinked >= 1
    links = _same_as_full(services, world)
    assert _group(links, world, "hubspot", 7) == _group(links, world, "salesforce", 7)
    assert links[(world["ids"]["hubspot"], "contact", _id("hubspot", 7))][3] is None


def _lead_stages(services, world) -> set[str]:
    with services.session() as s:
        return set(s.exec(select(PeopleSummary.lead_stage).where(PeopleSummary.tenant_id == world["tenant"])))


def test_a_full_pass_makes_the_people_summary_again_only_once_something_changed(services, world):
    """The hourly stall pass is a full pass: when no record was written and no link moved since
    the summary was made, its rows stand (rows altered by hand stay altered); a record written
    since has every row made again."""
    _pass(services, world, full=True)
    made = _lead_stages(services, world)
    assert made and "altered" not in made
    with services.session() as s:
        s.exec(update(PeopleSummary).where(PeopleSummary.tenant_id == world["tenant"])
               .values(lead_stage="altered"))
        s.commit()
    quiet = _pass(services, world, full=True)
    assert (quiet.links_written, quiet.summary_remade) == (0, False)
    assert _lead_stages(services, world) == {"altered"}
    with services.session() as s:  # what a sync storing a record does to it
        s.exec(update(RecordState).where(RecordState.connection_id == world["ids"]["salesforce"],
                                         RecordState.crm_id == _id("salesforce", 2))
               .values(updated_at=NOW + timedelta(minutes=15)))
        s.commit()
    remade = people_pass(services, world["ids"]["hubspot"], NOW, full=True)
    assert remade.summary_remade and _lead_stages(services, world) == made
    if services.engine.dialect.name == "postgresql":
        # vacuumed once made: the views' index-only scans skip the table (pages all-visible)
        with services.engine.connect() as conn:
            pages, visible = conn.execute(text(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'peoplesummary'")).one()
        assert pages > 0 and visible == pages
