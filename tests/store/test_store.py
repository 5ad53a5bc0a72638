"""The store on SQLite and PostgreSQL: migrations, secrets at rest, tenancy, outbox, leases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from integration.store import outbox
from integration.store.bulk import insert_rows, update_rows
from integration.store.connections import (NotFound, acquire_lease, connection_config,
                                           create_connection, delete_connection, get_connection,
                                           release_lease, store_tokens)
from integration.store.db import alembic_config, current_revision, upgrade
from integration.store.map_versions import current_map_version, list_map_versions, save_map_version
from integration.store.models import OutboxItem, RecordState
from integration.store.secrets import SecretBox
from integration.store.tenancy import (authenticate_user, create_user, get_or_create_tenant,
                                       issue_token, tenant_for_token)

SECRET = "00Dxx!AQ-very-secret-access-token"


@pytest.fixture()
def tenant(services):
    with services.session() as s:
        return get_or_create_tenant(s, f"t-{datetime.now().timestamp()}")


@pytest.fixture()
def conn(services, tenant):
    with services.session() as s:
        return create_connection(s, services.secret_box, tenant_id=tenant.id, name="sf", crm="salesforce",
                                 settings={"instance_url": "https://x.example"},
                                 secrets={"access_token": SECRET})


def test_migrations_create_every_table_and_rerun_is_a_no_op(services, db_url):
    tables = set(inspect(services.engine).get_table_names())
    assert {"tenant", "apitoken", "user", "connection", "mapversion", "recordstate",
            "journeyevent", "syncrun", "outboxitem", "webhookdelivery",
            "pendingrecord", "recordlink", "connectorcache"} <= tables
    before = current_revision(services.engine)
    upgrade(db_url)
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert current_revision(services.engine) == before == head


def test_each_database_session_is_set_up_for_the_service(services):
    """SQLite shares its file between web and worker through WAL; PostgreSQL compiles no query
    (JIT would add 150-270 ms to every sub-second analytics query) and plans random reads at
    SSD cost (at the default, one owner's analytics scanned every record's journey summary)."""
    with services.engine.connect() as c:
        if services.engine.dialect.name == "postgresql":
            assert c.execute(text("SHOW jit")).scalar() == "off"
            assert float(c.execute(text("SHOW random_page_cost")).scalar()) == 2
        else:
            assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_credentials_are_encrypted_at_rest(services, conn):
    with services.engine.connect() as c:
        raw = c.execute(text("SELECT secrets, settings FROM connection WHERE id = :i"),
                        {"i": conn.id}).one()
    assert SECRET not in str(raw.secrets) and SECRET not in str(raw.settings)
    with services.session() as s:
        stored = get_connection(s, conn.tenant_id, "sf")
        assert connection_config(services.secret_box, stored)["access_token"] == SECRET
    with pytest.raises(ValueError, match="JOURNEY_SECRET_KEY") as err:
        SecretBox(__import__("cryptography.fernet").fernet.Fernet.generate_key().decode()).open(stored.secrets)
    assert SECRET not in str(err.value)
    assert SECRET not in repr(services.secret_box)


def test_refreshed_tokens_are_merged_into_the_encrypted_secrets(services, conn):
    with services.session() as s:
        store_tokens(s, services.secret_box, conn.id, {"access_token": "new-token"})
    with services.session() as s:
        config = connection_config(services.secret_box, get_connection(s, conn.tenant_id, conn.id))
    assert config["access_token"] == "new-token"
    assert config["instance_url"] == "https://x.example"


def test_connections_are_scoped_to_their_tenant(services, conn):
    with services.session() as s:
        other = get_or_create_tenant(s, "someone-else")
        with pytest.raises(NotFound):
            get_connection(s, other.id, "sf")
        with pytest.raises(NotFound):
            get_connection(s, other.id, conn.id)
        assert get_connection(s, conn.tenant_id, str(conn.id)).name == "sf"


def test_tokens_are_stored_as_digests_and_resolve_to_their_tenant(services, tenant):
    with services.session() as s:
        token = issue_token(s, tenant.id)
    with services.engine.connect() as c:
        hashes = [r[0] for r in c.execute(text("SELECT token_hash FROM apitoken"))]
    assert token not in hashes
    with services.session() as s:
        assert tenant_for_token(s, token) == tenant.id
        assert tenant_for_token(s, token + "x") is None


def test_users_sign_in_with_their_password_only(services, tenant):
    with services.session() as s:
        create_user(s, tenant.id, f"Rev.Ops{tenant.id}@Example.com", "correct horse")
    with services.session() as s:
        # emails are matched case-insensitively
        assert authenticate_user(s, f"rev.ops{tenant.id}@example.com",
                                 "correct horse").tenant_id == tenant.id
        assert authenticate_user(s, f"rev.ops{tenant.id}@example.com", "wrong") is None


def test_map_versions_are_numbered_and_all_kept(services, conn):
    with services.session() as s:
        for n in range(3):
            save_map_version(s, conn.id, f"version: 1\nname: m{n}\n", author="ana", comment=f"c{n}")
    with services.session() as s:
        assert current_map_version(s, conn.id).version == 3
        assert [v.comment for v in list_map_versions(s, conn.id)] == ["c2", "c1", "c0"]


def test_a_new_plan_supersedes_every_open_item_of_the_record(services, conn):
    with services.session() as s:
        outbox.replace_plans(s, conn.id, {("opportunity", "A"): {"journey_stage": "Awareness"}})
        outbox.replace_plans(s, conn.id, {("opportunity", "A"): {"journey_stage": "Decision"}})
    with services.session() as s:
        items = outbox.claim_due(s, conn.id, 10)
        assert [(i.crm_id, i.values["journey_stage"], i.status) for i in items] == [
            ("A", "Decision", "sending")]
        # a process died mid-push; the next sync planned afresh, not knowing whether the update
        # landed: the new plan is asked of the CRM before it is sent
        outbox.replace_plans(s, conn.id, {("opportunity", "A"): {"journey_stage": "Purchase"}})
    with services.session() as s:
        assert [(i.status, i.values["journey_stage"]) for i in outbox.list_items(s, conn.id)
                if i.crm_id == "A"] == [("sending", "Purchase")]
        assert [i.crm_id for i in outbox.in_flight(s, conn.id)] == ["A"]
        outbox.replace_plans(s, conn.id, {("opportunity", "A"): None})
    with services.session() as s:
        assert [i for i in outbox.list_items(s, conn.id) if i.crm_id == "A"] == []


def test_outbox_failures_back_off_then_park_and_can_be_retried(services, conn):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with services.session() as s:
        outbox.replace_plans(s, conn.id, {("lead", "L"): {"persona": "x"}})
    with services.session() as s:
        item = [i for i in outbox.list_items(s, conn.id) if i.crm_id == "L"][0]
        statuses = [outbox.mark_failed(s, item, code="UNABLE_TO_LOCK_ROW", message="locked",
                                       max_attempts=3, backoff_seconds=10, now=now)
                    for _ in range(3)]
        assert statuses == ["pending", "pending", "parked"]
        assert item.last_error_code == "UNABLE_TO_LOCK_ROW"
    with services.session() as s:
        assert outbox.retry_parked(s, conn.id) == 1
        item = s.get(OutboxItem, item.id)
        assert (item.status, item.attempts) == ("pending", 0)
        # A record the CRM refuses as it is (Action.FAIL_RECORD) parks at once.
        assert outbox.mark_failed(s, item, code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="rule",
                                  max_attempts=3, backoff_seconds=10, now=now, final=True) == "parked"
        assert item.attempts == 1


def test_re_planning_a_failing_record_keeps_its_attempts_so_it_still_parks(services, conn):
    """A poll that re-plans the same record must not give it a fresh set of attempts."""
    now = datetime.now(timezone.utc)
    plan = {("lead", "R"): {"persona": "x"}}

    def item():
        return [i for i in outbox.list_items(s, conn.id) if i.crm_id == "R"][0]

    for attempt in range(1, 4):
        with services.session() as s:
            outbox.replace_plans(s, conn.id, plan)  # every poll plans the record again
        with services.session() as s:
            current = item()
            assert current.attempts == attempt - 1 and current.status == "pending"
            status = outbox.mark_failed(s, current, code="FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                        message="rejected", max_attempts=3, backoff_seconds=100,
                                        now=now)
            due = current.next_attempt_at
    assert status == "parked"
    with services.session() as s:
        outbox.replace_plans(s, conn.id, plan)
    with services.session() as s:
        parked = item()
        assert (parked.status, parked.attempts) == ("parked", 3)
        assert parked.last_error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        # A different plan for the record is a new write: pending, but its failures still count.
        outbox.replace_plans(s, conn.id, {("lead", "R"): {"persona": "y"}})
    with services.session() as s:
        replanned = item()
        assert (replanned.status, replanned.attempts) == ("pending", 3)
        assert replanned.next_attempt_at >= due


def test_backoff_grows_exponentially(services, conn):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with services.session() as s:
        outbox.replace_plans(s, conn.id, {("lead", "B"): {"persona": "x"}})
    with services.session() as s:
        item = [i for i in outbox.list_items(s, conn.id) if i.crm_id == "B"][0]
        delays = []
        for _ in range(3):
            outbox.mark_failed(s, item, code="E", message="m", max_attempts=9,
                               backoff_seconds=100, now=now)
            delays.append((item.next_attempt_at - now).total_seconds())
    assert 80 <= delays[0] <= 120 and 160 <= delays[1] <= 240 and 320 <= delays[2] <= 480


def test_only_one_owner_holds_a_lease_until_it_expires(services, conn):
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with services.session() as s:
        assert acquire_lease(s, conn.id, "w1", 60, now)
        assert not acquire_lease(s, conn.id, "w2", 60, now + timedelta(seconds=30))
        assert acquire_lease(s, conn.id, "w2", 60, now + timedelta(seconds=61))
        release_lease(s, conn.id, "w1")  # no longer w1's: must not free it
        assert not acquire_lease(s, conn.id, "w3", 60, now + timedelta(seconds=62))
        release_lease(s, conn.id, "w2")
        assert acquire_lease(s, conn.id, "w3", 60, now + timedelta(seconds=62))


def test_datetimes_come_back_aware_in_utc(services, conn):
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with services.session() as s:
        s.add(RecordState(connection_id=conn.id, object="deal", crm_id="1", stage="awareness",
                          record={}, state={}, entered_at=moment))
    with services.session() as s:
        row = s.exec(select(RecordState).where(RecordState.connection_id == conn.id,
                                               RecordState.crm_id == "1")).one()
        assert row.entered_at == moment and row.entered_at.tzinfo is not None
        assert row.entered_at.utcoffset() == timedelta(0)


def test_deleting_a_connection_removes_its_rows(services, tenant):
    with services.session() as s:
        c = create_connection(s, services.secret_box, tenant_id=tenant.id, name="gone", crm="hubspot",
                              settings={}, secrets={})
        outbox.replace_plans(s, c.id, {("deal", "9"): {"persona": "p"}})
        save_map_version(s, c.id, "x", author="a")
    with services.session() as s:
        delete_connection(s, get_connection(s, tenant.id, "gone"))
    with services.session() as s:
        assert outbox.list_items(s, c.id) == []
        assert current_map_version(s, c.id) is None


def test_bulk_inserted_rows_read_back_as_given_and_a_broken_unique_key_is_an_integrity_error(
        services, conn):
    # insert_rows COPYs on PostgreSQL: each value must still be bound as its column binds it
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    row = {"connection_id": conn.id, "object": "deal", "crm_id": "b1", "name": "Tab\there, a \\ too",
           "stage": "awareness", "stalled": True, "days_over": 3, "amount": 12.5, "entered_at": moment,
           "identity": None, "record": {"raw": {"Name": "Zoë — ü"}}, "state": {"stage": "awareness"},
           "crm_values": {}, "updated_at": moment}
    with services.session() as s:
        insert_rows(s, RecordState, [row, {**row, "crm_id": "b2", "identity": {"kind": "deal"},
                                           "name": None, "entered_at": None}])
    with services.session() as s:
        first, second = s.exec(select(RecordState).where(RecordState.connection_id == conn.id,
                                                         RecordState.crm_id.in_(["b1", "b2"]))
                               .order_by(RecordState.crm_id)).all()
        assert (first.name, first.stalled, first.days_over, first.amount, first.entered_at) == (
            "Tab\there, a \\ too", True, 3, 12.5, moment)
        assert first.record == {"raw": {"Name": "Zoë — ü"}} and first.identity is None
        assert (second.name, second.entered_at, second.identity) == (None, None, {"kind": "deal"})
        assert s.execute(text("SELECT count(*) FROM recordstate WHERE identity IS NULL "
                              "AND crm_id = 'b1'")).scalar() == 1  # SQL NULL, not JSON null
    with pytest.raises(IntegrityError), services.session() as s:
        insert_rows(s, RecordState, [{**row, "crm_id": "b3"}, row])
    with services.session() as s:  # nothing of the failed statement stays
        assert s.exec(select(RecordState).where(RecordState.connection_id == conn.id,
                                                RecordState.crm_id == "b3")).first() is None


def test_bulk_updated_rows_take_their_own_values_and_no_other_row_changes(services, conn):
    # update_rows is one UPDATE ... FROM unnest on PostgreSQL: every value bound as its column
    # binds it (packed documents, aware stamps, NULL), each row matched by its own id
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    row = {"connection_id": conn.id, "object": "deal", "name": "before", "stage": "awareness",
           "stalled": False, "days_over": 0, "amount": 1.0, "entered_at": moment, "identity": None,
           "record": {}, "state": {}, "crm_values": {"a": 1}, "updated_at": moment}
    with services.session() as s:
        insert_rows(s, RecordState, [{**row, "crm_id": f"u{n}"} for n in range(3)])
    with services.session() as s:
        ids = dict(s.execute(select(RecordState.crm_id, RecordState.id).where(
            RecordState.connection_id == conn.id, RecordState.crm_id.in_(["u0", "u1", "u2"]))).all())
        update_rows(s, RecordState, [
            {"id": ids["u0"], "crm_values": {"journey": "Zoë — ü"}, "entered_at": None},
            {"id": ids["u2"], "crm_values": {"b": [1, 2]}, "entered_at": moment + timedelta(days=1)}])
    with services.session() as s:
        stored = {r.crm_id: (r.crm_values, r.entered_at, r.name) for r in s.exec(select(RecordState).where(
            RecordState.connection_id == conn.id, RecordState.crm_id.in_(["u0", "u1", "u2"])))}
    assert stored == {"u0": ({"journey": "Zoë — ü"}, None, "before"),
                      "u1": ({"a": 1}, moment, "before"),
                      "u2": ({"b": [1, 2]}, moment + timedelta(days=1), "before")}
