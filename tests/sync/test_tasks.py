"""Tasks for stalled records, per CRM, read back through the CRM's own client library
(simple-salesforce, hubspot-api-client): one task per stalled record, linked to it and owned by
its owner; none again on the next sync; and none twice when a process died between creating the
tasks in the CRM and recording that it had."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce
from sqlmodel import select

from connectors.base import TaskSpec
from integration.connecting import connect, provision
from integration.demo.run import demo_map_text
from integration.store.models import Connection, CrmTask, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.reevaluate import reevaluate
from integration.sync.tasks import plan_tasks, run_tasks
from integration.sync.map_in_force import connection_map
from tests.sync.crms import small_book, start_crm


def crm_tasks(crm) -> list[dict]:
    """Every task in the CRM: its key, the record it links, its owner and subject."""
    if crm.crm == "salesforce":
        session = requests.Session()
        session.verify, session.trust_env = crm.info["ca_file"], False
        sf = Salesforce(instance_url=crm.info["instance_url"], session_id=crm.info["access_token"],
                        session=session, version="59.0")
        rows = sf.query_all("SELECT Id, Subject, OwnerId, WhatId, WhoId, Status, "
                            "Journey_Task_Key__c FROM Task")["records"]
        return [{"key": r["Journey_Task_Key__c"], "record": r["WhatId"] or r["WhoId"],
                 "owner": r["OwnerId"], "subject": r["Subject"], "open": r["Status"] != "Completed"}
                for r in rows]
    client = HubSpot(access_token=crm.info["access_token"], host=crm.info["base_url"])
    out, after = [], None
    while True:
        page = client.crm.objects.tasks.basic_api.get_page(
            limit=100, after=after, associations=["deals", "contacts"],
            properties=["journey_task_key", "hs_task_subject", "hubspot_owner_id", "hs_task_status"])
        for task in page.results:
            linked = [a.id for kind in ("deals", "contacts")
                      for a in ((task.associations or {}).get(kind).results
                                if (task.associations or {}).get(kind) else [])]
            out.append({"key": task.properties["journey_task_key"], "record": linked[0] if linked else None,
                        "owner": task.properties.get("hubspot_owner_id"),
                        "subject": task.properties["hs_task_subject"],
                        "open": task.properties["hs_task_status"] != "COMPLETED"})
        if not page.paging or not page.paging.next:
            return out
        after = page.paging.next.after


def stalled(services, connection_id) -> list[RecordState]:
    with services.session() as s:
        return list(s.exec(select(RecordState).where(RecordState.connection_id == connection_id,
                                                     RecordState.stalled.is_(True))))


#: The demo map: its ``tasks:`` section is on (see ``tests.fixtures_sync``).
SYNC_MAP = demo_map_text


def test_every_stalled_record_gets_one_open_task_for_its_owner(services, synced_world):
    crm, connection_id = synced_world.crm, synced_world.connection_id
    records = stalled(services, connection_id)
    assert records, "the demo book has stalled records"
    tasks = crm_tasks(crm)
    assert Counter(t["record"] for t in tasks) == Counter(r.crm_id for r in records)
    assert all(t["open"] for t in tasks)
    by_record = {t["record"]: t for t in tasks}
    for row in records:
        task = by_record[row.crm_id]
        if row.owner_id and (crm.crm == "hubspot" or row.owner_id.startswith("005")):
            assert task["owner"] == row.owner_id
        assert row.state["stage_label"] in task["subject"]
        assert (row.state["next_best_action"] or "Review the record") in task["subject"]
    with services.session() as s:
        statuses = Counter(t.status for t in s.exec(select(CrmTask).where(
            CrmTask.connection_id == connection_id)))
    assert statuses == {"created": len(records)}


def test_the_next_sync_creates_none_again(services, synced_world):
    crm, connection_id = synced_world.crm, synced_world.connection_id
    before = len(crm_tasks(crm))
    again = sync_connection(services, connection_id)
    assert again.status == "succeeded"
    assert len(crm_tasks(crm)) == before
    assert not any("task" in route for route in again.calls_by_route)


def test_a_task_created_before_a_crash_is_found_not_sent_again(services, synced_world):
    crm, connection_id = synced_world.crm, synced_world.connection_id
    later = utcnow() + timedelta(days=60)
    assert reevaluate(services, connection_id, now=later).turned_stalled > 0
    with services.session() as s:
        jmap, _ = connection_map(s, connection_id)
        connector = services.open_connector(s.get(Connection, connection_id))
    assert plan_tasks(services, connection_id, jmap, later) > 1
    created_before = len(crm_tasks(crm))
    # A process marked the new tasks "sending", created half of them in the CRM, and died.
    with services.session() as s:
        pending = list(s.exec(select(CrmTask).where(CrmTask.connection_id == connection_id,
                                                    CrmTask.status == "pending")))
        for task in pending:
            task.status = "sending"
            s.add(task)
        specs = [TaskSpec(t.object, t.crm_id, t.key, t.subject, t.body, t.due_at, t.owner_id)
                 for t in pending[: len(pending) // 2]]
    assert all(r.ok for r in connector.create_tasks(specs))
    # Just now, its calls might still be landing: a flush leaves its tasks alone...
    early = run_tasks(services, connection_id, connector, later)
    assert (early.recovered, early.created, early.failed) == (0, 0, 0)
    assert len(crm_tasks(crm)) == created_before + len(specs)
    # ...until no call of the dead process can land any more.
    with services.session() as s:
        for task in s.exec(select(CrmTask).where(CrmTask.id.in_([t.id for t in pending]))):
            task.updated_at -= timedelta(seconds=services.settings.in_flight_seconds)
            s.add(task)
    flushed = run_tasks(services, connection_id, connector, later)
    assert (flushed.recovered, flushed.created, flushed.failed) == (len(specs), len(pending) - len(specs), 0)
    tasks = crm_tasks(crm)
    keys = Counter(t["key"] for t in tasks)
    assert max(keys.values()) == 1
    assert Counter(t["record"] for t in tasks) == Counter(r.crm_id for r in stalled(services, connection_id))


def test_tasks_stay_off_without_a_tasks_section(services):
    crm = start_crm("hubspot", small_book(utcnow()))
    try:
        with services.session() as s:
            tenant = get_or_create_tenant(s, "tasks-off")
            conn = connect(s, services, tenant_id=tenant.id, name="tasks-off", crm="hubspot",
                           values=crm.settings())
            connection_id = conn.id
        provision(services, connection_id)
        assert sync_connection(services, connection_id).status == "succeeded"
        assert stalled(services, connection_id) and crm_tasks(crm) == []
    finally:
        crm.stop()
