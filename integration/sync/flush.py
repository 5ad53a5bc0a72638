"""Sending the outbox to the CRM in the connector's largest batches.

Items are marked ``sending`` (committed) before the CRM call. If the process dies during the call,
the next flush finds them still ``sending`` and, once no batch carrying them can still land (see
:mod:`integration.sync.lease`), asks the CRM what it holds before sending again, so an update is
never applied twice and never lost.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Collection, Sequence

from connectors.actions import Action
from connectors.base import Connector, CrmError, FieldUpdate
from integration.services import Services
from integration.store import outbox
from integration.store.bulk import update_rows
from integration.store.models import OutboxItem, RecordState
from integration.store.records import crm_values_by_key, states_by_key
from integration.store.types import utcnow
from integration.store.values import values_to_json
from integration.sync.lease import Lease, fence
from mapping import plan_writeback

Progress = Callable[[str, int, int | None], None]

#: Batches handed to the connector per claim; the connector splits them by its API's limit.
BATCHES_PER_CLAIM = 5


@dataclass
class FlushResult:
    """What one flush did."""

    written: int = 0
    failed: int = 0
    parked: int = 0
    reconciled: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    #: Why the flush stopped early, and the action the CRM error that stopped it called for.
    stopped: str | None = None
    action: Action | None = None


def flush_outbox(services: Services, connection_id: int, connector: Connector, *,
                 progress: Progress | None = None, deadline: float | None = None,
                 objects: Collection[str] | None = None, expected: int | None = None,
                 lease: Lease | None = None) -> FlushResult:
    """Reconcile items left in flight, then push every item due now. Never raises for CRM errors.

    Under a ``lease`` every claim is fenced by it and the push stops between batches once the
    lease cannot be confirmed (:class:`integration.sync.lease.LeaseLost`, raised: what it had in
    flight is settled by the next holder).

    Stops between batches once ``time.monotonic()`` passes ``deadline`` (the rest stays due).
    Scheduling always runs on the real clock, whatever instant the records were classified at.
    ``objects`` limits the push to items of those object kinds. With ``expected`` (the updates a
    sync flushing as pages arrive expects: the records its pull has read so far) only whole claims
    sized for that many are sent and the rest stays due, so no call goes on a part batch the next
    page would fill and a big pull's writes still go in the connector's big jobs.
    """
    now = utcnow()
    result = FlushResult()
    in_flight = services.settings.in_flight_seconds
    try:
        _reconcile(services, connection_id, connector, now, result)
        if expected is None:
            with services.session() as session:
                total = outbox.counts(session, connection_id).get("pending", 0)
        else:
            # Not counted on every page of a pull: that read every open item of the connection
            # (118 ms a page with 370,000 contacts waiting for the people pass, a cost growing
            # with the square of the pull).
            total = expected
        while True:
            if deadline is not None and time.monotonic() > deadline:
                result.stopped = "stopped at the time limit per sync; the rest is sent next time"
                break
            sent = result.written + result.failed
            with services.session() as session:
                # Sized by what was due as the flush began (or the pull's read so far): a big
                # write-back stays in big jobs to its end.
                limit = _claim_size(connector, total if expected is None else expected)
                if expected is not None and outbox.count_due(session, connection_id, now, objects) < limit:
                    limit = 0  # a part claim waits for the next page
                if limit:
                    fence(session, lease)
                items = outbox.claim_due(session, connection_id, limit, now, objects,
                                         in_flight_seconds=in_flight) if limit else []
            if not items:
                break
            if lease is not None:
                lease.carrying(OutboxItem, [i.id for i in items])

            def batch_progress(_what: str, done: int, _total: int | None) -> None:
                if lease is not None:
                    lease.check()  # no further batch once the lease is in doubt
                if progress is not None:
                    progress("write", sent + done, max(total, sent + len(items)))

            try:
                results = connector.push([FieldUpdate(i.object, i.crm_id, outbox.item_values(i))
                                          for i in items],
                                         progress=batch_progress)
            except CrmError as exc:
                if not exc.unanswered:  # the CRM answered (or it never went): nothing is landing
                    with services.session() as session:
                        outbox.release(session, [session.merge(i) for i in items])
                # else no answer (a timeout, a dropped connection): the batch may still land, so
                # the items stay "sending" and are settled against the CRM once their time is over
                raise
            finally:
                if lease is not None:
                    lease.landed(OutboxItem, [i.id for i in items])
            _record_results(services, connection_id, items, results, now, result)
    except CrmError as exc:
        result.stopped, result.action = str(exc), exc.action
        _count(result, exc.code)
    return result


def _claim_size(connector: Connector, pending: int) -> int:
    """Items per push when ``pending`` are due as the flush starts: the connector's
    ``write_claim_size(pending)`` when it has one (a CRM's bulk API wants big jobs once many are
    due), else a few of its largest batches."""
    sized = getattr(connector, "write_claim_size", None)
    return sized(pending) if sized is not None else connector.write_batch_size * BATCHES_PER_CLAIM


def _record_results(services: Services, connection_id: int, items: Sequence[OutboxItem],
                    results: Sequence[Any], now: datetime, result: FlushResult) -> None:
    """Apply the CRM's per-record verdicts: confirmed items leave the outbox and their values
    become the CRM's known values; failed ones back off or park."""
    by_key = {(r.object, r.id): r for r in results}
    settings = services.settings
    confirmed, failed = [], []
    for item in items:
        ok = getattr(by_key.get((item.object, item.crm_id)), "ok", False)
        (confirmed if ok else failed).append(item)
    with services.session() as session:
        held = crm_values_by_key(session, connection_id, [(i.object, i.crm_id) for i in confirmed])
        updates = [{"id": held[key][0], "crm_values": {**held[key][1], **item.values}}
                   for item in confirmed if (key := (item.object, item.crm_id)) in held]
        update_rows(session, RecordState, updates)
        outbox.mark_done(session, confirmed)
        for item in failed:
            verdict = by_key.get((item.object, item.crm_id))
            code = (verdict.error_code if verdict else None) or "NO_RESULT"
            message = (verdict.message if verdict else None) or "the CRM returned no result"
            final = verdict is not None and verdict.action is Action.FAIL_RECORD
            status = outbox.mark_failed(session, session.merge(item), code=code, message=message,
                                        max_attempts=settings.outbox_max_attempts,
                                        backoff_seconds=settings.outbox_backoff_seconds, now=now,
                                        final=final)
            result.failed += 1
            result.parked += status == "parked"
            _count(result, code)
    result.written += len(confirmed)


