"""The people summary (:class:`~integration.store.models.PeopleSummary`): one row per person or
deal of a workspace, made by the people pass from the stored links, records and journey events.

The workspace funnel counts people, each standing for all of their linked records: live, that
is a join of every linked record's events and a window over every linked record's state (2 to 16 s
cold at a million records). The summary keeps, per person, their records' entries into the
workspace map's stages merged in time order (a character per entry, with the times) and their
lead record's stage, so the unfiltered and period views add up one row per person in SQL
(:func:`period_positions`). A person has such a row for all of their records (segment ``""``)
and one per value of each of :data:`SEGMENTS` (country, lead source, persona, pipeline, owner)
their records hold, made from those records alone: a view of one country adds up that country's
rows, as the journey rollup's segments serve the connection analytics.

It is exactly as fresh as the links: the people pass, which runs after every sync that stored
records, makes the rows of the people it re-linked (:func:`refresh`), or of everyone on a full pass
or when the connections, the map's stages or its people rule changed since the rows were made. The
tenant row keeps what they were made from (:func:`basis`): a view whose basis is not today's (a
sync committed since, a pass that failed) reads the events instead (:func:`is_current`).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from sqlalchemy import and_, case, delete, func, insert, literal, select, text, true
from sqlmodel import Session

from integration.store.bulk import one_of
from integration.store.records import last_writes
from integration.store import rollups
from integration.store.models import JourneyEvent, PeopleSummary, RecordLink, RecordState, Tenant, same_record
from integration.store.sqlfuncs import count_before, ordered_codes, stage_index, text_position
from mapping import JourneyMap

E, L, P, S = JourneyEvent, RecordLink, PeopleSummary, RecordState
#: Groups made per statement on a partial refresh.
CHUNK = 500
#: The filters (record columns; the owner's is ``owner_id``) a person has rows of, per value. The
#: owner too, unlike the journey rollup: here it adds a row per person and owner, not one per
#: owner, day, stage and days lasted, and one owner's workspace view joined 20,000 records'
#: events and states (0.4-0.8 s at a million, up to 1.5 s read from disk).
SEGMENTS = (*rollups.SEGMENTS, "owner")
#: Entries a covered row holds.
SLOTS = 16
#: The characters standing for the map's stages in a path, by position: the summary answers for
#: maps of at most this many stages.
CODES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def lead_order(jmap: JourneyMap) -> list[Any]:
    """ORDER BY terms putting a person's lead record first (:func:`mapping.people.lead_state`):
    records in a journey stage, then in an exit, then the others; under the ``furthest`` rule the
    furthest stage first (the earliest entered on a tie), else (and among exits) the latest
    entered. NULL dates sort as the rule's "never" does: before any date."""
    placed = case((S.stage.in_(jmap.stage_keys), 0), (S.stage.in_(sorted(jmap.exit_keys)), 1), else_=2)
    ties = (S.crm, S.object, S.crm_id)
    if jmap.people_rule.stage != "furthest":
        return [placed, S.entered_at.desc().nulls_last(), *(c.desc() for c in ties)]
    furthest = placed == 0
    return [placed, case((furthest, stage_index(S.stage, jmap.stage_keys))).desc(),
            case((furthest, S.entered_at)).asc().nulls_first(),
            *(case((furthest, c)).asc() for c in ties),
            case((furthest, None), else_=S.entered_at).desc().nulls_last(),
            *(case((furthest, None), else_=c).desc() for c in ties)]


def _data_stamps(session: Session, connection_ids: list[int]) -> list[str]:
    """Each connection's newest journey event and latest record-state write."""
    return [f"{cid}:{event}:{write}" for cid in connection_ids
            for event, write in [last_writes(session, cid)]]


def build_key(connection_ids: list[int], jmap: JourneyMap) -> str:
    """What decides every row at once: the tenant's connections and the parts of the workspace
    map that choose a lead record (a change in either makes them all again)."""
    rule = {"connections": sorted(connection_ids), "stages": jmap.stage_keys,
            "exits": sorted(jmap.exit_keys), "rule": jmap.people_rule.stage, "segments": SEGMENTS}
    return hashlib.sha256(json.dumps(rule).encode()).hexdigest()[:32]


def basis(session: Session, connection_ids: list[int], jmap: JourneyMap) -> str:
    """What rows made now are made from: :func:`build_key` and the connections' data stamps."""
    stamps = "\n".join(_data_stamps(session, sorted(connection_ids)))
    return f"{build_key(connection_ids, jmap)}|{hashlib.sha256(stamps.encode()).hexdigest()[:32]}"


