"""People and deals across a workspace's CRMs, as the CLI, the API and the pages show them.

Links come from the people pass (``integration.sync.people``); these functions only read.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Literal

from sqlalchemy import and_, case, false, func, select, true
from sqlmodel import Session

from integration.analytics import RecordFilter, records_lead, spans_from_events
from integration.analytics_cache import CachedAnalytics, workspace_stamp
from integration.journey_stats import funnel_columns, funnel_counts
from integration.store import people_summaries
from integration.store import records as record_store
from integration.store.connections import list_connections
from integration.store.links import group_members, groups_with_email
from integration.store.models import (Connection, JourneyEvent, PeopleSummary, RecordLink,
                                      RecordState, same_record)
from integration.store.side_by_side import SideBySide
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map, workspace_map
from mapping import JourneyMap
from mapping.analytics import funnel_rows
from mapping.journey_runs import add_counts
from mapping.people import DEAL, PERSON, normalize_email, person_state
from mapping.serialize import record_from_dict

Unit = Literal["people", "deals"]
UNITS: dict[str, str] = {"people": PERSON, "deals": DEAL}


def _states(session: Session, members: list[RecordLink]) -> dict[tuple[int, str, str], RecordState]:
    by_connection: dict[int, list[tuple[str, str]]] = {}
    for m in members:
        by_connection.setdefault(m.connection_id, []).append((m.object, m.crm_id))
    found = {}
    for cid, keys in by_connection.items():
        for (obj, crm_id), row in record_store.states_by_key(session, cid, keys).items():
            found[(cid, obj, crm_id)] = row
    return found


def person_report(session: Session, tenant_id: int, email: str, now: datetime) -> dict[str, Any] | None:
    """One person found by e-mail (any case): stage, persona, action, linked records, timeline.

    None when no record of the workspace has that address. When explicit CRM ids split records
    sharing the address into several people, the first person (in record order) is shown.
    """
    wanted = normalize_email(email)
    groups = groups_with_email(session, tenant_id, wanted) if wanted else []
    if not groups:
        return None
    members = group_members(session, tenant_id, groups[:1])
    rows = _states(session, members)
    names = {c.id: c.name for c in list_connections(session, tenant_id)}
    jmap = workspace_map(session, tenant_id).jmap
    present = [m for m in members if (m.connection_id, m.object, m.crm_id) in rows]
    records = [record_from_dict(rows[(m.connection_id, m.object, m.crm_id)].record) for m in present]
    state = person_state(records, jmap, now)
    timeline = []
    for member, record in zip(present, records):
        events = record_store.events_for(session, member.connection_id, member.object, member.crm_id)
        for span in spans_from_events(events, jmap, now):
            timeline.append({"stage": span.stage, "label": span.label, "entered_at": span.entered_at,
                             "exited_at": span.exited_at, "days": span.days,
                             "crm": record.crm, "object": member.object, "id": member.crm_id})
    timeline.sort(key=lambda item: (item["entered_at"], item["crm"], item["id"]))
    return {
        "email": wanted,
        "stage": state.stage if state else "unmapped",
        "stage_label": state.stage_label if state else jmap.label("unmapped"),
        "stage_entered_at": state.entered_at if state else None,
        "persona": state.persona if state else None,
        "next_best_action": state.next_best_action if state else None,
        "stalled": state.stalled if state else False,
        "records": [{"crm": record.crm, "object": m.object, "id": m.crm_id,
                     "stage": rows[(m.connection_id, m.object, m.crm_id)].stage,
                     "connection": names.get(m.connection_id), "name": record.name,
                     "email": m.email, "url": record.url}
                    for m, record in zip(present, records)],
        "timeline": timeline,
    }


def linked_people(session: Session, tenant_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """People whose records are in more than one CRM (the first ``limit``, by e-mail), counted
    in SQL: one row per person comes back at most. Read from the people summary when it is
    current (:mod:`integration.store.people_summaries`), else from the links."""
    jmap = workspace_map(session, tenant_id).jmap
    if _summarised(session, tenant_id, jmap, [c.id for c in list_connections(session, tenant_id)]):
        p = PeopleSummary
        query = select(p.email, p.records).where(
            p.tenant_id == tenant_id, *_segment_rows(RecordFilter()), p.kind == PERSON,
            p.across_crms == true(), p.email.is_not(None)) \
            .order_by(p.email).limit(limit)
    else:
        link = RecordLink
        email = func.min(link.email)
        query = select(email, func.count()).select_from(link) \
            .join(Connection, Connection.id == link.connection_id) \
            .where(link.tenant_id == tenant_id, link.kind == PERSON).group_by(link.group_key) \
            .having(func.count(Connection.crm.distinct()) > 1, email.is_not(None)) \
            .order_by(email).limit(limit)
    return [{"email": address, "records": records} for address, records in session.execute(query)]


def _summarised(session: Session, tenant_id: int, jmap: JourneyMap, connection_ids: list[int],
                connection_id: int | None = None, flt: RecordFilter = RecordFilter()) -> bool:
    """Whether the people summary answers this view of the workspace (map ``jmap``, connections
    ``connection_ids``): every connection, no condition on the records but the period and at
    most one segment value (its rows: :func:`_segment_rows`), a map whose stages its rows hold,
    and rows holding what the links and events say now."""
    if connection_id is not None or flt.segment(people_summaries.SEGMENTS) is None or \
            not people_summaries.answers(jmap):
        return False
    return people_summaries.is_current(session, tenant_id, connection_ids, jmap)


def _segment_rows(flt: RecordFilter) -> list[Any]:
    """Conditions picking the people summary's rows of the segment value ``flt`` filters by
    (each person's row of all of their records when it filters by none)."""
    segment, value = flt.segment(people_summaries.SEGMENTS)
    return [PeopleSummary.segment == segment, PeopleSummary.value == value]


def funnel_report(session: Session, tenant_id: int, unit: Unit = "people",
                  connection_id: int | None = None, flt: RecordFilter = RecordFilter(),
                  reads: SideBySide | None = None) -> dict[str, Any]:
    """The workspace funnel: each person (or deal) counted once, whichever CRMs hold it.

    Per stage, the connection funnel's three counts (:func:`mapping.analytics.funnel_rows`) with
    a person standing for all of their records: ``reached`` (the furthest stage any of their
    records entered in the period is this one or later), ``entered`` (one of their records
    entered this stage in the period), ``strict`` (they entered the first stage and every stage up
    to this one in order, in the period, each at its first entry by any of their records), and
    their conversions; and ``current``: people whose stage now (the people rule over their
    records) is that stage, entered in the period. ``exits`` counts people now in each exit.
    Only records matching ``flt``'s filters count; ``total`` is the people with one (whatever the
    period). ``connection_id`` limits it to one connection's records.

    The people summary answers the views it covers (see :func:`_summarised`); the others join
    the records' events and states. Both give the same figures. The counts and the current
    stages are two reads, run side by side with ``reads`` (:func:`funnel_reports`).
    """
    return funnel_reports(session, tenant_id, (unit,), connection_id, flt, reads)[unit]


def funnel_reports(session: Session, tenant_id: int, units: Iterable[Unit],
                   connection_id: int | None = None, flt: RecordFilter = RecordFilter(),
                   reads: SideBySide | None = None) -> dict[str, dict[str, Any]]:
    """:func:`funnel_report` of each of ``units``, by unit. Each unit's counts and current stages
    are separate reads, all of them run side by side with ``reads`` (else one after another):
    a view the people summary does not hold joins the matching records' events for the one and
    their states for the other (one owner's, or one country's before the summary had a row per
    country: over a year at 1,000,000 records on SQLite, the workspace page's four reads
    1.7 -> 1.05-1.1 s side by side; bench/RESULTS.md)."""
    units = list(units)
    unknown = [unit for unit in units if unit not in UNITS]
    if unknown:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    jmap = workspace_map(session, tenant_id).jmap
    ids = [connection_id] if connection_id is not None else [
        c.id for c in list_connections(session, tenant_id)]
    summarised = _summarised(session, tenant_id, jmap, ids, connection_id, flt)
    counts_of = summary_funnel_counts if summarised else linked_funnel_counts

    def current_of(s: Session, kind: str) -> tuple[int, dict[str, int]]:
        return summary_current_stages(s, tenant_id, kind, jmap, flt) if summarised else \
            linked_current_stages(s, tenant_id, kind, ids, jmap, flt)

    parts = []
    for kind in (UNITS[unit] for unit in units):
        parts += [lambda s, kind=kind: counts_of(s, tenant_id, kind, ids, jmap.stage_keys, flt),
                  lambda s, kind=kind: current_of(s, kind)]
    answers = reads.run(session, parts) if reads else [read(session) for read in parts]
    return {unit: _funnel_answer(unit, answers[2 * i], *answers[2 * i + 1], jmap)
            for i, unit in enumerate(units)}


def _funnel_answer(unit: Unit, counts: list[tuple[int, int, int]], total: int,
                   current: dict[str, int], jmap: JourneyMap) -> dict[str, Any]:
    """One unit's :func:`funnel_report` from its counts and current stages."""
    return {"unit": unit, "total": total,
            "stages": [{"key": row["stage"], **row, "current": current[row["stage"]]}
                       for row in funnel_rows(counts, jmap)],
            "exits": {key: current[key] for key in sorted(jmap.exit_keys)}}


def workspace_answers(session: Session, tenant_id: int) -> CachedAnalytics | None:
    """The analytics cache of the workspace's answers (see :mod:`integration.analytics_cache`),
    None while the workspace has no connection."""
    connections = [(c.id, connection_map(session, c.id)[0]) for c in list_connections(session, tenant_id)]
    if not connections:
        return None
    jmap = workspace_map(session, tenant_id).jmap
    return CachedAnalytics(session, min(cid for cid, _ in connections), jmap,
                           stamp=workspace_stamp(session, connections, jmap, utcnow().date()))


def kept_funnel_report(session: Session, tenant_id: int, unit: Unit = "people",
                       connection_id: int | None = None, flt: RecordFilter = RecordFilter(),
                       cache: CachedAnalytics | None = None,
                       reads: SideBySide | None = None) -> dict[str, Any]:
    """:func:`funnel_report` from the workspace's analytics cache (``cache``, or the workspace's
    own): computed again only once a connection's data or map, or the workspace map, changed."""
    return kept_funnel_reports(session, tenant_id, (unit,), connection_id, flt, cache, reads)[unit]


def kept_funnel_reports(session: Session, tenant_id: int, units: Iterable[Unit],
                        connection_id: int | None = None, flt: RecordFilter = RecordFilter(),
                        cache: CachedAnalytics | None = None,
                        reads: SideBySide | None = None) -> dict[str, dict[str, Any]]:
    """:func:`funnel_reports` from the workspace's analytics cache, as :func:`kept_funnel_report`:
    the units whose answer is not kept are computed together, side by side with ``reads``."""
    units = list(units)
    cache = cache or workspace_answers(session, tenant_id)
    if cache is None:
        return funnel_reports(session, tenant_id, units, connection_id, flt, reads)

    def params(unit: str) -> dict[str, Any]:
        return {"tenant": tenant_id, "unit": unit, "connection": connection_id}

    found = {unit: cache.stored("workspace_funnel", flt, **params(unit)) for unit in units}
    missing = [unit for unit, report in found.items() if report is None]
    if missing:
        for unit, report in funnel_reports(session, tenant_id, missing, connection_id, flt, reads).items():
            found[unit] = cache.put("workspace_funnel", flt, report, **params(unit))
    return found


def kept_linked_people(session: Session, tenant_id: int,
                       cache: CachedAnalytics | None = None) -> list[dict[str, Any]]:
    """:func:`linked_people` from the workspace's analytics cache (``cache``, or its own)."""
    cache = cache or workspace_answers(session, tenant_id)
    if cache is None:
        return []
    return cache.get("linked_people", RecordFilter(), lambda: linked_people(session, tenant_id),
                     tenant=tenant_id)


def warm_workspace(session: Session, tenant_id: int, filters: Iterable[RecordFilter] = ()) -> None:
    """Compute the workspace page as it first opens (all time, no filter: both funnels and the
    people linked across CRMs), and both funnels for each of ``filters`` (views people opened),
    so they open from the cache; answers already kept are only read."""
    cache = workspace_answers(session, tenant_id)
    if cache is None:
        return
    for flt in (RecordFilter(), *filters):
        kept_funnel_reports(session, tenant_id, ("people", "deals"), flt=flt, cache=cache)
    kept_linked_people(session, tenant_id, cache)


def linked_funnel_counts(session: Session, tenant_id: int, kind: str, connection_ids: list[int],
                         keys: list[str], flt: RecordFilter, *only: Any) -> list[tuple[int, int, int]]:
    """Per stage ``keys``, the (reached, entered, strict) counts of the people (or deals: ``kind``)
    of these connections, each from the stage entries of all of their records matching ``flt``
    in the period, counted in SQL (one row per person); ``only`` narrows the people further
    (conditions on their links)."""
    if not connection_ids:
        return [(0, 0, 0)] * len(keys)
    per_unit = _linked_events(tenant_id, kind, connection_ids, flt, RecordLink.group_key,
                              *funnel_columns(keys)).where(JourneyEvent.to_stage.in_(keys), *only) \
        .group_by(RecordLink.group_key).subquery()
    return funnel_counts(session, per_unit, len(keys))


def summary_funnel_counts(session: Session, tenant_id: int, kind: str, connection_ids: list[int],
                          keys: list[str], flt: RecordFilter) -> list[tuple[int, int, int]]:
    """:func:`linked_funnel_counts` of the records of ``flt``'s segment value (or every record)
    from the people summary: each covered person's first entry into each stage in the period, as
    a position in their row's path (positions order as times do), added up in SQL; the others'
    from their records' events."""
    p = PeopleSummary
    rows = (p.tenant_id == tenant_id, *_segment_rows(flt), p.kind == kind)
    positions = people_summaries.period_positions(flt, len(keys), *rows).c
    furthest = case(*((positions[f"f{i}"].is_not(None), i) for i in reversed(range(len(keys)))))
    per_unit = select(furthest.label("furthest"), *positions).subquery()
    uncovered = select(p.group_key).where(*rows, p.covered == false())
    return add_counts(funnel_counts(session, per_unit, len(keys)), linked_funnel_counts(
        session, tenant_id, kind, connection_ids, keys, flt, RecordLink.group_key.in_(uncovered)))


def summary_current_stages(session: Session, tenant_id: int, kind: str, jmap: JourneyMap,
                           flt: RecordFilter) -> tuple[int, dict[str, int]]:
    """:func:`linked_current_stages` of the records of ``flt``'s segment value (or every record)
    from the people summary's lead stages."""
    p = PeopleSummary
    return _current_counts(session, jmap, flt, p.lead_stage, p.lead_entered_at,
                           p.tenant_id == tenant_id, *_segment_rows(flt), p.kind == kind)


def _current_counts(session: Session, jmap: JourneyMap, flt: RecordFilter, stage: Any,
                    entered_at: Any, *where: Any) -> tuple[int, dict[str, int]]:
    """(people, people now in each stage and exit of ``jmap`` entered in ``flt``'s period),
    counted in SQL over the rows meeting ``where``, one per person, of their ``stage`` now and
    when they entered it (``entered_at``)."""
    in_period = case((and_(True, *flt.in_period(entered_at)), 1), else_=0)
    current = dict.fromkeys((*jmap.stage_keys, *sorted(jmap.exit_keys)), 0)
    total = 0
    for key, people, entered in session.execute(
            select(stage, func.count(), func.sum(in_period)).where(*where).group_by(stage)):
        total += people
        if key in current:
            current[key] = int(entered or 0)
    return total, current


def _linked_events(tenant_id: int, kind: str, connection_ids: list[int], flt: RecordFilter,
                   *columns: Any) -> Any:
    """SELECT ``columns`` FROM the journey events entered in the period by the linked records
    of ``kind`` (person or deal) of these connections that match ``flt``."""
    event, link = JourneyEvent, RecordLink
    query = select(*columns).select_from(event).join(link, same_record(link, event)).where(
        records_lead(link.tenant_id, flt) == tenant_id, link.kind == kind,
        event.connection_id.in_(connection_ids), *flt.in_period(records_lead(event.occurred_at, flt)))
    if flt.narrows_records():
        # the records' own connection condition lets the filter read its index (connection, value)
        query = flt.apply(query.join(RecordState, same_record(RecordState, event))
                          .where(RecordState.connection_id.in_(connection_ids)))
    return query


def linked_current_stages(session: Session, tenant_id: int, kind: str, connection_ids: list[int],
                          jmap: JourneyMap, flt: RecordFilter) -> tuple[int, dict[str, int]]:
    """How many people (or deals: ``kind``) of these connections have a record matching ``flt``,
    and how many of them are now in each stage and exit of ``jmap`` (the workspace map), entered
    in the period; counted in SQL, one row per stage.

    A person's stage is their lead record's (:func:`mapping.people.lead_state` under the map's
    people rule), chosen by a window over each person's matching records. Stored stages are
    ranked in ``jmap``'s order, not in that of the map a connection may have of its own (which
    classified the record): the person pass places people on the workspace map, and stage
    positions of two maps do not compare. A stored stage ``jmap`` names neither as a stage nor
    as an exit is left out of the choice, as an unmapped record is.
    """
    state, link = RecordState, RecordLink
    if not connection_ids:
        return _current_counts(session, jmap, flt, state.stage, state.entered_at, false())
    lead_first = func.row_number().over(partition_by=link.group_key,
                                        order_by=people_summaries.lead_order(jmap))
    members = select(link.group_key, state.stage, state.entered_at, lead_first.label("rank")) \
        .select_from(link).join(state, same_record(state, link)) \
        .where(records_lead(link.tenant_id, flt) == tenant_id, link.kind == kind,
               link.connection_id.in_(connection_ids), state.connection_id.in_(connection_ids))
    leads = flt.apply(members).subquery()
    return _current_counts(session, jmap, flt, leads.c.stage, leads.c.entered_at, leads.c.rank == 1)
