"""What the store holds about records, offered to connectors so they skip re-reading it."""
from __future__ import annotations

from typing import Mapping, Sequence

from sqlmodel import select

from integration.services import Services
from integration.store.bulk import one_of
from integration.store.models import RecordState
from mapping.records import CrmRecord
from mapping.serialize import record_from_dict


class StoredRecords:
    """The :class:`connectors.base.PriorRecords` of one connection: records as last stored."""

    def __init__(self, services: Services, connection_id: int) -> None:
        self.services = services
        self.connection_id = connection_id

    def get(self, object: str, ids: Sequence[str]) -> Mapping[str, CrmRecord]:
        """Stored records of kind ``object`` among ``ids``, by id."""
        if not ids:
            return {}
        with self.services.session() as session:
            rows = session.exec(select(RecordState.crm_id, RecordState.record).where(
                RecordState.connection_id == self.connection_id, RecordState.object == object,
                one_of(session, RecordState.crm_id, ids)))
            return {crm_id: record_from_dict(record) for crm_id, record in rows}