def is_current(session: Session, tenant_id: int, connection_ids: list[int], jmap: JourneyMap) -> bool:
    """Whether the tenant's rows hold what its links, records and events say now."""
    made_from = session.execute(select(Tenant.people_summary_basis)
                                .where(Tenant.id == tenant_id)).scalar()
    return made_from is not None and made_from == basis(session, connection_ids, jmap)


def made_from(session: Session, tenant_id: int, connection_ids: list[int], jmap: JourneyMap,
              stamp: str) -> bool:
    """Whether the tenant's rows were made from ``stamp`` (a :func:`basis`) under today's
    connections and map: they hold what they would be made from again, the links aside."""
    tenant = session.get(Tenant, tenant_id)
    return tenant.people_summary_basis == stamp and \
        tenant.people_summary_build == build_key(connection_ids, jmap)


def refresh(session: Session, tenant_id: int, connection_ids: list[int], jmap: JourneyMap,
            groups: Iterable[str], made_from: str) -> None:
    """Make the rows of these groups afresh, or every row of the tenant when the connections or
    the people rule changed since they were made; then record ``made_from`` (the :func:`basis`
    taken before the links and events were read) as what they hold. Nothing is made for a map
    whose stages a path cannot name (see :func:`answers`): the funnel reads the events then."""
    if not answers(jmap):
        return
    tenant = session.get(Tenant, tenant_id)
    if tenant.people_summary_build != build_key(connection_ids, jmap):
        rebuild(session, tenant_id, connection_ids, jmap, made_from)
        return
    keys = sorted(set(groups))
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        session.execute(delete(P).where(P.tenant_id == tenant_id, one_of(session, P.group_key, chunk))
                        .execution_options(synchronize_session=False))
        _insert(session, tenant_id, jmap, [one_of(session, L.group_key, chunk)])
    _made(session, tenant, connection_ids, jmap, made_from)


def rebuild(session: Session, tenant_id: int, connection_ids: list[int], jmap: JourneyMap,
            made_from: str) -> None:
    """Make every row of the tenant afresh, in set-based SQL (the full people pass); nothing for a
    map whose stages a path cannot name."""
    if not answers(jmap):
        return
    session.execute(delete(P).where(P.tenant_id == tenant_id)
                    .execution_options(synchronize_session=False))
    _insert(session, tenant_id, jmap, [])
    _made(session, session.get(Tenant, tenant_id), connection_ids, jmap, made_from)


def settle(engine: Any) -> None:
    """After every row was made again (:func:`rebuild`, committed): on PostgreSQL, VACUUM the
    table. The rows deleted stay in its indexes until then, and the views' index-only scans
    look each entry up in the table while its pages are not marked all-visible: at a million
    records the workspace funnels took 0.8-2.4 s instead of 0.1-0.5 s until autovacuum came
    (bench/RESULTS.md). SQLite reuses the deleted rows' pages and has nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) peoplesummary"))


def _made(session: Session, tenant: Tenant, connection_ids: list[int], jmap: JourneyMap,
          made_from: str) -> None:
    tenant.people_summary_basis = made_from
    tenant.people_summary_build = build_key(connection_ids, jmap)
    session.add(tenant)


def _insert(session: Session, tenant_id: int, jmap: JourneyMap, only: list[Any]) -> None:
    """INSERT ... SELECT the rows of the tenant's groups whose links meet ``only``: each
    group's whole row and its row of each segment value, one statement per segment."""
    for segment in ("", *SEGMENTS):
        rows = _rows(tenant_id, jmap, [L.tenant_id == tenant_id, *only], segment)
        session.execute(insert(P).from_select([c.name for c in rows.selected_columns], rows))


