"""End to end, for each CRM and on SQLite and PostgreSQL: the real connector and client library
against the sandbox, the real store, the sync engine. Tests build on each other in file order."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from integration.map_review import apply_map
from integration.store import outbox
from integration.store.models import Connection, RecordState
from integration.store.packed import unpack
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.map_in_force import connection_map
from integration.sync.reevaluate import reevaluate
from mapping import (classify, record_from_dict, default_map, desired_writeback, map_from_dict,
                     map_to_dict, map_to_yaml, plan_writeback)
from tests.support import statements_sent
from tests.sync.crms import truthy

MOVES = {"salesforce": ("opportunity", "Closed Won"), "hubspot": ("deal", "closedwon")}


def crm_disagreements(services, synced_world) -> list[str]:
    """Records whose CRM write-back values differ from what the map wants now (read fresh)."""
    with services.session() as s:
        jmap, _ = connection_map(s, synced_world.connection_id)
    with services.session() as s:
        connector = services.open_connector(s.get(Connection, synced_world.connection_id))
    now = utcnow()
    wrong = []
    for record in connector.pull(None):
        desired = desired_writeback(classify(record, jmap, now))
        if plan_writeback(desired, record.writeback, now):
            wrong.append(f"{record.object}/{record.id}")
    return wrong


def stored(services, synced_world, **where) -> list[RecordState]:
    with services.session() as s:
        q = select(RecordState).where(RecordState.connection_id == synced_world.connection_id)
        for k, v in where.items():
            q = q.where(getattr(RecordState, k) == v)
        return list(s.exec(q))


def test_first_sync_writes_the_journey_into_the_crm(services, synced_world):
    first = synced_world.first
    assert first.status == "succeeded", first.message
    assert first.read > 200 and first.changed > 200
    assert first.written == first.changed and first.failed == 0
    assert crm_disagreements(services, synced_world) == []
    # and the CRM's own client library sees the values
    for row in stored(services, synced_world)[:5]:
        if row.stage == "unmapped":
            continue
        seen = synced_world.crm.read(row.object, row.crm_id)
        assert seen["journey_stage"] == row.stage
        assert seen["persona"] == row.persona
        assert truthy(seen["stalled"]) == row.stalled


def test_stored_records_carry_their_filter_columns(services, synced_world):
    rows = stored(services, synced_world)
    for row in rows:
        record = record_from_dict(row.record)
        assert (row.crm, row.email, row.company, row.country, row.lead_source) == (
            synced_world.crm.crm, record.identity.email, record.fields.get("company"),
            record.fields.get("country"), record.fields.get("lead_source"))
    people = [r for r in rows if r.object in ("contact", "lead")]
    assert people and all(r.email for r in people)
    if synced_world.crm.crm == "salesforce":  # the demo's HubSpot book names no companies
        assert any(r.company for r in rows) and any(r.lead_source for r in rows)


def test_stored_documents_are_packed(services, synced_world):
    with services.engine.connect() as db:
        raw = dict(db.execute(text("SELECT crm_id, record FROM recordstate WHERE connection_id = :c"),
                              {"c": synced_world.connection_id}).all())
    for row in stored(services, synced_world):
        assert unpack(raw[row.crm_id]) == row.record
        assert len(raw[row.crm_id]) * 3 < len(json.dumps(row.record))


def test_second_sync_writes_nothing(services, synced_world):
    again = sync_connection(services, synced_world.connection_id)
    assert again.status == "succeeded"
    assert (again.changed, again.written, again.failed) == (0, 0, 0)


def writes_to(statement: str, tables: set[str]) -> bool:
    """Whether ``statement`` is an INSERT, UPDATE or DELETE of any of ``tables``."""
    words = statement.split()
    verb = words[0].upper()
    target = words[2] if verb in ("INSERT", "DELETE") else words[1]
    return verb in ("INSERT", "UPDATE", "DELETE") and target.strip('"') in tables


def test_a_full_re_sync_with_nothing_changed_writes_no_state_event_or_outbox_row(services, synced_world):
    with statements_sent(services.engine) as sent:
        again = sync_connection(services, synced_world.connection_id, full=True)
    assert again.status == "succeeded" and again.read == synced_world.first.read
    assert [s for s, _ in sent if writes_to(s, {"recordstate", "journeyevent", "outboxitem"})] == []


def test_stage_moved_in_the_crm_is_picked_up_by_polling(services, synced_world):
    object_, won = MOVES[synced_world.crm.crm]
    target = next(r for r in stored(services, synced_world, object=object_)
                  if r.stage in ("awareness", "consideration"))
    synced_world.crm.move(object_, target.crm_id, won)
    summary = sync_connection(services, synced_world.connection_id)
    assert summary.status == "succeeded"
    assert summary.written >= 1
    jmap = default_map()
    expected = jmap.lookup(synced_world.crm.crm, object_, won, target.pipeline)
    row = next(r for r in stored(services, synced_world, object=object_) if r.crm_id == target.crm_id)
    assert row.stage == expected and row.crm_stage == won
    assert synced_world.crm.read(object_, target.crm_id)["journey_stage"] == expected
    assert sync_connection(services, synced_world.connection_id).written == 0


def test_map_change_rewrites_exactly_the_affected_records(services, synced_world):
    # A label is the choice field's option label, not a record value: renaming it rewrites no
    # record. New expected days move the stall date of every record in that stage.
    data = map_to_dict(default_map())
    for stage in data["stages"]:
        if stage["key"] == "decision":
            stage["label"] = "Decision (evaluating)"
            stage["expected_days"] += 5
    changed = map_from_dict(data)
    with services.session() as s:
        apply_map(s, synced_world.connection_id, map_to_yaml(changed), author="test",
                  comment="rename decision")
    affected = len(stored(services, synced_world, stage="decision"))
    assert affected > 0
    summary = sync_connection(services, synced_world.connection_id)
    assert summary.written == affected, summary
    assert crm_disagreements(services, synced_world) == []
    assert sync_connection(services, synced_world.connection_id).written == 0


def test_injected_failures_still_converge(services, synced_world):
    object_, won = MOVES[synced_world.crm.crm]
    movers = [r for r in stored(services, synced_world, object=object_) if r.stage == "consideration"][:30]
    for row in movers:
        synced_world.crm.move(object_, row.crm_id, won)
    synced_world.crm.faults(error_share=0.2)
    try:
        for _ in range(8):
            summary = sync_connection(services, synced_world.connection_id)
            with services.session() as s:
                waiting = outbox.counts(s, synced_world.connection_id)
            if summary.status == "succeeded" and not waiting:
                break
    finally:
        synced_world.crm.faults(error_share=0.0)
    with services.session() as s:
        assert outbox.counts(s, synced_world.connection_id) == {}
    assert crm_disagreements(services, synced_world) == []


def test_time_alone_turns_records_stalled_without_reading_the_crm(services, synced_world):
    later = utcnow() + timedelta(days=120)
    before = {r.crm_id for r in stored(services, synced_world, stalled=True)}
    result = reevaluate(services, synced_world.connection_id, now=later)
    assert result.turned_stalled > 0 and result.queued >= result.turned_stalled
    with services.session() as s:
        connector = services.open_connector(s.get(Connection, synced_world.connection_id))
    calls_before = connector.usage.calls
    flushed = flush_outbox(services, synced_world.connection_id, connector)
    assert flushed.written == result.queued and flushed.failed == 0
    assert connector.usage.calls - calls_before <= -(-result.queued // connector.write_batch_size) + 2
    now_stalled = [r for r in stored(services, synced_world, stalled=True) if r.crm_id not in before]
    assert now_stalled
    assert truthy(synced_world.crm.read(now_stalled[0].object, now_stalled[0].crm_id)["stalled"])
    assert reevaluate(services, synced_world.connection_id, now=later).queued == 0
