"""The service's tables. Every row that belongs to a customer carries its tenant or connection id.

Schema changes go through alembic (``integration/store/migrations``); these models are the source
the migrations are written from.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, Text, UniqueConstraint, and_, text
from sqlmodel import Field, SQLModel

from integration.store.packed import PackedJSON
from integration.store.types import UTCDateTime, utcnow



class Tenant(SQLModel, table=True):
    """A customer installation: owns connections, tokens and users."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: What the people summaries were last made from (``integration/store/people_summaries.py``):
    #: the connections' data stamps, and the connections and map parts they were built under.
    people_summary_basis: Optional[str] = None
    people_summary_build: Optional[str] = None


class ApiToken(SQLModel, table=True):
    """An admin API token; only its SHA-256 digest is kept."""

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str
    token_hash: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    """A person who signs in to the web pages with a password."""

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    email: str = Field(unique=True, index=True)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in web session; the cookie holds its random id, the table only the id's digest."""

    id: Optional[int] = Field(default=None, primary_key=True)
    id_hash: str = Field(unique=True, index=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    user_email: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Connection(SQLModel, table=True):
    """One connected CRM account (an org, a portal: whatever the CRM calls an account) of a tenant."""

    __table_args__ = (UniqueConstraint("tenant_id", "name"),
                      UniqueConstraint("tenant_id", "crm", "account_id",
                                       name="uq_connection_tenant_account"))

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str
    crm: str
    #: ``active``; ``paused`` by an admin; ``needs_reconnect`` when the CRM refused the credentials
    #: and refreshing could not fix it. Only active connections are synced.
    state: str = Field(default="active", sa_column_kwargs={"server_default": "active"})
    #: Why the connection is not active, in words an admin can act on.
    state_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    #: Failed syncs in a row; the next try waits until ``retry_at`` (exponential backoff).
    failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    retry_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrets: str = Field(default="", sa_column=Column(Text, nullable=False))
    account_id: Optional[str] = Field(default=None, index=True)
    watermark: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    #: The connector's own position after the last complete pull (see ``connectors.base.Pulled``).
    pull_cursor: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    sync_interval_seconds: int = 300
    map_version_synced: Optional[int] = None
    last_sync_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    last_stall_pass_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    lease_owner: Optional[str] = None
    lease_expires_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MapVersion(SQLModel, table=True):
    """One saved version of a journey map: the map's changelog.

    A workspace map (``tenant_id`` set, ``connection_id`` empty) serves every connection of the
    tenant; a connection's own map (``connection_id`` set) overrides it for that connection.
    """

    __table_args__ = (UniqueConstraint("connection_id", "version"),
                      UniqueConstraint("tenant_id", "version"))

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: Optional[int] = Field(default=None, foreign_key="connection.id", index=True)
    tenant_id: Optional[int] = Field(default=None, foreign_key="tenant.id", index=True)
    version: int
    document: str = Field(sa_column=Column(Text, nullable=False))
    author: str
    comment: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MapReview(SQLModel, table=True):
    """RevOps marked a map reviewed without changing it (applying a version is a review too).

    Like :class:`MapVersion`, it names a connection's own map or, with ``connection_id`` empty,
    the tenant's workspace map; ``tenant_id`` is always set so reviews are scoped to the tenant.
    """

    __table_args__ = (Index("ix_mapreview_scope", "tenant_id", "connection_id", "reviewed_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    connection_id: Optional[int] = Field(default=None, foreign_key="connection.id")
    version: Optional[int] = None
    reviewed_by: str
    reviewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


#: What the analytics read of a filter's records besides the filter: the record (to join its
#: events, summary and link), where it stands (a person's lead record), and whether it is stalled
#: and whose it is (the stalled counts). The filter indexes hold it, so a filtered view reads its
#: records from the index alone (migrations 0027 and 0029).
FILTERED_READS = ("object", "crm_id", "crm", "stage", "entered_at", "stalled", "owner_id")


def _reads_besides(column: str) -> tuple[str, ...]:
    """:data:`FILTERED_READS` for the index of ``column``, which holds it already."""
    return tuple(read for read in FILTERED_READS if read != column)


#: The filters whose index is a sort column's.
SORTED_FILTERS = ("persona", "owner_id")
#: Columns a sort index holds after its key so that a page's period and stalled filters are
#: tested on the index, not on each row read: records entered long ago are the most days over, so
#: a recent period's records come last in days-over order (at 1,000,000 records the first page
#: of the last 90 days' stalled records read 42,000 rows to keep 101: 30,394 pages, 2.1 s from
#: disk; now 375 pages of index; migration 0032). Other sort columns do not follow the entry date.
SORT_FILTER_COLUMNS = {"days_over": ("entered_at", "stalled")}


class RecordState(SQLModel, table=True):
    """A CRM record's latest snapshot, its journey state, and the write-back values the CRM holds."""

    __table_args__ = (
        # also the index of a lookup by connection alone (no index on connection_id by itself)
        UniqueConstraint("connection_id", "object", "crm_id"),
        # filters; e-mail and company are only searched (integration/store/search.py: trigram
        # and word-head indexes on PostgreSQL, FTS5 tables on SQLite)
        Index("ix_recordstate_conn_country", "connection_id", "country", *FILTERED_READS),
        Index("ix_recordstate_conn_lead_source", "connection_id", "lead_source", *FILTERED_READS),
        # the filter bar's choices are read from these indexes by a loose scan (one probe a value)
        Index("ix_recordstate_conn_crm", "connection_id", "crm", *_reads_besides("crm")),
        Index("ix_recordstate_conn_pipeline", "connection_id", "pipeline", *FILTERED_READS),
        # One per sort column of the record list: a page is read by seeking in one of them
        # (integration/record_pages.py); (connection_id, stage, id) also serves stage filters,
        # and the persona and owner ones their filters, from the index alone
        *(Index(f"ix_recordstate_sort_{column}", "connection_id", column, "id",
                *(_reads_besides(column) if column in SORTED_FILTERS else SORT_FILTER_COLUMNS.get(column, ())))
          for column in ("name", "stage", "persona", "owner_id", "entered_at", "days_over",
                         "amount", "next_best_action")),
        # the latest write of a connection's states (analytics_cache.data_stamp), and the stalled
        # counts by stage and owner read from the index alone
        Index("ix_recordstate_conn_updated", "connection_id", "updated_at"),
        Index("ix_recordstate_conn_stalled", "connection_id", "stalled", "stage", "owner_id"),
        # the dashboard's stalled table: the stalled records of a period in days-over order; and
        # a period's stalled counts by stage and owner, read from the index alone (migration 0029)
        Index("ix_recordstate_conn_stalled_entered", "connection_id", "stalled", "entered_at", "days_over",
              "stage", "owner_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    object: str
    crm_id: str
    name: Optional[str] = None
    crm_stage: Optional[str] = None
    pipeline: Optional[str] = None
    stage: str
    persona: Optional[str] = None
    owner_id: Optional[str] = None
    amount: Optional[float] = None
    # Filter and search columns, copied from the record so lists and analytics read no JSON.
    crm: Optional[str] = None
    email: Optional[str] = None
    company: Optional[str] = None
    country: Optional[str] = None
    lead_source: Optional[str] = None
    #: The object whose stage the record follows, when not its own (``CrmRecord.stage_object``).
    stage_object: Optional[str] = None
    #: Who or what the record stands for (``CrmRecord.identity`` as JSON): what the people pass links.
    identity: Optional[dict] = Field(default=None,
                                     sa_column=Column(JSON(none_as_null=True), nullable=True))
    stalled: bool = False
    days_over: int = 0
    entered_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    #: The state's next best action, as a column so that lists sort by it.
    next_best_action: Optional[str] = Field(default=None, sa_column=Column(Text))
    # The record's snapshot, its journey state and the CRM's write-back values, stored packed
    # (about a sixth of their JSON): nothing queries inside them; columns above serve queries.
    record: dict = Field(sa_column=Column(PackedJSON, nullable=False))
    state: dict = Field(sa_column=Column(PackedJSON, nullable=False))
    crm_values: dict = Field(default_factory=dict, sa_column=Column(PackedJSON, nullable=False))
    modified_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecordLink(SQLModel, table=True):
    """A record's place among the workspace's people and deals (see ``mapping.people``).

    ``group_key`` is shared by every record linked into one person or deal; ``person_values`` are
    the write-back values the person gives this record, None while it stands alone (its own values
    apply) and for deals (a deal keeps its own stage).
    """

    __table_args__ = (
        UniqueConstraint("connection_id", "object", "crm_id"),
        Index("ix_recordlink_tenant_group", "tenant_id", "group_key"),
        Index("ix_recordlink_tenant_email", "tenant_id", "email"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    connection_id: int = Field(foreign_key="connection.id")
    object: str
    crm_id: str
    kind: str
    email: Optional[str] = None
    group_key: str
    # SQL NULL (not JSON null) while the record stands alone, so "linked" is an indexable test.
    person_values: Optional[dict] = Field(default=None,
                                          sa_column=Column(JSON(none_as_null=True), nullable=True))
    #: The records this one names as the same (``crm:object:id``) that were not stored when it
    #: was linked, so the pass that stores one of them finds this record; NULL when none.
    dangling: Optional[list] = Field(default=None,
                                     sa_column=Column(JSON(none_as_null=True), nullable=True))
    #: The ``updated_at`` of the stored record this link was made from: a record stored since
    #: (a newer stamp) is re-linked by the next pass.
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JourneyEvent(SQLModel, table=True):
    """A record's move into a journey stage: the source of funnel and time-in-stage analytics.

    ``exited_at`` is when the record moved on: the next event's ``occurred_at``, None for the
    last (:mod:`mapping.timeline`). The journey summary's stays rely on it. ``next_stage`` is the
    stage it moved on to (the next event's ``to_stage``), so a stay's move is read with the stay.
    Both are written with the record's journey (:func:`integration.store.records.replace_events`)."""

    __table_args__ = (
        # a record's events, and its stays with their moves from the index alone (0028)
        Index("ix_journeyevent_record", "connection_id", "object", "crm_id", "seq", "to_stage",
              "occurred_at", "exited_at", "next_stage"),
        # the newest event of a connection, read by analytics_cache.data_stamp
        Index("ix_journeyevent_conn_id", "connection_id", "id"),
        # analytics over a period read only its stage entries
        Index("ix_journeyevent_conn_occurred", "connection_id", "occurred_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    object: str
    crm_id: str
    seq: int
    from_stage: Optional[str] = None
    to_stage: str
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    exited_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    next_stage: Optional[str] = None
    crm_stages: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class JourneyRollup(SQLModel, table=True):
    """Stage stays counted by what the period analytics group them by, kept up to date with the
    journey events (``integration/store/rollups.py``, in the transaction that writes them).

    ``kind`` says what a row counts (see that module): moves by the stage entered next
    (``next_stage``, ``""`` while the record is still in the stage), stays that ended by the
    calendar ``days`` they lasted (per ``day`` they began, or per month: ``day`` is then its
    first day), stays still open (their days counted at read time from ``day``). ``n`` stays.
    Rows whose count fell to 0 are removed after each write.

    Each stay is counted for the whole connection (``segment`` and ``value`` ``""``) and again
    under each segment its record has a value of (``segment`` ``"country"``, ``value`` ``"DE"``;
    ``integration.store.rollups.SEGMENTS``): a view filtered by one of them reads its rows only.
    """

    __table_args__ = (
        # PostgreSQL: the key's index holds the count too, so a view reads the index alone (a
        # country's year of time in stage: 28,598 -> 431 pages)
        PrimaryKeyConstraint("connection_id", "segment", "value", "kind", "day", "object", "stage",
                             "next_stage", "days", postgresql_include=["n"]),
        Index("ix_journeyrollup_empty", "connection_id",
              postgresql_where=text("n = 0"), sqlite_where=text("n = 0")),
        # SQLite: the rows live in the primary key's b-tree, not in a table beside a copy of
        # their key (a rollup half the size, rebuilt in 3/4 of the time)
        {"sqlite_with_rowid": False})

    connection_id: int = Field(foreign_key="connection.id", primary_key=True)
    segment: str = Field(primary_key=True)
    value: str = Field(primary_key=True)
    kind: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    object: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    next_stage: str = Field(primary_key=True)
    days: int = Field(primary_key=True)
    n: int


class JourneySummary(SQLModel, table=True):
    """One record's journey in one row, kept with its journey events
    (``integration/store/summaries.py``, in the transaction that writes them): what the funnel,
    cohorts and common paths need of it without grouping its events.

    ``path`` is every stage it entered, in order, joined with ``>`` (stage keys, not positions:
    the map may change); ``at0``... the times it entered its first :data:`SLOTS` stages. A record is
    ``covered`` when those times are all of its entries and strictly increase: the entries of
    any period are then one run of its path, found from the times; an uncovered record (more
    entries, or two at the same moment, or out of order) is read from its events.
    """

    __table_args__ = (
        # the all-time runs and the cohorts group the records by path (and month) in this
        # index's order, reading nothing else (SQLite would sort a million rows otherwise)
        Index("ix_journeysummary_paths", "connection_id", "path", "first_month", "covered",
              "first_stage", "first_at"),
        # SQLite: a period's runs read the records whose journey reaches into it from this index
        # alone, grouped per path in its order (migration 0034), not one look-up of a row each.
        # Not on PostgreSQL (migration 0033), whose parallel sequential scan of the table costs
        # the same for any period, from disk too, where the index's pages, scattered as records
        # come and go, are read one at a time (at 1,000,000 records, cold: 90 days 0.58-0.61 ->
        # 0.33-0.36 s, 180 days 1.16 s by the index; warm 130-160 -> 185-240 ms for 90 days)
        Index("ix_journeysummary_period", "connection_id", "path", "covered", "last_at", "first_at",
              *(f"at{slot}" for slot in range(12))).ddl_if(dialect="sqlite"),
        # the records the events answer for
        Index("ix_journeysummary_uncovered", "connection_id", postgresql_where=text("NOT covered"),
              sqlite_where=text("covered = 0")),
    )

    connection_id: int = Field(foreign_key="connection.id", primary_key=True)
    object: str = Field(primary_key=True)
    crm_id: str = Field(primary_key=True)
    events: int
    path: str = Field(sa_column=Column(Text, nullable=False))
    first_stage: str
    first_at: datetime = Field(sa_type=UTCDateTime)
    #: The first day (``YYYY-MM-DD``) of the UTC month of ``first_at``: the record's cohort.
    first_month: str
    last_at: datetime = Field(sa_type=UTCDateTime)
    covered: bool
    at0: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at1: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at2: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at3: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at4: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at5: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at6: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at7: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at8: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at9: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at10: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at11: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class RunCounters(SQLModel):
    """What a run counted, declared once: the stored run row and the summary a sync returns share it."""

    read: int = 0
    changed: int = 0
    written: int = 0
    failed: int = 0
    api_calls: int = 0
    duration_ms: int = 0


class SyncRun(RunCounters, table=True):
    """One unit of work on a connection (sync, stall pass, outbox flush) and what it did."""

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    kind: str = "sync"
    status: str = "queued"
    full: bool = False
    dry_run: bool = False
    requested_by: str = "schedule"
    started_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    finished_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    quota_used: Optional[int] = None
    quota_limit: Optional[int] = None
    errors: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: Optional[str] = Field(default=None, sa_column=Column(Text))
    progress: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OutboxItem(SQLModel, table=True):
    """A planned write-back waiting for, or failed at, the CRM. Nothing planned is lost.

    ``status``: pending (due at ``next_attempt_at``), sending (handed to the CRM, or planned over
    an item that was and whose outcome no one recorded: unknown until confirmed or read back from
    the CRM), done, parked (gave up after the attempt limit; an admin may retry).
    """

    __table_args__ = (Index("ix_outbox_conn_status", "connection_id", "status", "next_attempt_at"),
                      # a page's plans replaced by record (migration 0021)
                      Index("ix_outbox_record", "connection_id", "object", "crm_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    object: str
    crm_id: str
    values: dict = Field(sa_column=Column(JSON, nullable=False))
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error_code: Optional[str] = None
    last_error_message: Optional[str] = Field(default=None, sa_column=Column(Text))
    run_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConnectorCache(SQLModel, table=True):
    """CRM metadata a connector keeps between syncs and processes (describes, pipelines)."""

    __table_args__ = (UniqueConstraint("connection_id", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    key: str
    value: dict = Field(sa_column=Column(JSON, nullable=False))
    expires_at: datetime = Field(sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """A CRM notification received (a webhook event, an outbound message), de-duplicated."""

    __table_args__ = (UniqueConstraint("connection_id", "event_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    event_id: str
    object: str
    crm_id: str
    kind: str = ""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PendingRecord(SQLModel, table=True):
    """A record a webhook named, waiting for a targeted sync."""

    __table_args__ = (UniqueConstraint("connection_id", "object", "crm_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    object: str
    crm_id: str
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CrmOwner(SQLModel, table=True):
    """The name of a CRM user who owns records (HubSpot owner, Salesforce ``User``)."""

    __table_args__ = (UniqueConstraint("connection_id", "owner_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id", index=True)
    owner_id: str
    name: str
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CrmTask(SQLModel, table=True):
    """A task for a record's owner (the map's ``tasks:`` section), to be created in the CRM once.

    ``key`` names the record and the occasion (see ``mapping.tasks``) and goes into the CRM task
    too: a task is marked ``sending`` before the CRM call, and one found ``sending`` later (the
    process died mid-call) is looked up in the CRM by its key before it is sent again, so a kill -9
    never creates it twice.
    """

    __table_args__ = (UniqueConstraint("connection_id", "key"),
                      Index("ix_crmtask_conn_status", "connection_id", "status"))

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    object: str
    crm_id: str
    key: str
    subject: str
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_id: Optional[str] = None
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = "pending"  # pending | sending | created | failed
    crm_task_id: Optional[str] = None
    attempts: int = 0
    error_code: Optional[str] = None
    error_message: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AnalyticsCache(SQLModel, table=True):
    """An analytics answer kept for as long as the connection's data, map and day stay the same.

    ``stamp`` names that state (see ``integration.analytics_cache.data_stamp``); an answer whose
    stamp no longer matches is computed again and replaces this one.
    """

    __table_args__ = (UniqueConstraint("connection_id", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    key: str
    stamp: str
    value: dict = Field(sa_column=Column(JSON, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PeopleSummary(SQLModel, table=True):
    """One person or deal of a workspace (a group of linked records, see ``RecordLink``) in one
    row, made by the people pass (``integration/store/people_summaries.py``): what the workspace
    funnel and the people linked across CRMs need without joining every record's events.

    ``path`` holds the entries of all of its records into the workspace map's stages, merged in
    time order, one character per entry (the stage's code); ``at0``... their times. It is
    ``covered`` when those are all of its entries and strictly increase: the entries of any
    period are then one stretch of the path. ``lead_stage`` and ``lead_entered_at`` are those of
    its lead record under the map's people rule.

    ``segment`` and ``value`` are ``""`` for the row of all of its records; a person also has a
    row per value of each of the filters ``integration.store.people_summaries.SEGMENTS``
    (country, persona, owner...) their records hold, made from those records alone, which a
    workspace view filtered by that value reads.
    """

    __table_args__ = (
        # the all-time funnel groups the paths in this index's order (SQLite would sort them)
        Index("ix_peoplesummary_paths", "tenant_id", "segment", "value", "kind", "covered", "path"),
        # a period's funnel reads this index alone: the rows whose entries reach into it (through
        # the table, a look-up per person), cut at its bounds by the entry times
        Index("ix_peoplesummary_period", "tenant_id", "segment", "value", "kind", "covered", "last_at",
              "path", *(f"at{slot}" for slot in range(16))),
        Index("ix_peoplesummary_lead", "tenant_id", "segment", "value", "kind", "lead_stage",
              "lead_entered_at"),
        Index("ix_peoplesummary_linked", "tenant_id", "segment", "kind", "email", "across_crms", "records"),
        # the people the events answer for
        Index("ix_peoplesummary_uncovered", "tenant_id", "segment", "value", "kind", "group_key",
              postgresql_where=text("NOT covered"), sqlite_where=text("covered = 0")),
    )

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    # a person's rows together: the people pass makes them again per person
    group_key: str = Field(primary_key=True)
    segment: str = Field(default="", primary_key=True)
    value: str = Field(default="", primary_key=True)
    kind: str
    records: int
    #: Whether its records are in more than one CRM.
    across_crms: bool
    #: The smallest e-mail address of its records.
    email: Optional[str] = None
    lead_stage: str
    lead_entered_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    path: Optional[str] = Field(default=None, sa_type=Text)
    #: The time of its last entry.
    last_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    covered: bool
    at0: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at1: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at2: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at3: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at4: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at5: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at6: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at7: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at8: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at9: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at10: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at11: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at12: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at13: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at14: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    at15: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)


class OpenedView(SQLModel, table=True):
    """A page someone opened with a period and filters of their own, kept so the worker computes
    it again after the data changes (``integration/store/opened_views.py``): the views a team
    keeps coming back to open from the analytics cache, not from a cold computation.

    ``connection_id`` is None for a workspace page; ``args`` are the page's query parameters
    (the period by name, "last 90 days", not its dates: it is computed for the day it is warmed);
    ``key`` names the view (scope, page and arguments) within the tenant.
    """

    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        # the most recently opened views of a connection (or of the workspace) first
        Index("ix_openedview_recent", "tenant_id", "connection_id", "opened_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    connection_id: Optional[int] = Field(default=None, foreign_key="connection.id")
    key: str
    page: str
    args: dict = Field(sa_column=Column(JSON, nullable=False))
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def same_record(one: Any, other: Any, *more: Any) -> Any:
    """The join condition pairing rows of two tables keyed by record (connection, object, CRM
    id: records, journey events and summaries, links), and ``more``."""
    return and_(one.connection_id == other.connection_id, one.object == other.object,
                one.crm_id == other.crm_id, *more)