def _reconcile(services: Services, connection_id: int, connector: Connector, now: datetime,
               result: FlushResult) -> None:
    """Settle items a dead process left in ``sending`` by reading the CRM's current values, once
    no batch carrying them can still land (younger ones wait for a later flush)."""
    with services.session() as session:
        items = outbox.in_flight(session, connection_id)
    if not items:
        return
    wanted: dict[str, list[str]] = defaultdict(list)
    for item in items:
        wanted[item.object].append(item.crm_id)
    current = {(r.object, r.id): dict(r.writeback) for r in connector.pull(None, ids=dict(wanted))}
    with services.session() as session:
        confirmed = []
        for item in items:
            item = session.merge(item)
            values = outbox.item_values(item)
            held = current.get((item.object, item.crm_id))
            desired = {k: v for k, v in values.items() if k != "journey_updated_at"}
            if held is not None and not plan_writeback(desired, held, now):
                confirmed.append(item)
            else:
                item.status = "pending"
                session.add(item)
        rows = states_by_key(session, connection_id, [(i.object, i.crm_id) for i in confirmed])
        for item in confirmed:
            row = rows.get((item.object, item.crm_id))
            if row is not None:
                row.crm_values = {**(row.crm_values or {}),
                                  **values_to_json(current[(item.object, item.crm_id)])}
                session.add(row)
        outbox.mark_done(session, confirmed)
    result.reconciled += len(confirmed)


def _count(result: FlushResult, code: str | None) -> None:
    key = code or "ERROR"
    result.errors[key] = result.errors.get(key, 0) + 1
