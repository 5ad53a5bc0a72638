"""The whole product running on this machine: both sandboxes with the demo book, the service on a
free port with its worker, a tenant with an admin token and a web user.

Module-scoped: a module that needs a fresh world gets one; tests inside a module share it.
"""
from __future__ import annotations

import socket

import pytest

from integration.demo.run import DEMO_USER, prepare_demo, start_service


def held_port() -> socket.socket:
    """A listening socket on a free port, held until the service serves it.

    Binding a port, closing it and binding it again minutes later lost the port now and then to
    an outgoing connection of the first sync, which the kernel gave it as its local port."""
    return socket.create_server(("127.0.0.1", 0))


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    """A dict: base_url, token, email, password, services, sandboxes, connections (crm -> id)."""
    listener = held_port()
    demo = prepare_demo(tmp_path_factory.mktemp("live"), listener.getsockname()[1],
                        sync_interval_seconds=3600)
    running = start_service(demo.services, listener=listener)
    yield {"base_url": running.base_url, "token": demo.token, "email": DEMO_USER,
           "password": demo.password, "services": demo.services, "sandboxes": demo.sandboxes,
           "connections": demo.connections, "summary": demo.summary, "running": running}
    running.stop()
    listener.close()
    demo.stop()
