"""``HubSpotConnector``: pull deals and contacts, list stages, provision and push write-back values."""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from connectors.actions import Action
from connectors.base import (ACCOUNT_SETTING, AccountIdentity, ApiUsage, ConfigError, CrmError,
                             CrmStage, FieldUpdate, MemoryCache, MetadataCache, PriorRecords,
                             Progress, ProvisionedField, Pulled, TaskResult, TaskSpec, WriteResult,
                             batched, default_choices)
from connectors.rest import BatchSink, paginate
from mapping.records import CrmRecord, StageChange

from . import tasks as hs_tasks
from .api import MAX_ATTEMPTS, HubSpotSession
from .errors import record_action
from .properties import (GROUP_LABEL, GROUP_NAME, MODIFIED_PROPERTY, NAME_PROPERTIES, OBJECT_PATHS,
                         OBJECT_TYPE_IDS, OBJECTS, SALESFORCE_ID_PROPERTIES, STAGE_PROPERTY,
                         PropertyMap, WritebackProperty, enumeration_options, to_hubspot_value)
from .ratelimit import RateBudget
from .settings import DEFAULT_SEARCH_OVERLAP_SECONDS
from .records import current_stage_entered, history_from_entries, stage_date_properties, to_record

SEARCH_PAGE = 200
#: Records read in the overlap that the cursor remembers, to drop them when they come back
#: unchanged (a write-back of 20,000 records inside one overlap); a busier overlap is handed on
#: again in full (the service writes nothing for records that did not change).
MAX_REMEMBERED = 20_000
BATCH_READ = 100
BATCH_READ_WITH_HISTORY = 50
WRITE_BATCH = 100
OWNERS_PAGE = 500


