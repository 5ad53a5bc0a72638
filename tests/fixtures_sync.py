"""Sync fixtures: a sandbox CRM connected, provisioned and synced once, for each CRM.

``synced_world`` (module scope, once per CRM: Salesforce and HubSpot) starts the CRM's sandbox
with the small demo book, connects it in a workspace named after the module, applies the module's
map (its ``SYNC_MAP`` function, or the default map), provisions the fields and runs the first
sync, which must succeed. Modules that build on one synced connection share this set-up instead
of each repeating it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import pytest

from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import SyncSummary, sync_connection
from mapping import default_map_text
from tests.sync.crms import SandboxCrm, small_book, start_crm


@dataclass
class SyncedWorld:
    """A running sandbox, its connection, and the connection's first sync."""

    crm: SandboxCrm
    connection_id: int
    first: SyncSummary


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def synced_world(request, services) -> Iterator[SyncedWorld]:
    """A sandbox of each CRM connected, provisioned and synced once under the module's map."""
    crm = start_crm(request.param, small_book(utcnow()))
    name = f"{request.module.__name__.rsplit('.', 1)[-1]}-{request.param}"
    map_text = getattr(request.module, "SYNC_MAP", default_map_text)()
    try:
        with services.session() as s:
            tenant = get_or_create_tenant(s, name)
            conn = connect(s, services, tenant_id=tenant.id, name=name, crm=request.param,
                           values=crm.settings())
            apply_map(s, conn.id, map_text, author="test", comment="the module's map")
            connection_id = conn.id
        provision(services, connection_id)
        first = sync_connection(services, connection_id)
        assert first.status == "succeeded", (first.message, first.errors)
        yield SyncedWorld(crm, connection_id, first)
    finally:
        crm.stop()
