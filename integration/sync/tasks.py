"""Tasks for record owners: plan them from stored states, then create them in the CRM in batches.

Crash safety follows the outbox's rule: a task is marked ``sending`` (committed) before the CRM
call that creates it, and carries its key into the CRM. A task still ``sending`` when the next
flush starts belongs to a process that died (or lost its lease) mid-call: once no call carrying it
can still land (:mod:`integration.sync.lease`), the flush asks the CRM for tasks with those keys
and only sends again the ones the CRM does not have, so no task is created twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import or_
from sqlmodel import Session, select

from connectors.base import Connector, TaskSpec, batched
from integration.services import Services
from integration.store.models import CrmTask, RecordState
from integration.store.types import utcnow
from integration.sync.lease import Lease, fence, settled_before
from integration.sync.map_in_force import connection_map
from mapping import JourneyMap, state_from_dict
from mapping.tasks import TaskPlan, plan_task

#: Keys or ids per ``IN (...)`` list.
KEYS_PER_QUERY = 500
#: The most records one request for tasks covers (the records page): a manager's batch, not a
#: mass mailing.
REQUEST_LIMIT = 500


@dataclass
class TaskFlush:
    """What one flush of the tasks did."""

    created: int = 0
    failed: int = 0
    recovered: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def run_tasks(services: Services, connection_id: int, connector: Connector,
              now: datetime | None = None, lease: Lease | None = None) -> TaskFlush:
    """Plan the tasks the map in force calls for, then create every queued one (no CRM call when
    there is nothing to create or settle; ``lease`` fences the creations)."""
    with services.session() as session:
        jmap, _ = connection_map(session, connection_id)
    plan_tasks(services, connection_id, jmap, now or utcnow())
    with services.session() as session:
        waiting = session.exec(select(CrmTask.id).where(
            CrmTask.connection_id == connection_id,
            CrmTask.status.in_(("pending", "sending")))).first()
    return (flush_tasks(services, connection_id, connector, lease) if waiting is not None
            else TaskFlush())


def plan_tasks(services: Services, connection_id: int, jmap: JourneyMap, now: datetime) -> int:
    """Queue a task for every stored record the map's ``tasks:`` rule calls for and that has none
    for the same occasion yet. Returns how many were queued."""
    rule = jmap.tasks
    if rule is None:
        return 0
    with services.session() as session:
        wanted = [RecordState.stage.in_(rule.on_enter)] if rule.on_enter else []
        if rule.on_stalled:
            wanted.append(RecordState.stalled.is_(True))
        if not wanted:
            return 0
        rows = session.exec(select(RecordState).where(RecordState.connection_id == connection_id,
                                                      or_(*wanted)))
        return queue_tasks(session, connection_id, rows, jmap, now).planned


@dataclass
class TaskRequest:
    """What asking for tasks on records comes to: ``planned`` new tasks for ``owners`` owners
    (``without_owner`` of them for records with none: the CRM gives those to the integration
    user), ``already`` records holding their task for this occasion, ``retried`` failed tasks
    sent again, ``ineligible`` records that get none (in an exit, or not placed on the map)."""

    planned: int = 0
    already: int = 0
    retried: int = 0
    ineligible: int = 0
    owners: int = 0
    without_owner: int = 0


def request_tasks(services: Services, connection_id: int, row_ids: Iterable[int], now: datetime,
                  *, dry_run: bool) -> TaskRequest:
    """Tasks a person asked for on these stored records (ids of the connection's rows; others are
    ignored), one per record and occasion (see :func:`mapping.tasks.plan_task`, ``requested``).
    ``dry_run`` counts without queueing; the worker creates queued tasks in the CRM."""
    ids = sorted(set(row_ids))
    with services.session() as session:
        jmap, _ = connection_map(session, connection_id)
        rows = [row for chunk in batched(ids, KEYS_PER_QUERY) for row in session.exec(
            select(RecordState).where(RecordState.connection_id == connection_id,
                                      RecordState.id.in_(chunk)))]
        return queue_tasks(session, connection_id, rows, jmap, now, requested=True,
                           dry_run=dry_run)


def queue_tasks(session: Session, connection_id: int, rows: Iterable[RecordState], jmap: JourneyMap,
                now: datetime, *, requested: bool = False, dry_run: bool = False) -> TaskRequest:
    """Queue the task each row calls for, unless its key is known (a failed one asked for again
    is retried). ``dry_run`` only counts."""
    result, owners = TaskRequest(), set()
    plans: dict[str, tuple[RecordState, TaskPlan]] = {}
    for row in rows:
        plan = plan_task(state_from_dict(row.state), jmap, row.name, now, requested=requested)
        if plan is None:
            result.ineligible += 1
        else:
            plans.setdefault(plan.key, (row, plan))
    known = {task.key: task for chunk in batched(list(plans), KEYS_PER_QUERY)
             for task in session.exec(select(CrmTask).where(CrmTask.connection_id == connection_id,
                                                            CrmTask.key.in_(chunk)))}
    for key, (row, plan) in plans.items():
        task = known.get(key)
        if task is not None and not (requested and task.status == "failed"):
            result.already += 1
            continue
        if task is not None:
            result.retried += 1
            if not dry_run:
                _mark(task, "pending", attempts=0, error_code=None, error_message=None)
                session.add(task)
            continue
        result.planned += 1
        owners.add(row.owner_id)
        result.without_owner += row.owner_id is None
        if not dry_run:
            session.add(CrmTask(connection_id=connection_id, object=row.object, crm_id=row.crm_id,
                                key=key, subject=plan.subject, body=plan.body,
                                owner_id=row.owner_id, due_at=plan.due_at))
    result.owners = len(owners - {None})
    return result


def flush_tasks(services: Services, connection_id: int, connector: Connector,
                lease: Lease | None = None) -> TaskFlush:
    """Create the queued tasks in the CRM, after settling those a dead process left ``sending``
    (once no call carrying them can still land; younger ones wait for a later flush). Under a
    ``lease`` each batch is claimed only while the lease is ours
    (:class:`integration.sync.lease.LeaseLost` otherwise)."""
    result = TaskFlush()
    max_attempts = services.settings.outbox_max_attempts
    with services.session() as session:
        stuck = list(session.exec(select(CrmTask).where(
            CrmTask.connection_id == connection_id, CrmTask.status == "sending",
            CrmTask.updated_at <= settled_before(services))))
        if stuck:
            found = connector.find_tasks([t.key for t in stuck])
            for task in stuck:
                if task.key in found:
                    _mark(task, "created", crm_task_id=found[task.key])
                    result.recovered += 1
                else:
                    _mark(task, "pending")
                session.add(task)
    for batch in batched(_pending_ids(services, connection_id), connector.write_batch_size):
        with services.session() as session:
            fence(session, lease)
            tasks = list(session.exec(select(CrmTask).where(CrmTask.id.in_(batch),
                                                            CrmTask.status == "pending")))
            for task in tasks:
                _mark(task, "sending", attempts=task.attempts + 1)
                session.add(task)
            specs = [TaskSpec(object=t.object, record_id=t.crm_id, key=t.key, subject=t.subject,
                              body=t.body, due_at=t.due_at, owner_id=t.owner_id) for t in tasks]
            claimed = [t.id for t in tasks]
        if not claimed:
            continue
        if lease is not None:
            lease.carrying(CrmTask, claimed)
        try:
            answers = {r.key: r for r in connector.create_tasks(specs)}
        finally:
            if lease is not None:
                lease.landed(CrmTask, claimed)
        with services.session() as session:
            for task in session.exec(select(CrmTask).where(CrmTask.id.in_(claimed))):
                answer = answers.get(task.key)
                if answer is not None and answer.ok:
                    _mark(task, "created", crm_task_id=answer.crm_id)
                    result.created += 1
                else:
                    code = answer.error_code if answer else "NO_RESULT"
                    retry = (answer is None or answer.retryable) and task.attempts < max_attempts
                    _mark(task, "pending" if retry else "failed", error_code=code,
                          error_message=answer.message if answer else "the CRM gave no result")
                    result.failed += 1
                    result.errors[code or "UNKNOWN"] = result.errors.get(code or "UNKNOWN", 0) + 1
                session.add(task)
    return result


def _pending_ids(services: Services, connection_id: int) -> Iterable[int]:
    with services.session() as session:
        return list(session.exec(select(CrmTask.id).where(CrmTask.connection_id == connection_id,
                                                          CrmTask.status == "pending")))


def _mark(task: CrmTask, status: str, **changes: object) -> None:
    task.status, task.updated_at = status, utcnow()
    for name, value in changes.items():
        setattr(task, name, value)