def _ms(moment: datetime) -> str:
    """Epoch milliseconds, HubSpot's datetime filter value; a naive datetime is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return str(int(aware.timestamp() * 1000))


class HubSpotConnector:
    """The HubSpot side of Journey Sync, built on hubspot-api-client (see ``connectors.base``).

    ``settings``: ``base_url`` (default https://api.hubapi.com), ``access_token``, and for OAuth
    ``refresh_token``, ``client_id``, ``client_secret``, ``expires_at``; optional ``portal_id`` and
    ``property_names`` (canonical name -> property name), ``search_overlap_seconds`` (60).
    ``on_tokens`` receives refreshed tokens.
    ``rate_budget`` is shared by every connector of the portal in the process; ``max_attempts``
    bounds the tries of one call on 429 and 5xx answers; ``cache`` keeps the pipelines, stage
    lists and portal id between syncs.
    """

    crm = "hubspot"
    write_batch_size = WRITE_BATCH

    def __init__(self, settings: Mapping[str, Any],
                 on_tokens: Callable[[dict[str, Any]], None] | None = None, *,
                 rate_budget: RateBudget | None = None, max_attempts: int = MAX_ATTEMPTS,
                 cache: MetadataCache | None = None) -> None:
        self.usage = ApiUsage()
        self.cache = cache if cache is not None else MemoryCache()
        self.names = PropertyMap(settings.get("property_names"))
        self.session = HubSpotSession(settings, on_tokens, rate_budget or RateBudget(), self.usage,
                                      max_attempts=max_attempts)
        portal = settings.get(ACCOUNT_SETTING) or settings.get("portal_id")
        self._portal_id: str | None = str(portal) if portal else None
        overlap = settings.get("search_overlap_seconds")
        self.search_overlap = timedelta(seconds=float(
            DEFAULT_SEARCH_OVERLAP_SECONDS if overlap in (None, "") else overlap))

    def __repr__(self) -> str:
        return f"HubSpotConnector(base_url={self.session.base_url!r})"

    def objects(self) -> Sequence[str]:
        """Deals, then contacts."""
        return list(OBJECTS)

    # --------------------------------------------------------------------------------- stages
    def _pipelines(self) -> list[Any]:
        response = self.session.call("GET /crm/v3/pipelines/deals", "pipelines", "get_all", "deals")
        return sorted(response.results, key=lambda p: p.display_order)

    def stages(self) -> list[CrmStage]:
        """Deal pipeline stages (closed/won from stage metadata), then contact lifecycle stages.

        Kept in the metadata cache: every sync needs the stage ids to ask for their dates.
        """
        return [stage for obj in OBJECTS for stage in self._cached_stages(obj)]

    def _cached_stages(self, obj: str) -> list[CrmStage]:
        """One object's stages, from the cache (each object apart: a pull of contacts alone, or
        provisioning, which reads the lifecycle property anyway, fills only its own)."""
        key = f"stages:{obj}"
        cached = self.cache.get(key)
        if cached is None:
            read = self._deal_stages() if obj == "deal" else _lifecycle_stages(self.session.call(
                "GET /crm/v3/properties/contacts/lifecyclestage", "properties", "get_by_name",
                "contacts", "lifecyclestage", raw=True))
            cached = [asdict(stage) for stage in read]
            self.cache.put(key, cached)
        return [CrmStage(**stage) for stage in cached]

    def _deal_stages(self) -> list[CrmStage]:
        result = []
        for pipeline in self._pipelines():
            for stage in sorted(pipeline.stages, key=lambda s: s.display_order):
                metadata = stage.metadata or {}
                closed = metadata.get("isClosed") == "true"
                won = closed and float(metadata.get("probability") or 0) >= 1.0
                result.append(CrmStage("deal", stage.id, stage.label, stage.display_order,
                                       pipeline.id, pipeline.label, closed, won))
        return result

    def _stages_of(self, obj: str) -> list[str]:
        return [stage.value for stage in self._cached_stages(obj)]

    # ---------------------------------------------------------------------------------- pull
    def _read_properties(self, obj: str) -> list[str]:
        base = [STAGE_PROPERTY[obj], MODIFIED_PROPERTY[obj], "createdate", "hs_object_id",
                *NAME_PROPERTIES[obj], *(["pipeline"] if obj == "deal" else []),
                *(prop for _kind, prop in SALESFORCE_ID_PROPERTIES[obj])]
        base += self.names.field_properties(obj).values()
        base += [p.name for p in self.names.writeback_properties(obj)]
        base += stage_date_properties(self._stages_of(obj))
        return list(dict.fromkeys(base))

    def _histories(self, obj: str, ids: list[str]) -> dict[str, tuple[StageChange, ...]]:
        """Stage history from ``propertiesWithHistory``, 50 records a call (HubSpot's cap)."""
        path = OBJECT_PATHS[obj]
        stage = STAGE_PROPERTY[obj]
        histories = {}
        for chunk in batched(ids, BATCH_READ_WITH_HISTORY):
            response = self.session.call(
                f"POST /crm/v3/objects/{path}/batch/read", f"{path}.batch", "read", raw=True,
                batch_read_input_simple_public_object_id={
                    "inputs": [{"id": i} for i in chunk], "properties": [stage],
                    "propertiesWithHistory": [stage]})
            for item in response["results"]:
                entries = (item.get("propertiesWithHistory") or {}).get(stage) or []
                histories[str(item["id"])] = history_from_entries(entries)
        return histories

    def _records(self, obj: str, items: list[dict[str, Any]]) -> Iterator[CrmRecord]:
        """Records of one page; history costs extra calls only where stage dates are missing."""
        lacking = [str(i["id"]) for i in items
                   if current_stage_entered(obj, i.get("properties") or {}) is None]
        histories = self._histories(obj, lacking) if lacking else {}
        for item in items:
            yield to_record(obj, item, self.names, histories.get(str(item["id"])),
                            self.record_url(obj, str(item["id"])))

    def _search_pages(self, obj: str, since: datetime | None
                      ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Pages sorted by id; each page restarts the query after the last id seen, so a walk
        never reaches the 10,000-result cap of one search query."""
        path = OBJECT_PATHS[obj]
        properties = self._read_properties(obj)

        def fetch(last_id: str | None) -> dict[str, Any]:
            filters = []
            if since is not None:
                filters.append({"propertyName": MODIFIED_PROPERTY[obj], "operator": "GTE",
                                "value": _ms(since)})
            if last_id is not None:
                filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": last_id})
            return self.session.call(
                f"POST /crm/v3/objects/{path}/search", f"{path}.search", "do_search", search=True,
                raw=True,
                public_object_search_request={
                    "filterGroups": [{"filters": filters}] if filters else [],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "properties": properties, "limit": SEARCH_PAGE})

        def last_id_of(page: dict[str, Any]) -> str | None:
            if not page["results"] or not (page.get("paging") or {}).get("next"):
                return None
            return str(page["results"][-1]["id"])

        total: int | None = None
        for page in paginate(fetch, last_id_of, what=f"HubSpot {path} search"):
            # Later pages only count what is left after the last id; the first total is the walk's.
            total = page["total"] if total is None else total
            yield page["results"], total

    def _id_pages(self, obj: str, ids: Sequence[str]) -> Iterator[tuple[list[dict[str, Any]], int]]:
        path = OBJECT_PATHS[obj]
        properties = self._read_properties(obj)
        for chunk in batched(list(dict.fromkeys(ids)), BATCH_READ):
            response = self.session.call(
                f"POST /crm/v3/objects/{path}/batch/read", f"{path}.batch", "read", raw=True,
                batch_read_input_simple_public_object_id={
                    "inputs": [{"id": i} for i in chunk], "properties": properties,
                    "propertiesWithHistory": []})
            yield response["results"], len(ids)

    def pull(self, since: datetime | None = None, *, ids: Mapping[str, Sequence[str]] | None = None,
             progress: Progress | None = None, cursor: Any = None,
             prior: PriorRecords | None = None) -> Pulled:
        """Deals and contacts modified at or after the cursor's point (else ``since``; all when
        both are None), or only ``ids``.

        Search is eventually consistent: a record changed shortly before a search may not be
        found by it yet. So the next pull starts ``search_overlap_seconds`` before this one
        began (or at the newest record read, if older), and the cursor remembers the records
        the next pull will find again (up to :data:`MAX_REMEMBERED`) so it drops them when they
        come back unchanged (see :class:`_ReadStamps`). ``prior`` is not needed: search pages
        bring stage dates along.
        """
        started = datetime.now(timezone.utc)
        point = _stored_point(cursor, "since") or since if ids is None else None
        if point is not None and point.tzinfo is None:
            point = point.replace(tzinfo=timezone.utc)  # a naive datetime is taken as UTC
        seen_before: dict[str, str] = dict(cursor.get("seen") or {}) if isinstance(cursor, Mapping) else {}
        stamps = _ReadStamps(started - self.search_overlap)

        def records() -> Iterator[CrmRecord]:
            for obj in OBJECTS:
                if ids is not None and obj not in ids:
                    continue
                pages = self._id_pages(obj, ids[obj]) if ids is not None else self._search_pages(obj, point)
                done = 0
                for items, total in pages:
                    for record in self._records(obj, items):
                        key, stamp = f"{obj}/{record.id}", record.modified_at.isoformat()
                        stamps.note(key, record.modified_at, stamp)
                        if seen_before.get(key) != stamp:
                            yield record
                    done += len(items)
                    if progress:
                        progress(obj, done, total)

        def next_cursor() -> dict[str, Any] | None:
            return None if ids is not None else stamps.cursor(point)

        return Pulled(records(), next_cursor)


    # ----------------------------------------------------------------------------- provision
    def provision(self, choices: Mapping[str, Sequence[tuple[str, str]]] | None = None
                  ) -> list[ProvisionedField]:
        """Create the ``journey`` group and the write-back properties on deals and contacts.

        ``choices`` gives the (value, label) options of the enumeration properties in order;
        an existing property whose options differ is updated, and an option the choices drop
        stays (after the others) while any record still holds it.
        """
        choices = default_choices() if choices is None else choices
        provisioned = []
        for obj in OBJECTS:
            path = OBJECT_PATHS[obj]
            groups = self.session.call(f"GET /crm/v3/properties/{path}/groups", "groups", "get_all",
                                       path)
            if GROUP_NAME not in {g.name for g in groups.results}:
                self._create_tolerating_conflict(
                    f"POST /crm/v3/properties/{path}/groups", "groups", path,
                    property_group_create={"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1})
            existing = {p["name"]: p for p in self.session.call(
                f"GET /crm/v3/properties/{path}", "properties", "get_all", path, raw=True)["results"]}
            if obj == "contact" and "lifecyclestage" in existing:
                # The listing holds the lifecycle stages a first sync needs: no second read.
                self.cache.put("stages:contact", [asdict(stage) for stage in _lifecycle_stages(
                    existing["lifecyclestage"])])
            for definition in self.names.writeback_properties(obj):
                wanted = list((choices or {}).get(definition.canonical, ()))
                if definition.name not in existing:
                    created = self._create_tolerating_conflict(
                        f"POST /crm/v3/properties/{path}", "properties", path,
                        property_create=definition.create_body(wanted))
                else:
                    created = False
                    if definition.type == "enumeration":
                        self._update_options(obj, definition, existing[definition.name], wanted)
                provisioned.append(ProvisionedField(obj, definition.name, definition.label, created))
        return provisioned + [self._provision_task_key()]

    def _provision_task_key(self) -> ProvisionedField:
        """The task property holding a task's key (see ``connectors.hubspot.tasks``)."""
        existing = {p["name"] for p in self.session.call(
            "GET /crm/v3/properties/tasks", "properties", "get_all", "tasks", raw=True)["results"]}
        created = hs_tasks.TASK_KEY_PROPERTY not in existing and self._create_tolerating_conflict(
            "POST /crm/v3/properties/tasks", "properties", "tasks",
            property_create=hs_tasks.TASK_KEY_DEFINITION)
        return ProvisionedField("task", hs_tasks.TASK_KEY_PROPERTY,
                                hs_tasks.TASK_KEY_DEFINITION["label"], created)

    def _update_options(self, obj: str, definition: WritebackProperty, current: Mapping[str, Any],
                        wanted: list[tuple[str, str]]) -> None:
        """PATCH the property when its type or options differ from ``wanted`` (held values kept)."""
        values = {value for value, _ in wanted}
        dropped = [(o["value"], o["label"]) for o in current.get("options") or []
                   if o["value"] not in values]
        options = wanted + [pair for pair in dropped if self._held(obj, definition.name, pair[0])]
        have = [(o["value"], o["label"]) for o in current.get("options") or []]
        if current.get("type") == definition.type and have == options:
            return
        path = OBJECT_PATHS[obj]
        self.session.call(f"PATCH /crm/v3/properties/{path}/{{name}}", "properties", "update", path,
                          definition.name, property_update={
                              "type": definition.type, "fieldType": definition.field_type,
                              "options": enumeration_options(options)})

    def _held(self, obj: str, prop: str, value: str) -> bool:
        """Whether any record of ``obj`` holds ``value`` in ``prop`` (one search, one result)."""
        path = OBJECT_PATHS[obj]
        page = self.session.call(
            f"POST /crm/v3/objects/{path}/search", f"{path}.search", "do_search", search=True,
            raw=True, public_object_search_request={
                "filterGroups": [{"filters": [{"propertyName": prop, "operator": "EQ",
                                               "value": value}]}],
                "properties": [prop], "limit": 1})
        return bool(page["total"])

    def _create_tolerating_conflict(self, route: str, api: str, path: str, **body: Any) -> bool:
        """Create; False when HubSpot says it already exists (another process won the race)."""
        try:
            self.session.call(route, api, "create", path, **body)
        except CrmError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    # ---------------------------------------------------------------------------------- push
    def _properties_for(self, obj: str, values: Mapping[str, Any]) -> dict[str, str]:
        writable = {p.canonical: p.name for p in self.names.writeback_properties(obj)}
        unknown = sorted(set(values) - set(writable))
        if unknown:
            raise ConfigError(f"cannot write {', '.join(map(repr, unknown))}: not a write-back field",
                              code="UNKNOWN_FIELD")
        return {writable[canonical]: to_hubspot_value(value) for canonical, value in values.items()}

    def _write_batch(self, obj: str, batch: list[FieldUpdate]) -> list[WriteResult]:
        """One batch update. Each input carries an ``objectWriteTraceId`` (its record id) so that
        HubSpot answers a record it refuses, such as one breaking a portal validation rule, with
        a per-record error (207) and writes the rest, instead of refusing the whole batch."""
        path = OBJECT_PATHS[obj]
        inputs = [{"id": u.id, "objectWriteTraceId": u.id,
                   "properties": self._properties_for(obj, u.values)} for u in batch]
        try:
            response = self.session.call(
                f"POST /crm/v3/objects/{path}/batch/update", f"{path}.batch", "update", raw=True,
                idempotent=False, batch_input_simple_public_object_batch_input={"inputs": inputs})
        except CrmError as exc:
            if exc.action is not Action.FAIL or exc.unanswered:
                raise
            # HubSpot rejected the whole batch (400): every record carries the reason, and the
            # action stays the batch's (a missing property is the connection's problem, not the
            # record's: the items back off instead of parking at once).
            return [WriteResult(obj, u.id, False, exc.code, exc.message, action=exc.action)
                    for u in batch]
        failed: dict[str, tuple[str, str]] = {}
        for error in response.get("errors") or []:
            context = error.get("context") or {}
            for record_id in (context.get("objectWriteTraceId") or []) + (context.get("ids") or []):
                failed[str(record_id)] = (error.get("category", "UNKNOWN"),
                                          readable_message(error.get("message", "")))
        written = {str(item["id"]) for item in response.get("results") or []}
        results = []
        for update in batch:
            if update.id in failed:
                category, message = failed[update.id]
                results.append(WriteResult(obj, update.id, False, category, message,
                                           action=record_action(category)))
            elif update.id in written:
                results.append(WriteResult(obj, update.id, True))
            else:
                results.append(WriteResult(obj, update.id, False, "NO_RESULT",
                                           "HubSpot returned neither a result nor an error",
                                           action=Action.BACKOFF))
        return results

    def push(self, updates: Sequence[FieldUpdate], *, progress: Progress | None = None
             ) -> list[WriteResult]:
        """Batch-update 100 records a call; 207 partial failures come back per record."""
        by_object: dict[str, list[FieldUpdate]] = {}
        for update in updates:
            by_object.setdefault(update.object, []).append(update)
        results: dict[tuple[str, str], WriteResult] = {}
        for obj, items in by_object.items():
            if obj not in OBJECTS:
                for u in items:
                    results[(obj, u.id)] = WriteResult(obj, u.id, False, "UNKNOWN_OBJECT",
                                                       f"HubSpot connector has no object {obj!r}")
                continue
            sink = BatchSink(WRITE_BATCH, lambda batch, obj=obj: self._write_batch(obj, batch),
                             failed=lambda u, exc: WriteResult(u.object, u.id, False, exc.code,
                                                               exc.message, action=exc.action),
                             split=_unique_batches)
            for update, result in sink.write(items, progress=progress, what=obj):
                results[(obj, update.id)] = result
        return [results[(u.object, u.id)] for u in updates]

    # --------------------------------------------------------------------------------- tasks
    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskResult]:
        """Batch-create tasks 100 a call, each associated with its deal or contact; a batch
        HubSpot rejects (400) fails each of its tasks with the reason."""
        results: dict[str, TaskResult] = {}
        sendable = []
        for task in tasks:
            if task.object in hs_tasks.OBJECT_KINDS:
                sendable.append(task)
            else:
                results[task.key] = TaskResult(task.key, False, error_code="UNKNOWN_OBJECT",
                                               message=f"HubSpot tasks cannot link a {task.object!r}")
        for batch in batched(sendable, hs_tasks.BATCH):
            try:
                answer = self.session.call(
                    "POST /crm/v3/objects/tasks/batch/create", "tasks.batch", "create", raw=True,
                    idempotent=False, batch_input_simple_public_object_batch_input_for_create={
                        "inputs": [hs_tasks.task_input(t) for t in batch]})
            except CrmError as exc:
                if exc.retryable or exc.status in (401, 403) or exc.unanswered:
                    raise
                for task in batch:
                    results[task.key] = TaskResult(task.key, False, error_code=exc.code,
                                                   message=exc.message)
                continue
            for item in answer.get("results") or []:
                key = (item.get("properties") or {}).get(hs_tasks.TASK_KEY_PROPERTY)
                if key:
                    results[key] = TaskResult(key, True, crm_id=str(item["id"]))
        return [results.get(t.key) or TaskResult(t.key, False, error_code="NO_RESULT", retryable=True,
                                                 message="HubSpot returned no result")
                for t in tasks]

    def find_tasks(self, keys: Sequence[str]) -> dict[str, str]:
        """Ids of tasks already carrying these keys (task search on ``journey_task_key``)."""
        found: dict[str, str] = {}
        for chunk in batched(sorted(set(keys)), hs_tasks.FIND_CHUNK):
            page = self.session.call("POST /crm/v3/objects/tasks/search", "tasks.search", "do_search",
                                     search=True, raw=True,
                                     public_object_search_request=hs_tasks.find_request(chunk))
            for item in page["results"]:
                found[item["properties"][hs_tasks.TASK_KEY_PROPERTY]] = str(item["id"])
        return found

    # -------------------------------------------------------------------------------- owners
    def owner_names(self, ids: Sequence[str]) -> dict[str, str]:
        """Names of the owners ``ids`` (those HubSpot knows), from the owners list, 500 a call."""
        wanted, names = set(ids), {}
        after: str | None = None
        while wanted - set(names):
            page = self.session.call("GET /crm/v3/owners/", "owners", "get_page", raw=True,
                                     limit=OWNERS_PAGE, after=after)
            for owner in page["results"]:
                if owner["id"] in wanted:
                    full = " ".join(p for p in (owner.get("firstName"), owner.get("lastName")) if p)
                    names[owner["id"]] = full or owner.get("email") or owner["id"]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        return names

    # ---------------------------------------------------------------------------------- urls
    def identify(self) -> AccountIdentity:
        """The portal the token belongs to (``GET /account-info/v3/details``, one call)."""
        details = self.session.raw_get("GET /account-info/v3/details", "/account-info/v3/details")
        portal = str(details["portalId"])
        return AccountIdentity(portal, f"HubSpot portal {portal}")

    def portal_id(self) -> str:
        """The portal (hub) id, from settings or asked once of HubSpot."""
        if self._portal_id is None:
            self._portal_id = self.cache.get("portal_id")
        if self._portal_id is None:
            self._portal_id = self.identify().account_id
            self.cache.put("portal_id", self._portal_id)
        return self._portal_id

    def record_url(self, object: str, id: str) -> str | None:
        """``https://app.hubspot.com/contacts/{portal}/record/{type id}/{id}``."""
        if object not in OBJECT_TYPE_IDS:
            return None
        return f"https://app.hubspot.com/contacts/{self.portal_id()}/record/{OBJECT_TYPE_IDS[object]}/{id}"


