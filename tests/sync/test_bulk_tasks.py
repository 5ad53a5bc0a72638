"""Bulk "create tasks for owners" from the records page, end to end per CRM: a signed-in manager
selects records (or takes the whole view), reads how many tasks it comes to, confirms, and the
worker creates them in the sandbox, read back through the CRM's own client library: one per
record and stall, linked to the record and owned by its owner; never a second one.

The map has no ``tasks:`` section, so no task exists before the manager asks."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlmodel import select

from integration.app import create_app
from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.models import CrmTask, RecordState
from integration.store.tenancy import create_user, get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.ui import records_tasks
from integration.worker import Worker
from mapping import default_map_text
from mapping.tasks import REQUESTED_SUBJECT
from tests.sync.crms import small_book, start_crm
from tests.sync.test_tasks import crm_tasks

PASSWORD = "a manager's password"


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def world(request, services):
    crm = start_crm(request.param, small_book(utcnow()))
    email = f"manager-{request.param}@acme.example"
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"bulk-{request.param}")
        create_user(s, tenant.id, email, PASSWORD)
        conn = connect(s, services, tenant_id=tenant.id, name=f"bulk-{request.param}",
                       crm=request.param, values=crm.settings())
        apply_map(s, conn.id, default_map_text(), author="test", comment="tasks off")
        connection_id = conn.id
    provision(services, connection_id)
    assert sync_connection(services, connection_id).status == "succeeded"
    assert crm_tasks(crm) == []
    client = create_app(services.settings, services).test_client()
    html = client.get("/sign-in").get_data(as_text=True)
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD,
                                         "csrf_token": csrf_of(html)}).status_code == 302
    yield crm, connection_id, client
    crm.stop()


def rows(services, connection_id, **where):
    with services.session() as s:
        query = select(RecordState).where(RecordState.connection_id == connection_id)
        for name, value in where.items():
            query = query.where(getattr(RecordState, name) == value)
        return {r.id: r for r in s.exec(query)}


def post_tasks(client, connection_id, view, **form):
    base = f"/connections/{connection_id}/records"
    csrf = csrf_of(client.get(base, query_string=view).get_data(as_text=True))
    return client.post(f"{base}/tasks", query_string=view, data={"csrf_token": csrf, **form})


def work(services):
    """One worker tick: it creates the tasks asked for."""
    Worker(services).tick()


def test_selected_records_get_one_task_each_after_a_confirmation(services, world):
    crm, connection_id, client = world
    stalled = rows(services, connection_id, stalled=True)
    page = client.get(f"/connections/{connection_id}/records", query_string={"stalled": "1"})
    picked = re.findall(r'name="record" value="(\d+)"', page.get_data(as_text=True))[:3]
    assert len(picked) == 3 and all(int(i) in stalled for i in picked)

    asked = post_tasks(client, connection_id, {"stalled": "1"}, scope="selected", record=picked)
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "This creates <strong>3 task(s)</strong>" in text
    with services.session() as s:  # nothing queued before the confirmation
        assert not list(s.exec(select(CrmTask).where(CrmTask.connection_id == connection_id)))

    done = post_tasks(client, connection_id, {"stalled": "1"}, scope="selected", record=picked,
                      confirm="1")
    assert done.status_code == 303 and "stalled=1" in done.headers["Location"]
    work(services)
    tasks = crm_tasks(crm)
    picked_rows = [stalled[int(i)] for i in picked]
    assert Counter(t["record"] for t in tasks) == Counter(r.crm_id for r in picked_rows)
    for task, row in ((next(t for t in tasks if t["record"] == r.crm_id), r) for r in picked_rows):
        assert task["open"] and row.state["stage_label"] in task["subject"]
        if row.owner_id and (crm.crm == "hubspot" or row.owner_id.startswith("005")):
            assert task["owner"] == row.owner_id

    again = post_tasks(client, connection_id, {"stalled": "1"}, scope="selected", record=picked)
    text = again.get_data(as_text=True)
    assert "no task" in text and "3 record(s) already have their task" in text
    assert 'id="confirm-tasks"' not in text


def test_the_whole_view_gets_its_tasks_and_still_one_per_record(services, world):
    crm, connection_id, client = world
    stalled = rows(services, connection_id, stalled=True)
    before = len(crm_tasks(crm))
    asked = post_tasks(client, connection_id, {"stalled": "1"}, scope="all")
    assert f"This creates <strong>{len(stalled) - before} task(s)</strong>" in asked.get_data(as_text=True)
    done = post_tasks(client, connection_id, {"stalled": "1"}, scope="all", confirm="1")
    assert done.status_code == 303
    flashed = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{len(stalled) - before} task(s) queued" in flashed
    work(services)
    tasks = crm_tasks(crm)
    assert Counter(t["record"] for t in tasks) == Counter(r.crm_id for r in stalled.values())
    assert max(Counter(t["key"] for t in tasks).values()) == 1


def test_a_record_not_stalled_gets_a_task_for_its_stage_entry(services, world):
    crm, connection_id, client = world
    calm = [r for r in rows(services, connection_id, stalled=False).values()
            if not r.state.get("is_exit") and r.stage != "unmapped" and r.entered_at]
    row = calm[0]
    done = post_tasks(client, connection_id, {}, scope="selected", record=[str(row.id)], confirm="1")
    assert done.status_code == 303
    work(services)
    task = next(t for t in crm_tasks(crm) if t["record"] == row.crm_id)
    assert task["subject"] == REQUESTED_SUBJECT.format(
        record=row.name, action=row.state["next_best_action"] or "Review the record",
        stage=row.state["stage_label"])[:255]


def test_over_the_limit_nothing_is_queued_and_the_message_says_why(services, world, monkeypatch):
    crm, connection_id, client = world
    monkeypatch.setattr(records_tasks, "REQUEST_LIMIT", 2)
    with services.session() as s:
        queued = len(list(s.exec(select(CrmTask).where(CrmTask.connection_id == connection_id))))
    res = post_tasks(client, connection_id, {}, scope="all", confirm="1")
    assert res.status_code == 303
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "at most 2 records at once" in page
    with services.session() as s:
        assert len(list(s.exec(select(CrmTask).where(CrmTask.connection_id == connection_id)))) == queued


def test_the_form_needs_its_csrf_token_and_a_scope(services, world):
    crm, connection_id, client = world
    base = f"/connections/{connection_id}/records/tasks"
    assert client.post(base, data={"scope": "all", "confirm": "1"}).status_code == 400
    assert post_tasks(client, connection_id, {}, scope="everything").status_code == 400
    assert post_tasks(client, connection_id, {}, scope="selected", record=["1; drop"]).status_code == 400
    empty = post_tasks(client, connection_id, {}, scope="selected")
    assert empty.status_code == 303
    assert "Select the records" in client.get(empty.headers["Location"]).get_data(as_text=True)
