"""``SalesforceConnector``: the Connector protocol over simple-salesforce."""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, Sequence

from connectors.base import (
    ApiUsage, ConfigError, CrmStage, FieldUpdate, Progress, ProvisionedField, WriteResult,
)
from connectors.salesforce import provision as provisioning
from connectors.salesforce import soql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.pull import Puller
from connectors.salesforce.push import BATCH, Pusher
from connectors.salesforce.settings import parse_settings
from mapping.records import CrmRecord

OBJECTS = ("opportunity", "lead", "contact")


class SalesforceConnector:
    """Reads opportunities, leads and contacts and writes journey fields back into Salesforce.

    ``settings``: instance_url, access_token, refresh_token, client_id, client_secret, login_url,
    ca_file, api_version ("68.0"), quota_share (0.5), field_names (canonical -> API name),
    contact_stage_field, permission_set. ``on_tokens`` receives refreshed tokens.
    """

    crm = "salesforce"
    write_batch_size = BATCH

    def __init__(self, settings: Mapping[str, Any],
                 on_tokens: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.settings = parse_settings(settings)
        self.usage = ApiUsage()
        self.client = SalesforceClient(self.settings, self.usage, on_tokens)
        self.api_names = self.settings.api_names
        self._readable: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SalesforceConnector {self.settings.instance_url}>"

    @property
    def stopped(self) -> str | None:
        """Why the last call stopped at the quota ceiling, if it did."""
        return self.client.ceiling_stop

    # -------------------------------------------------------------------------- protocol
    def objects(self) -> Sequence[str]:
        """The object kinds pulled, in order."""
        return list(OBJECTS)

    def pull(self, since: datetime | None = None, *, ids: Mapping[str, Sequence[str]] | None = None,
             progress: Progress | None = None) -> Iterator[CrmRecord]:
        """Records modified at or after ``since`` (all when None), or exactly ``ids`` per kind."""
        unknown = sorted(set(ids or {}) - set(OBJECTS))
        if unknown:
            raise ConfigError(f"Salesforce has no object kind {', '.join(unknown)}; known: {', '.join(OBJECTS)}",
                              code="INVALID_TYPE")
        puller = Puller(self.client, api_names=self.api_names, readable=self._readable_fields,
                        url_of=self.record_url, contact_stage_field=self.settings.contact_stage_field)
        for kind in OBJECTS:
            if ids is not None and not ids.get(kind):
                continue
            yield from puller.pull(kind, since, ids.get(kind) if ids is not None else None, progress)

    def stages(self) -> list[CrmStage]:
        """Opportunity stages (OpportunityStage) and lead statuses (LeadStatus), in CRM order."""
        out = [CrmStage(object="opportunity", value=r["ApiName"], label=r["MasterLabel"], order=r["SortOrder"],
                        is_closed=bool(r["IsClosed"]), is_won=bool(r["IsWon"]))
               for page in self.client.query("SELECT ApiName, MasterLabel, SortOrder, IsClosed, IsWon FROM "
                                             "OpportunityStage WHERE IsActive = true ORDER BY SortOrder")
               for r in page["records"]]
        for page in self.client.query("SELECT ApiName, MasterLabel, SortOrder, IsConverted FROM LeadStatus "
                                      "ORDER BY SortOrder"):
            for r in page["records"]:
                # LeadStatus has no IsClosed flag; Salesforce's convention is a "Closed" prefix.
                closed = bool(r["IsConverted"]) or str(r["MasterLabel"]).lower().startswith("closed")
                out.append(CrmStage(object="lead", value=r["ApiName"], label=r["MasterLabel"], order=r["SortOrder"],
                                    is_closed=closed, is_won=bool(r["IsConverted"])))
        return out

    def provision(self) -> list[ProvisionedField]:
        """Create the write-back fields and grant the integration user access (idempotent)."""
        fields = provisioning.provision(self.client, self.api_names, self.settings.permission_set)
        with self._lock:
            self._readable.clear()
        return fields

    def push(self, updates: Sequence[FieldUpdate], *, progress: Progress | None = None) -> list[WriteResult]:
        """Write ``updates`` 200 per call; one result per update, in order."""
        return Pusher(self.client, self.api_names).push(updates, progress)

    def record_url(self, object: str, id: str) -> str | None:
        """The Lightning page of a record."""
        sobject = soql.SOBJECTS.get(object)
        return f"{self.settings.instance_url}/lightning/r/{sobject}/{id}/view" if sobject else None

    # --------------------------------------------------------------------------- helpers
    def _readable_fields(self, sobject: str) -> set[str]:
        with self._lock:
            cached = self._readable.get(sobject)
        if cached is None:
            describe = self.client.rest(f"GET sobjects/{sobject}/describe", f"sobjects/{sobject}/describe")
            cached = {f["name"] for f in describe["fields"]}
            with self._lock:
                self._readable[sobject] = cached
        return cached