def _lifecycle_stages(prop: Mapping[str, Any]) -> list[CrmStage]:
    """The contact stages of the ``lifecyclestage`` property (as HubSpot's JSON gives it)."""
    options = sorted(prop.get("options") or [], key=lambda o: o.get("displayOrder") or 0)
    return [CrmStage("contact", o["value"], o["label"], o.get("displayOrder") or 0) for o in options]


def readable_message(message: str) -> str:
    """HubSpot's ``Property values were not valid: [{...}]`` as the problems' own messages
    (``property: message``); any other message as it came."""
    prefix = "Property values were not valid: "
    if not message.startswith(prefix):
        return message
    try:
        problems = json.loads(message[len(prefix):])
        return "HubSpot refused the values: " + "; ".join(
            f"{p.get('name')}: {p.get('message')}" for p in problems)
    except (ValueError, AttributeError, TypeError):
        return message


class _ReadStamps:
    """The modification stamps a pull read, for the next pull's cursor.

    The next pull starts at the newest stamp read, or ``recent_from`` (the overlap before this
    pull began) if that is older, and finds again every record stamped at or after its start:
    the cursor names those it already read (their stamps), so they are dropped when they come
    back unchanged. Records of the newest millisecond are always named: a quiet pull reads them
    again and hands on nothing, as Salesforce's (stamp, ids) cursor does.
    """

    def __init__(self, recent_from: datetime) -> None:
        self.recent_from = recent_from
        self.latest: datetime | None = None
        self.at_latest: dict[str, str] = {}
        #: Records read in the overlap; None once there are too many to remember.
        self.recent: dict[str, str] | None = {}

    def note(self, key: str, moment: datetime, stamp: str) -> None:
        """One record read (handed on or dropped as a repeat)."""
        if self.recent is not None and moment >= self.recent_from:
            self.recent[key] = stamp
            if len(self.recent) > MAX_REMEMBERED:
                self.recent = None
        if self.latest is None or moment > self.latest:
            self.latest, self.at_latest = moment, {key: stamp}
        elif moment == self.latest:
            self.at_latest[key] = stamp

    def cursor(self, point: datetime | None) -> dict[str, Any]:
        """``{"since": ISO stamp, "seen": {"deal/<id>": stamp}}`` for the next pull."""
        if self.latest is not None and self.latest <= self.recent_from:
            upto, seen = self.latest, self.at_latest
        else:
            # Newer records were read inside the overlap (or none at all): start at the overlap,
            # naming what it holds (a busier overlap is read again in full; nothing is rewritten).
            upto = self.recent_from if point is None else max(self.recent_from, point)
            seen = self.recent or {}
        if len(seen) > MAX_REMEMBERED:
            seen = {}
        return {"since": upto.isoformat(), "seen": seen}


def _stored_point(cursor: Any, key: str) -> datetime | None:
    """A moment kept in the pull cursor."""
    value = cursor.get(key) if isinstance(cursor, Mapping) else None
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _unique_batches(items: Iterable[FieldUpdate], size: int) -> Iterator[list[FieldUpdate]]:
    """Batches of at most ``size`` without a repeated id (HubSpot rejects duplicates in a batch);
    a later update of the same record goes to a later batch, so order is kept."""
    batch: list[FieldUpdate] = []
    ids: set[str] = set()
    for item in items:
        if len(batch) == size or item.id in ids:
            yield batch
            batch, ids = [], set()
        batch.append(item)
        ids.add(item.id)
    if batch:
        yield batch
