"""The whole product running on this machine: both sandboxes with the demo book, the service on a
free port with its worker, a tenant with an admin token and a web user.

Module-scoped: a module that needs a fresh world gets one; tests inside a module share it.
"""
from __future__ import annotations

import socket

import pytest

from integration.demo.run import DEMO_USER, prepare_demo, start_service


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    """A dict: base_url, token, email, password, services, sandboxes, connections (crm -> id)."""
    demo = prepare_demo(tmp_path_factory.mktemp("live"), free_port(), sync_interval_seconds=3600)
    running = start_service(demo.services)
    yield {"base_url": running.base_url, "token": demo.token, "email": DEMO_USER,
           "password": demo.password, "services": demo.services, "sandboxes": demo.sandboxes,
           "connections": demo.connections, "summary": demo.summary, "running": running}
    running.stop()
    demo.stop()
