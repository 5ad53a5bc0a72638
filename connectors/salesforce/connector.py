"""``SalesforceConnector``: the Connector protocol over simple-salesforce."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, Sequence

from connectors.base import (
    AccountIdentity, ApiUsage, ConfigError, CrmError, CrmStage, FieldUpdate, MemoryCache, MetadataCache,
    PriorRecords, Progress, ProvisionedField, Pulled, TaskResult, TaskSpec, WriteResult, batched,
)
from connectors.salesforce import provision as provisioning
from connectors.salesforce import composite, soql
from connectors.salesforce import tasks as task_records
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.pull import Cursor, Puller
from connectors.salesforce.push import BULK_JOB_RECORDS, Pusher
from connectors.salesforce.settings import parse_settings
from mapping.records import CrmRecord

OBJECTS = ("opportunity", "lead", "contact")
#: Ids per ``User`` query when resolving owner names (keeps the SOQL text well under its limit).
OWNER_CHUNK = 200


class SalesforceConnector:
    """Reads opportunities, leads and contacts and writes journey fields back into Salesforce.

    ``settings``: instance_url, access_token, refresh_token, client_id, client_secret, login_url,
    ca_file, api_version ("68.0"), quota_share (0.5), field_names (canonical -> API name),
    contact_stage_field, permission_set. ``on_tokens`` receives refreshed tokens; ``cache``
    keeps object describes between syncs.
    """

    crm = "salesforce"
    write_batch_size = composite.RECORDS_PER_CALL

    def __init__(self, settings: Mapping[str, Any],
                 on_tokens: Callable[[dict[str, Any]], None] | None = None, *,
                 cache: MetadataCache | None = None) -> None:
        self.settings = parse_settings(settings)
        self.usage = ApiUsage()
        self.client = SalesforceClient(self.settings, self.usage, on_tokens)
        self.api_names = self.settings.api_names
        self.cache = cache if cache is not None else MemoryCache()
        #: The last full or incremental pull (a targeted one by ids never goes through Bulk).
        self._puller: Puller | None = None

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
             progress: Progress | None = None, cursor: Any = None,
             prior: PriorRecords | None = None) -> Pulled:
        """Records changed after ``cursor`` (else at or after ``since``; all when both are None),
        or exactly ``ids`` per kind. The result's ``cursor`` is where the next pull starts."""
        unknown = sorted(set(ids or {}) - set(OBJECTS))
        if unknown:
            raise ConfigError(f"Salesforce has no object kind {', '.join(unknown)}; known: {', '.join(OBJECTS)}",
                              code="INVALID_TYPE")
        position = Cursor(cursor if isinstance(cursor, Mapping) else None)
        puller = Puller(self.client, api_names=self.api_names, readable=self._readable_fields,
                        url_of=self.record_url, contact_stage_field=self.settings.contact_stage_field,
                        cursor=position, prior=prior, bulk_threshold=self.settings.bulk_threshold)
        if ids is None:
            self._puller = puller
        return Pulled(self._pull(puller, since, ids, progress), position.to_json)

    def _pull(self, puller: Puller, since: datetime | None, ids: Mapping[str, Sequence[str]] | None,
              progress: Progress | None) -> Iterator[CrmRecord]:
        try:
            if ids is None:
                puller.open_queries(OBJECTS, since)
            for kind in OBJECTS:
                if ids is not None and not ids.get(kind):
                    continue
                yield from puller.pull(kind, since, ids.get(kind) if ids is not None else None, progress)
        finally:
            puller.close()

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

    def provision(self, choices: Mapping[str, Sequence[tuple[str, str]]] | None = None
                  ) -> list[ProvisionedField]:
        """Create the write-back fields and grant the integration user access (idempotent);
        ``choices`` sets the values of the restricted picklists (see ``provision.provision``)."""
        fields = provisioning.provision(self.client, self.api_names, self.settings.permission_set,
                                        choices)
        self.cache.clear()
        # The describes after the grants show whether the integration user sees every write-back
        # field; kept in the cache, they serve the first sync that follows.
        readable = self._describe([soql.SOBJECTS[kind] for kind in OBJECTS])
        unseen = [f"{sobject}.{name}" for sobject, names in readable.items()
                  for name in self.api_names.values() if name not in names]
        if unseen:
            raise CrmError(f"Salesforce does not show the integration user {', '.join(unseen)} after "
                           f"provisioning: check the field-level security of {self.settings.permission_set}",
                           code="FIELD_NOT_VISIBLE")
        return fields

    def push(self, updates: Sequence[FieldUpdate], *, progress: Progress | None = None) -> list[WriteResult]:
        """Write ``updates`` 1,000 per call (five collections of 200 in one composite request);
        one result per update, in order."""
        return Pusher(self.client, self.api_names).push(updates, progress)

    def write_claim_size(self, pending: int) -> int:
        """Updates per push when ``pending`` are due (or, while a pull goes on, read so far):
        one Bulk API ingest job's worth (``BULK_JOB_RECORDS``, which keeps the flush's memory
        bounded) once ``bulk_threshold`` are due or this connector's pull went through Bulk (its
        write-back is as big: the writes flushed during that pull go in jobs from the start);
        else one composite call's worth (1,000)."""
        threshold = self.settings.bulk_threshold
        big = pending >= threshold or (self._puller is not None and self._puller.went_bulk)
        return BULK_JOB_RECORDS if threshold and big else composite.RECORDS_PER_CALL

    def identify(self) -> AccountIdentity:
        """The org's id and name, from its one ``Organization`` row (one SOQL call)."""
        page = next(self.client.query("SELECT Id, Name FROM Organization"))
        org = page["records"][0]
        return AccountIdentity(str(org["Id"]), str(org.get("Name") or org["Id"]))

    def owner_names(self, ids: Sequence[str]) -> dict[str, str]:
        """Names of the users (or queues) ``ids``: ``User.Name``, 200 ids a query."""
        names: dict[str, str] = {}
        for chunk in batched(sorted(set(ids)), OWNER_CHUNK):
            for page in self.client.query(f"SELECT Id, Name FROM User WHERE Id IN {soql.id_list(chunk)}"):
                names.update({r["Id"]: r["Name"] for r in page["records"] if r.get("Name")})
        return names

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskResult]:
        """``Task`` records for the records' owners, 1,000 a call (see ``connectors.salesforce.tasks``)."""
        return task_records.create_tasks(self.client, tasks)

    def find_tasks(self, keys: Sequence[str]) -> dict[str, str]:
        """Ids of tasks already carrying these keys."""
        return task_records.find_tasks(self.client, keys)

    def record_url(self, object: str, id: str) -> str | None:
        """The Lightning page of a record."""
        sobject = soql.SOBJECTS.get(object)
        return f"{self.settings.instance_url}/lightning/r/{sobject}/{id}/view" if sobject else None

    # --------------------------------------------------------------------------- helpers
    def _readable_fields(self, sobject: str) -> set[str]:
        """The fields of ``sobject`` the integration user can read (its describe, cached).

        A describe missing from the cache is read with those of the other pulled objects also
        missing, in one composite call: a sync needs them all, and they expire together."""
        cached = self.cache.get(_describe_key(sobject))
        if cached is not None:
            return set(cached)
        wanted = dict.fromkeys([sobject, *(soql.SOBJECTS[kind] for kind in OBJECTS)])
        return self._describe([name for name in wanted
                               if name == sobject or self.cache.get(_describe_key(name)) is None])[sobject]

    def _describe(self, sobjects: Sequence[str]) -> dict[str, set[str]]:
        """Read the describes of ``sobjects`` in one composite call and keep their field names."""
        out = {}
        for name, describe in composite.get_each(self.client, "POST composite sobjects/describe", {
                name: f"sobjects/{name}/describe" for name in sobjects}).items():
            fields = sorted(f["name"] for f in describe["fields"])
            self.cache.put(_describe_key(name), fields)
            out[name] = set(fields)
        return out


def _describe_key(sobject: str) -> str:
    return f"describe/{sobject}/fields"
