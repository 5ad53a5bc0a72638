"""Holding a connection's work lease for the length of a block of work.

Lease owners are named ``kind:host:pid[:tag]``. A lease whose owner ran on this host and whose
process is gone (killed, crashed) is taken over at once instead of waiting for it to expire.

Taking a lease over does not end what its old holder sent: a batch it handed the CRM just before
it died (or before it lost its lease without knowing, stalled or cut off from the database) may
still land. So writes are fenced: a holder claims outbox items and tasks only while the database
says it holds the lease (:func:`integration.store.connections.holds_lease`, in the claim's own
transaction), stops between batches once it cannot confirm its lease, and keeps what it has in
flight stamped as such on every renewal. A new holder leaves items ``sending`` until they are
older than :attr:`integration.config.Settings.in_flight_seconds`, and only then asks the CRM what
landed, so nothing is sent twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Collection, Iterator

from sqlalchemy import update
from sqlmodel import Session

from integration.services import Services
from integration.store.bulk import one_of
from integration.store.connections import (acquire_lease, holds_lease, lease_holder,
                                           release_lease, renew_lease, take_over_lease)
from integration.store.models import CrmTask, OutboxItem
from integration.store.types import utcnow

log = logging.getLogger("journey.lease")


class Busy(RuntimeError):
    """Another live process holds the connection's lease."""


class LeaseLost(RuntimeError):
    """This process can no longer confirm it holds the connection's lease: it sends nothing more."""


def process_owner(kind: str) -> str:
    """A lease owner name that says which process holds it."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


def settled_before(services: Services, now: datetime | None = None) -> datetime:
    """Items and tasks ``sending`` since before this instant can no longer be landing in the CRM."""
    return (now or utcnow()) - timedelta(seconds=services.settings.in_flight_seconds)


@dataclass
class Lease:
    """A lease this process holds: who, for how long, and what it has in flight under it."""

    connection_id: int
    owner: str
    seconds: int
    #: ``time.monotonic()`` before the last write that confirmed the lease in the database.
    confirmed_at: float = field(default_factory=time.monotonic)
    lost: threading.Event = field(default_factory=threading.Event)
    _in_flight: dict[type, set[int]] = field(default_factory=lambda: {OutboxItem: set(),
                                                                      CrmTask: set()})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        """Raise :class:`LeaseLost` unless the lease is ours and confirmed within its length."""
        if self.lost.is_set() or time.monotonic() - self.confirmed_at >= self.seconds:
            self.lost.set()
            raise LeaseLost(f"lost the lease on connection {self.connection_id}; "
                            "what is in flight is settled by the next holder")

    def carrying(self, model: type, ids: Collection[int]) -> None:
        """Note rows of ``model`` (outbox items, tasks) just claimed ``sending`` under this lease."""
        with self._lock:
            self._in_flight[model].update(ids)

    def landed(self, model: type, ids: Collection[int]) -> None:
        """Their outcome is recorded (or they were left for the next holder): stop stamping them."""
        with self._lock:
            self._in_flight[model].difference_update(ids)

    def in_flight(self) -> dict[type, list[int]]:
        """Ids in flight now, per model."""
        with self._lock:
            return {model: sorted(ids) for model, ids in self._in_flight.items()}


def fence(session: Session, lease: Lease | None) -> None:
    """Before a claim in ``session``'s transaction: raise :class:`LeaseLost` unless ``lease`` (if
    any: work outside a lease, such as tests, is not fenced) is still ours in the database."""
    if lease is None:
        return
    lease.check()
    if not holds_lease(session, lease.connection_id, lease.owner):
        lease.lost.set()
        raise LeaseLost(f"connection {lease.connection_id}'s lease passed to another holder")


def _dead_here(owner: str) -> bool:
    """Whether ``owner`` names a process of this host that no longer runs."""
    parts = owner.split(":")
    if len(parts) < 3 or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def leased(services: Services, connection_id: int, owner: str) -> Iterator[Lease]:
    """Run the block holding the connection's lease; raise :class:`Busy` if a live owner has it.

    The lease lasts ``lease_seconds`` and is renewed every third of that while the block runs, so
    it lapses soon after its process dies however long the work takes. Each renewal also stamps
    the outbox items and tasks the block has in flight, so a next holder waits for them.
    """
    seconds = services.settings.lease_seconds
    lease = Lease(connection_id, owner, seconds)
    _acquire(services, connection_id, owner, seconds)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(services, lease, stop),
                               name=f"lease-{connection_id}", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join()
        with services.session() as session:
            release_lease(session, connection_id, owner)


#: Rounds of take-or-look before giving up: a lease can lapse, be released or change hands
#: between the failed take and the look at its holder; each round that sees that tries again.
_ACQUIRE_ROUNDS = 3


def _acquire(services: Services, connection_id: int, owner: str, seconds: int) -> None:
    """Take the lease, or take it over from a holder that died on this host; raise :class:`Busy`
    when a live process holds it."""
    holder = None
    for _ in range(_ACQUIRE_ROUNDS):
        with services.session() as session:
            if acquire_lease(session, connection_id, owner, seconds):
                return
            holder = lease_holder(session, connection_id)
            if holder is None:
                continue  # it lapsed or was released since the take failed
            if not _dead_here(holder):
                break
            if take_over_lease(session, connection_id, holder, owner, seconds):
                return
    raise Busy(f"connection {connection_id} is busy: {holder or 'another process'} "
               "holds it; try again when it finishes")


def _renew(services: Services, lease: Lease, stop: threading.Event) -> None:
    while not stop.wait(lease.seconds / 3):
        try:
            confirmed = time.monotonic()
            with services.session() as session:
                if not renew_lease(session, lease.connection_id, lease.owner, lease.seconds,
                                   commit=False):
                    lease.lost.set()
                    return  # taken over, or the connection was deleted
                _stamp_in_flight(session, lease, services.settings.in_flight_seconds)
                session.commit()
            lease.confirmed_at = confirmed
        except Exception:  # a database hiccup: the next beat tries again before the lease lapses
            log.warning("could not renew the lease on connection %s", lease.connection_id,
                        exc_info=True)


def _stamp_in_flight(session: Session, lease: Lease, in_flight_seconds: float) -> None:
    """Mark what the holder still has in flight as fresh: a next holder leaves it alone."""
    now = utcnow()
    carried = lease.in_flight()
    if carried[OutboxItem]:
        session.execute(update(OutboxItem).where(
            one_of(session, OutboxItem.id, carried[OutboxItem]), OutboxItem.status == "sending")
            .values(updated_at=now, next_attempt_at=now + timedelta(seconds=in_flight_seconds)))
    if carried[CrmTask]:
        session.execute(update(CrmTask).where(
            one_of(session, CrmTask.id, carried[CrmTask]), CrmTask.status == "sending")
            .values(updated_at=now))
