"""Owner names: the CRM's names for the owner ids records hold, asked once per new id."""
from __future__ import annotations

import logging

from connectors.base import Connector, CrmError
from integration.services import Services
from integration.store.owners import owner_names, save_owner_names, unnamed_owner_ids

log = logging.getLogger("journey.sync")


def name_owners(services: Services, connection_id: int, connector: Connector, *,
                refresh: bool = False) -> int:
    """Ask the CRM for the names of owners the store has no name for (all of them when
    ``refresh``: a full sync picks up renamed users). Returns how many names were stored.

    A CRM failure here only leaves ids unnamed until the next sync: pages show the id meanwhile.
    """
    with services.session() as session:
        ids = unnamed_owner_ids(session, connection_id)
        if refresh:
            ids = sorted(set(ids) | set(owner_names(session, connection_id)))
    if not ids:
        return 0
    try:
        names = connector.owner_names(ids)
    except CrmError as exc:
        log.warning("connection %s: owner names not resolved (%s)", connection_id, exc.code)
        return 0
    with services.session() as session:
        save_owner_names(session, connection_id, names)
    return len(names)
