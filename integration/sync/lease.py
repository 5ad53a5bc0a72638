"""Holding a connection's work lease for the length of a block of work.

Lease owners are named ``kind:host:pid[:tag]``. A lease whose owner ran on this host and whose
process is gone (killed, crashed) is taken over at once instead of waiting for it to expire.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import contextmanager
from typing import Iterator

from integration.services import Services
from integration.store.connections import (acquire_lease, lease_holder, release_lease,
                                           renew_lease, take_over_lease)

log = logging.getLogger("journey.lease")


class Busy(RuntimeError):
    """Another live process holds the connection's lease."""


def process_owner(kind: str) -> str:
    """A lease owner name that says which process holds it."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


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
def leased(services: Services, connection_id: int, owner: str) -> Iterator[None]:
    """Run the block holding the connection's lease; raise :class:`Busy` if a live owner has it.

    The lease lasts ``lease_seconds`` and is renewed every third of that while the block runs, so
    it lapses soon after its process dies however long the work takes.
    """
    seconds = services.settings.lease_seconds
    with services.session() as session:
        if not acquire_lease(session, connection_id, owner, seconds):
            holder = lease_holder(session, connection_id)
            if not (holder and _dead_here(holder)
                    and take_over_lease(session, connection_id, holder, owner, seconds)):
                raise Busy(f"connection {connection_id} is busy: {holder or 'another process'} "
                           "holds it; try again when it finishes")
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(services, connection_id, owner, stop),
                               name=f"lease-{connection_id}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        with services.session() as session:
            release_lease(session, connection_id, owner)


def _renew(services: Services, connection_id: int, owner: str, stop: threading.Event) -> None:
    seconds = services.settings.lease_seconds
    while not stop.wait(seconds / 3):
        try:
            with services.session() as session:
                if not renew_lease(session, connection_id, owner, seconds):
                    return  # taken over, or the connection was deleted
        except Exception:  # a database hiccup: the next beat tries again before the lease lapses
            log.warning("could not renew the lease on connection %s", connection_id, exc_info=True)
