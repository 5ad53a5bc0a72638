"""Holding a connection's work lease for the length of a block of work.

Lease owners are named ``kind:host:pid[:tag]``. A lease whose owner ran on this host and whose
process is gone (killed, crashed) is taken over at once instead of waiting for it to expire.
"""
from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from typing import Iterator

from integration.services import Services
from integration.store.connections import (acquire_lease, lease_holder, release_lease,
                                           take_over_lease)


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
    """Run the block holding the connection's lease; raise :class:`Busy` if a live owner has it."""
    seconds = services.settings.lease_seconds
    with services.session() as session:
        if not acquire_lease(session, connection_id, owner, seconds):
            holder = lease_holder(session, connection_id)
            if not (holder and _dead_here(holder)
                    and take_over_lease(session, connection_id, holder, owner, seconds)):
                raise Busy(f"connection {connection_id} is busy: {holder or 'another process'} "
                           "holds it; try again when it finishes")
    try:
        yield
    finally:
        with services.session() as session:
            release_lease(session, connection_id, owner)