def _rows(tenant_id: int, jmap: JourneyMap, links: list[Any], segment: str = "") -> Any:
    """SELECT one summary row per group of the links meeting ``links`` that has a stored record
    (the others are links the next pass deletes), or with ``segment`` (a record column of
    :data:`SEGMENTS`) one per group and value of that column its records hold, made from the
    group's records of that value alone.

    One stream of the groups' records, each with its entries into the map's stages (one row
    without an entry if it has none), sorted by group and time, aggregated per group: the
    entries' codes and times in order, whether they are few enough and strictly increasing to be
    covered, and the lead record's stage and date, picked by a window in the people rule's
    order. (Subqueries joined to one another instead, SQLite would pair every group with every
    other.)"""
    # the whole group's rows have no value column: a constant in ORDER BY is an error on
    # PostgreSQL, and grouped by one SQLite might sort the stream again (see ordered_codes)
    values = [S.owner_id if segment == "owner" else getattr(S, segment)] if segment else []
    groups = (*values, L.group_key)
    group = {"partition_by": groups}
    # rows without an entry last on both databases, after the entries they do not count among
    order = (E.id.is_(None), E.occurred_at, E.connection_id, E.object, E.crm_id, E.seq)
    lead = {**group, "order_by": lead_order(jmap)}
    code = case(*((E.to_stage == key, CODES[i]) for i, key in enumerate(jmap.stage_keys[:len(CODES)])))
    stream = select(L.id.label("link"), *(v.label("value") for v in values), L.group_key, L.kind,
                    L.email, S.crm, E.id.label("event"), code.label("code"), E.occurred_at,
                    (func.row_number().over(**group, order_by=order) - 1).label("n"),
                    func.lag(E.occurred_at).over(**group, order_by=order).label("earlier"),
                    func.first_value(S.stage).over(**lead).label("lead_stage"),
                    func.first_value(S.entered_at).over(**lead).label("lead_entered_at")) \
        .select_from(L).join(S, same_record(L, S)) \
        .outerjoin(E, same_record(E, S, E.to_stage.in_(jmap.stage_keys))) \
        .where(*links, *(condition for v in values for condition in (v.is_not(None), v != ""))) \
        .order_by(*groups, *order).subquery("stream")  # fed in order: see ordered_codes
    m = stream.c
    in_order = func.min(case((m.occurred_at.is_(None), 1), (m.earlier.is_(None), 1),
                             (m.earlier < m.occurred_at, 1), else_=0))
    return select(literal(tenant_id).label("tenant_id"), m.group_key,
                  literal(segment).label("segment"),
                  (m.value if segment else literal("")).label("value"),
                  func.min(m.kind).label("kind"), func.count(m.link.distinct()).label("records"),
                  (func.min(m.crm) != func.max(m.crm)).label("across_crms"),
                  func.min(m.email).label("email"), func.min(m.lead_stage).label("lead_stage"),
                  func.min(m.lead_entered_at).label("lead_entered_at"),
                  ordered_codes(m.code, m.n).label("path"),
                  func.max(m.occurred_at).label("last_at"),
                  and_(func.count(m.event) <= SLOTS, in_order == 1).label("covered"),
                  *(func.max(case((m.n == slot, m.occurred_at))).label(f"at{slot}")
                    for slot in range(SLOTS))) \
        .group_by(*([m.value] if segment else []), m.group_key)


def answers(jmap: JourneyMap) -> bool:
    """Whether a path can name every stage of the map (at most as many as :data:`CODES`)."""
    return len(jmap.stage_keys) <= len(CODES)


def entries_before(moment: Any) -> Any:
    """How many of a covered row's entries came before ``moment`` (its entry times increase)."""
    return count_before(moment, [getattr(P, f"at{slot}") for slot in range(SLOTS)])


def period_positions(flt: Any, stages: int, *rows: Any) -> Any:
    """Subquery of the covered rows meeting ``rows`` whose entries reach into ``flt``'s period,
    grouped by the stretch of their path entered in it: per stage (by position in the map)
    ``f0``, ``f1``..., the stretch's first position in it (None if it has none), and ``n``, the
    rows that entered that stretch. Positions stand for times: a covered row's entries strictly
    increase.

    The positions are found once per distinct stretch (tens of thousands at a million people),
    not once per row; only the rows with entries after the period's end (few, for the usual
    "last 90 days") are cut at its end."""
    covered = [*rows, P.covered == true()]
    reach = []
    stretch = P.path
    if flt.until is not None:
        reach.append(P.at0 < flt.until)
        stretch = case((P.last_at >= flt.until, func.substr(stretch, 1, entries_before(flt.until))),
                       else_=stretch)
    if flt.since is not None:
        reach.append(P.last_at >= flt.since)
        stretch = func.substr(stretch, entries_before(flt.since) + 1)
    stretches = select(stretch.label("stretch"), func.count().label("n")) \
        .where(*covered, *reach).group_by(stretch).subquery("stretches")
    c = stretches.c
    # OFFSET 0 keeps the databases from computing a position again for each use of it in the
    # funnel's sums
    return select(*(func.nullif(text_position(c.stretch, CODES[i]), 0).label(f"f{i}")
                    for i in range(stages)), c.n).offset(0).subquery("positions")
