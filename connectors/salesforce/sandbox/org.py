"""The sandbox org's data: records in memory, the write path with Salesforce's validation rules,
stage history, custom fields and field-level security.

Every method that touches data takes the org's lock, so the threaded HTTP server can share one Org.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from connectors.salesforce.sandbox.ids import KEY_PREFIXES, IdFactory, looks_like_id, recased, to18
from connectors.salesforce.sandbox.schema import (
    ACTIVITY_OBJECTS, CUSTOM_FIELD_TYPES, LEAD_STATUSES, STOCK_OPPORTUNITY_STAGES, FieldDef, ObjectDef,
    build_schema, custom_field, seeded_custom_field,
)
from connectors.salesforce.sandbox.formula import FormulaError
from connectors.salesforce.sandbox.seed import SalesforceSeed, parse_seed
from connectors.salesforce.sandbox.values import ValueTypeError, from_json, now_utc

INTEGRATION_USERNAME = "integration@journey-sync.sandbox"
#: Most records one ``composite/sobjects`` call may carry.
COMPOSITE_LIMIT = 200
#: Opportunity fields whose change writes an OpportunityHistory row, as in a real org.
HISTORY_TRACKED = ("Amount", "CloseDate", "Probability", "StageName")
#: Most chunks (runs of consecutive records of one type) one ``composite/sobjects`` call may hold.
COMPOSITE_CHUNK_LIMIT = 10
_SEEDED_KINDS = (("accounts", "Account"), ("opportunities", "Opportunity"), ("leads", "Lead"),
                 ("contacts", "Contact"))


class RequestError(Exception):
    """A whole request Salesforce refuses: ``status`` and ``[{message, errorCode, fields}]`` body."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


def record_error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """One entry of a per-record ``errors`` list (``statusCode``, ``message``, ``fields``)."""
    return {"statusCode": code, "message": message, "fields": fields or []}


class Org:
    """An org: schema, records, stage history and permission sets, with a seed loaded."""

    def __init__(self, seed: dict[str, Any] | None = None, *, clock: Callable[[], datetime] = now_utc) -> None:
        parsed = parse_seed(seed, STOCK_OPPORTUNITY_STAGES, LEAD_STATUSES)
        self.lock = threading.RLock()
        self.clock = clock
        self.ids = IdFactory()
        self.org_id = to18(parsed.org_id) if parsed.org_id else self.ids.new("Organization")
        stages = sorted(parsed.opportunity_stages or (), key=lambda s: s.SortOrder)
        self.schema: dict[str, ObjectDef] = build_schema(tuple(s.ApiName or s.MasterLabel for s in stages))
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        #: (child object, reference field) -> parent id -> child ids, for subqueries and history.
        self.children: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.seeded_fields: set[str] = set()
        #: Tooling API ``Metadata`` of custom fields created through the API, by CustomField id.
        self.field_metadata: dict[str, dict[str, Any]] = {}
        #: Record id -> how many more writes fail with UNABLE_TO_LOCK_ROW (None: all of them).
        self.locked_ids: dict[str, int | None] = {}
        self.stage_listeners: list[Callable[[str], None]] = []
        #: Updates applied per record id, so tests can prove an update was never applied twice.
        self.update_counts: dict[str, int] = {}
        self.user_id = self.ids.new("User")
        # The one Organization row: what ``SELECT Id, Name FROM Organization`` answers.
        self._insert("Organization", {"Name": "Sandbox Org", "OrganizationType": "Developer Edition",
                                      "IsSandbox": True, "InstanceName": "SBX1"}, self.org_id)
        self._insert("User", {"Username": INTEGRATION_USERNAME, "LastName": "Integration",
                              "FirstName": "Journey Sync", "Name": "Journey Sync Integration",
                              "IsActive": True}, self.user_id)
        for stage in stages:
            self._insert("OpportunityStage", {
                "MasterLabel": stage.MasterLabel, "ApiName": stage.ApiName or stage.MasterLabel,
                "IsActive": stage.IsActive, "SortOrder": stage.SortOrder, "IsClosed": stage.IsClosed,
                "IsWon": stage.IsWon, "DefaultProbability": stage.DefaultProbability,
                "ForecastCategoryName": stage.ForecastCategoryName or _forecast_category(stage.IsClosed, stage.IsWon),
            })
        for order, status in enumerate(LEAD_STATUSES, start=1):
            self._insert("LeadStatus", {"MasterLabel": status, "ApiName": status, "SortOrder": order,
                                        "IsConverted": status == "Closed - Converted", "IsDefault": order == 1})
        self._load(parsed)

    # ------------------------------------------------------------------------------ seeding
    def _load(self, seed: SalesforceSeed) -> None:
        for user in seed.users:
            name = " ".join(p for p in (user.FirstName, user.LastName) if p)
            self._insert("User", {"Username": user.Email or f"{user.Id}@sandbox", "FirstName": user.FirstName,
                                  "LastName": user.LastName, "Name": name, "Email": user.Email,
                                  "IsActive": True}, user.Id)
        for kind, sobject in _SEEDED_KINDS:
            for rec in getattr(seed, kind):
                for name, sample in rec.custom.items():
                    self._ensure_seeded_field(sobject, name, sample)
        for kind, sobject in _SEEDED_KINDS:
            for rec in getattr(seed, kind):
                self._load_record(sobject, rec)
        for role in seed.opportunity_contact_roles:
            self._insert("OpportunityContactRole", {
                "OpportunityId": to18(role.OpportunityId), "ContactId": to18(role.ContactId),
                "Role": role.Role, "IsPrimary": role.IsPrimary})

    def _ensure_seeded_field(self, sobject: str, name: str, sample: Any) -> None:
        obj = self.schema[sobject]
        if name not in obj.fields:
            obj.fields[name] = seeded_custom_field(name, sample)
            for record in self.records[sobject].values():
                record.setdefault(name, obj.fields[name].default)
            self._insert("CustomField", {"DeveloperName": name[:-3], "TableEnumOrId": sobject,
                                         "FullName": f"{sobject}.{name}"})
        self.seeded_fields.add(f"{sobject}.{name}")

    def _load_record(self, sobject: str, rec: Any) -> None:
        obj = self.schema[sobject]
        data = rec.model_dump(exclude={"history", "custom"}, exclude_none=True)
        created = data.pop("CreatedDate", None) or self.clock()
        modified = data.pop("LastModifiedDate", None)
        history = getattr(rec, "history", None) or []
        if modified is None:
            modified = max([created] + [h.CreatedDate for h in history])
        values = {k: to18(v) if obj.fields[k].type in ("id", "reference") else v for k, v in data.items()}
        for name, value in rec.custom.items():
            values[name] = from_json(obj.fields[name].type, value)
        owner = values.get("OwnerId")
        if owner and owner not in self.records["User"] and looks_like_id(owner):
            self._insert("User", {"LastName": f"Owner {owner[-6:]}", "Name": f"Owner {owner[-6:]}",
                                  "Username": f"{owner}@sandbox"}, owner)
        if sobject in ("Lead", "Contact"):
            values["Name"] = " ".join(p for p in (values.get("FirstName"), values.get("LastName")) if p)
        record_id = self._insert(sobject, values, values.pop("Id", None), created=created, modified=modified)
        if sobject == "Opportunity":
            opp = self.records["Opportunity"][record_id]
            entries = [(h.StageName, h.CreatedDate) for h in history] or [(rec.StageName, created)]
            self._derive_stage_fields(opp, entries[-1][1] if len(entries) > 1 else None)
            for stage, when in entries:
                self._add_history(opp, when, stage=stage)

    # ---------------------------------------------------------------------------- low level
    def _insert(self, sobject: str, values: dict[str, Any], record_id: str | None = None, *,
                created: datetime | None = None, modified: datetime | None = None) -> str:
        obj = self.schema[sobject]
        new_id = to18(record_id) if record_id else self._fresh_id(sobject)
        now = self.clock()
        record = {name: f.default for name, f in obj.fields.items()}
        if "OwnerId" in obj.fields:
            record["OwnerId"] = self.user_id
        record.update({k: v for k, v in values.items() if v is not None or k != "OwnerId"})
        record.update({"Id": new_id, "CreatedDate": created or now, "LastModifiedDate": modified or created or now,
                       "SystemModstamp": modified or created or now, "CreatedById": self.user_id,
                       "LastModifiedById": self.user_id})
        self.records[sobject][new_id] = record
        self._index(obj, record)
        return new_id

    def _index(self, obj: ObjectDef, record: dict[str, Any], only: set[str] | None = None) -> None:
        for name, f in obj.fields.items():
            if f.type == "reference" and record.get(name) and (only is None or name in only):
                self.children.setdefault((obj.name, name), {}).setdefault(record[name], []).append(record["Id"])

    def child_ids(self, sobject: str, field: str, parent_id: str) -> list[str]:
        """Ids of ``sobject`` records whose ``field`` points at ``parent_id``, oldest first."""
        return self.children.get((sobject, field), {}).get(parent_id, [])

    def _fresh_id(self, sobject: str) -> str:
        while True:
            candidate = self.ids.new(sobject)
            if candidate not in self.records[sobject]:
                return candidate

    def stage(self, value: str) -> dict[str, Any] | None:
        """The OpportunityStage record whose API name is ``value``."""
        return next((s for s in self.records["OpportunityStage"].values() if s["ApiName"] == value), None)

    def _add_history(self, opp: dict[str, Any], when: datetime, *, stage: str | None = None,
                     previous: dict[str, Any] | None = None) -> None:
        """An OpportunityHistory row as Salesforce writes it: the opportunity's tracked values after
        the change (``stage`` for seeded history), the Amount and CloseDate before it."""
        stage_name = stage or opp["StageName"]
        probability = opp.get("Probability") if stage is None else (self.stage(stage) or {}).get("DefaultProbability")
        amount = opp.get("Amount")
        self._insert("OpportunityHistory", {
            "OpportunityId": opp["Id"], "StageName": stage_name, "Amount": amount, "CloseDate": opp.get("CloseDate"),
            "Probability": probability,
            "ExpectedRevenue": None if amount is None or probability is None else round(amount * probability / 100, 2),
            "ForecastCategory": (self.stage(stage_name) or {}).get("ForecastCategoryName"),
            "PrevAmount": (previous or {}).get("Amount"), "PrevCloseDate": (previous or {}).get("CloseDate"),
        }, created=when, modified=when)

    def _derive_stage_fields(self, opp: dict[str, Any], stage_changed_at: datetime | None) -> None:
        """Fields Salesforce derives from the stage; a stage change also resets the probability."""
        stage = self.stage(opp["StageName"]) or {}
        opp["IsClosed"] = bool(stage.get("IsClosed"))
        opp["IsWon"] = bool(stage.get("IsWon"))
        if opp.get("Probability") is None or stage_changed_at is not None:
            opp["Probability"] = stage.get("DefaultProbability")
        opp["ForecastCategoryName"] = stage.get("ForecastCategoryName")
        if stage_changed_at is not None:
            opp["LastStageChangeDate"] = stage_changed_at

    # ------------------------------------------------------------------ field-level security
    def granted_fields(self) -> dict[str, bool]:
        """``Object.Field`` -> editable, for custom fields the integration user may see."""
        assigned = {a["PermissionSetId"] for a in self.records["PermissionSetAssignment"].values()
                    if a["AssigneeId"] == self.user_id}
        granted = {name: True for name in self.seeded_fields}
        for perm in self.records["FieldPermissions"].values():
            if perm["ParentId"] in assigned and perm["PermissionsRead"]:
                granted[perm["Field"]] = granted.get(perm["Field"], False) or bool(perm["PermissionsEdit"])
        return granted

    def visible_field(self, obj: ObjectDef, name: str, granted: dict[str, bool] | None = None) -> FieldDef | None:
        """The field ``name`` of ``obj`` if the API user can see it (custom fields need FLS)."""
        f = obj.field_named(name)
        if f is None or not f.custom:
            return f
        granted = self.granted_fields() if granted is None else granted
        return f if f"{obj.name}.{f.name}" in granted else None

    def fields_named(self, obj: ObjectDef, names: list[str]) -> list[FieldDef]:
        """The visible fields ``names`` of ``obj``, or 400 INVALID_FIELD naming the first unknown one."""
        granted = self.granted_fields()
        found = []
        for name in (n.strip() for n in names):
            f = self.visible_field(obj, name, granted)
            if f is None:
                raise RequestError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. If you "
                                   "are attempting to use a custom field, be sure to append the '__c' after the "
                                   "custom field name. Please reference your WSDL or the describe call for the "
                                   "appropriate names.")
            found.append(f)
        return found

    def value_of(self, f: FieldDef, record: dict[str, Any]) -> Any:
        """The value of field ``f`` on ``record``: stored, or computed now for a formula field."""
        if f.formula is not None:
            return f.formula.evaluate(record, self.clock())
        return record.get(f.name)

    def visible_fields(self, obj: ObjectDef) -> list[FieldDef]:
        """Every field of ``obj`` the API user can see, in schema order."""
        granted = self.granted_fields()
        return [f for f in obj.fields.values() if self.visible_field(obj, f.name, granted) is not None]

    # ------------------------------------------------------------------------------ objects
    def sobject(self, name: str, *, tooling: bool = False) -> ObjectDef:
        """The object called ``name`` (case-insensitive) on the data or Tooling API."""
        for obj in self.schema.values():
            if obj.name.lower() == name.lower() and obj.tooling == tooling:
                return obj
        raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")

    def known_id(self, sobject: str, record_id: str) -> str:
        """The stored id ``record_id`` names: 15 characters, or 18 in any case (Salesforce reads an
        18-character id case-insensitively through its checksum suffix)."""
        exact = to18(record_id)
        if exact in self.records[sobject]:
            return exact
        return recased(record_id)

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        """One record, or 404 NOT_FOUND."""
        record = self.records[sobject].get(self.known_id(sobject, record_id))
        if record is None or record.get("IsDeleted"):
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return record

    # ----------------------------------------------------------------------------- writing
    def convert_values(self, obj: ObjectDef, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        """Typed values for a write body, or RequestError for objects the API cannot write, unknown
        fields and bad JSON types."""
        if not obj.writable:
            verb = "inserted" if creating else "updated"
            raise RequestError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.label}")
        granted = self.granted_fields()
        converted = {}
        for name, value in body.items():
            if name in ("attributes", "Id"):
                continue
            f = self.visible_field(obj, name, granted)
            if f is None:
                raise RequestError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
            try:
                converted[f.name] = from_json(f.type, value)
            except ValueTypeError as exc:
                raise RequestError(400, "JSON_PARSER_ERROR",
                                   f"{exc} or request may be missing a required field") from None
        return converted

    def check_values(self, obj: ObjectDef, values: dict[str, Any], *, creating: bool) -> list[dict[str, Any]]:
        """Per-record validation errors for typed ``values`` (empty when the write may go ahead)."""
        granted = self.granted_fields()
        errors = []
        not_writable = []
        for name, value in values.items():
            f = obj.fields[name]
            writable = f.createable if creating else f.updateable
            if f.custom and not granted.get(f"{obj.name}.{name}", False):
                writable = False
            if not writable:
                not_writable.append(name)
                continue
            if value is None and not f.nillable:
                errors.append(record_error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name]))
            elif f.type == "picklist" and f.validated and value is not None and value not in f.picklist:
                errors.append(record_error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                           f"{f.label}: bad value for restricted picklist field: {value}", [name]))
            elif f.length and isinstance(value, str) and len(value) > f.length:
                errors.append(record_error("STRING_TOO_LONG",
                                           f"{f.label}: data value too large: {value[:40]} (max length={f.length})",
                                           [name]))
        if not_writable:
            errors.insert(0, record_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(not_writable)}. Please check the security settings "
                "of this field and verify that it is read/write for your profile or permission set.",
                not_writable))
        if creating:
            missing = [n for n, f in obj.fields.items()
                       if not f.nillable and f.createable and f.default is None and not f.defaulted
                       and values.get(n) is None and n not in values]
            if missing:
                errors.append(record_error("REQUIRED_FIELD_MISSING",
                                           f"Required fields are missing: [{', '.join(missing)}]", missing))
        return errors

    def target_error(self, obj: ObjectDef, record_id: Any) -> dict[str, Any] | None:
        """The per-record error for updating ``record_id`` of ``obj``, or None if it may be updated."""
        if not record_id:
            return record_error("MISSING_ARGUMENT", "Id not specified in an update call")
        if not isinstance(record_id, str) or not looks_like_id(record_id):
            return record_error("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
        if not self.known_id(obj.name, record_id).startswith(obj.key_prefix):
            return record_error("MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
        record = self.records[obj.name].get(self.known_id(obj.name, record_id))
        if record is None:
            return record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        if record.get("IsDeleted"):
            return record_error("ENTITY_IS_DELETED", "entity is deleted")
        if self._still_locked(record["Id"]):
            return record_error("UNABLE_TO_LOCK_ROW",
                                f"unable to obtain exclusive access to this record or 1 records: {record['Id']}")
        return None

    def _still_locked(self, record_id: str) -> bool:
        if record_id not in self.locked_ids:
            return False
        remaining = self.locked_ids[record_id]
        if remaining is None:
            return True
        if remaining <= 0:
            del self.locked_ids[record_id]
            return False
        self.locked_ids[record_id] = remaining - 1
        return True

    def apply_update(self, obj: ObjectDef, record_id: str, values: dict[str, Any]) -> None:
        """Write validated ``values``; bumps the modification stamps and records stage changes."""
        record = self.records[obj.name][self.known_id(obj.name, record_id)]
        before = {name: record.get(name) for name in HISTORY_TRACKED}
        moved = {n for n, v in values.items() if obj.fields[n].type == "reference" and v != record.get(n)}
        for name in moved:
            if record.get(name):
                self.child_ids(obj.name, name, record[name]).remove(record["Id"])
        record.update(values)
        self.update_counts[record["Id"]] = self.update_counts.get(record["Id"], 0) + 1
        self._index(obj, record, moved)
        now = self.clock()
        record["LastModifiedDate"] = now
        record["SystemModstamp"] = now
        record["LastModifiedById"] = self.user_id
        if obj.name in ("Lead", "Contact") and ({"FirstName", "LastName"} & values.keys()):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        if obj.name != "Opportunity":
            return
        moved_stage = record["StageName"] != before["StageName"]
        if moved_stage:
            self._derive_stage_fields(record, now)
        if any(record.get(name) != before[name] for name in HISTORY_TRACKED):
            self._add_history(record, now, previous=before)
        if moved_stage:
            for listener in self.stage_listeners:
                listener(record["Id"])

    def apply_create(self, obj: ObjectDef, values: dict[str, Any]) -> str:
        """Insert a validated record; an opportunity gets its first history row."""
        record_id = self._insert(obj.name, values)
        record = self.records[obj.name][record_id]
        if obj.name in ("Lead", "Contact"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
        if obj.name == "Opportunity":
            self._derive_stage_fields(record, None)
            self._add_history(record, record["CreatedDate"])
        if obj.name == "FieldPermissions":
            self._check_field_permission(record)
        return record_id

    def create_errors(self, obj: ObjectDef, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Validation errors for creating a record of ``obj`` (rules of the object included)."""
        errors = self.check_values(obj, values, creating=True)
        if not errors and obj.name == "Task":
            return self._task_errors(values)
        if errors or obj.name != "FieldPermissions":
            return errors
        target = str(values.get("Field", ""))
        sobject, _, name = target.partition(".")
        target_obj = self.schema.get(sobject)
        if target_obj is None or name not in target_obj.fields or values.get("SobjectType") != sobject:
            return [record_error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                 f"Field Name: bad value for restricted picklist field: {target}", ["Field"])]
        for existing in self.records["FieldPermissions"].values():
            if existing["ParentId"] == values.get("ParentId") and existing["Field"] == target:
                return [record_error("DUPLICATE_VALUE",
                                     f"duplicate value found: <unknown> duplicates value on record with id: "
                                     f"{existing['Id']}")]
        return self._permission_errors(values)

    def _update_rule_errors(self, obj: ObjectDef, record_id: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Errors an update breaks beyond field checks (field permissions on formula fields)."""
        if obj.name != "FieldPermissions":
            return []
        return self._permission_errors({**self.get(obj.name, record_id), **values})

    def _permission_errors(self, permission: dict[str, Any]) -> list[dict[str, Any]]:
        """A formula field is read-only: its FieldPermissions may grant PermissionsRead only."""
        sobject, _, name = str(permission.get("Field", "")).partition(".")
        target = self.schema[sobject].fields.get(name) if sobject in self.schema else None
        if target is not None and target.formula is not None and permission.get("PermissionsEdit"):
            return [record_error("FIELD_INTEGRITY_EXCEPTION",
                                 f"Permission Edit {permission['Field']}: a formula field is read-only; grant "
                                 "PermissionsRead only", ["PermissionsEdit"])]
        return []

    def _task_errors(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Salesforce's rules for a task's links: WhoId names a lead or contact, WhatId any other
        record, and a task about a lead cannot also name a WhatId."""
        who, what = values.get("WhoId"), values.get("WhatId")
        kinds = {}
        for name, ref in (("WhoId", who), ("WhatId", what)):
            if ref is None:
                continue
            kind = next((o for o, p in KEY_PREFIXES.items() if str(ref).startswith(p)), None)
            if kind is None or to18(str(ref)) not in self.records.get(kind, {}):
                return [record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])]
            kinds[name] = kind
        if kinds.get("WhoId") not in (None, "Lead", "Contact"):
            return [record_error("FIELD_INTEGRITY_EXCEPTION",
                                 "Name ID: id value of incorrect type: " + str(who), ["WhoId"])]
        if kinds.get("WhatId") in ("Lead", "Contact"):
            return [record_error("FIELD_INTEGRITY_EXCEPTION",
                                 "Related To ID: id value of incorrect type: " + str(what), ["WhatId"])]
        if kinds.get("WhoId") == "Lead" and what is not None:
            return [record_error("FIELD_INTEGRITY_EXCEPTION",
                                 "Only a contact can be related to a task that names another record",
                                 ["WhoId", "WhatId"])]
        return []

    def _check_field_permission(self, record: dict[str, Any]) -> None:
        if record["PermissionsEdit"] and not record["PermissionsRead"]:
            record["PermissionsRead"] = True

    # ---------------------------------------------------------------------- request level
    def update_one(self, obj: ObjectDef, record_id: str, body: dict[str, Any]) -> None:
        """``PATCH sobjects/<Object>/<id>``: all checks, then the write (the first error is a 400)."""
        self.get(obj.name, record_id)
        values = self.convert_values(obj, body, creating=False)
        error = self.target_error(obj, record_id)
        errors = [error] if error else (self.check_values(obj, values, creating=False)
                                        or self._update_rule_errors(obj, record_id, values))
        if errors:
            raise RequestError(400, errors[0]["statusCode"], errors[0]["message"], errors[0]["fields"])
        self.apply_update(obj, record_id, values)

    def create_one(self, obj: ObjectDef, body: dict[str, Any]) -> str:
        """``POST sobjects/<Object>/``: all checks, then the insert; returns the new id."""
        values = self.convert_values(obj, body, creating=True)
        errors = self.create_errors(obj, values)
        if errors:
            raise RequestError(400, errors[0]["statusCode"], errors[0]["message"], errors[0]["fields"])
        return self.apply_create(obj, values)

    def write_collection(self, records: list[Any], *, creating: bool, all_or_none: bool) -> list[dict[str, Any]]:
        """``composite/sobjects``: validate every record, then apply the valid ones (all or none when
        asked); one ``{id, success, errors}`` per record, in order."""
        if len(records) > COMPOSITE_LIMIT:
            raise RequestError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                               f"{COMPOSITE_LIMIT} records into this call")
        for raw in records:
            if not isinstance(raw, dict) or not isinstance((raw.get("attributes") or {}).get("type"), str):
                raise RequestError(400, "INVALID_TYPE", "No SObject Type defined in the attributes")
        objects = [self.sobject(raw["attributes"]["type"]) for raw in records]
        chunks = sum(1 for i, obj in enumerate(objects) if i == 0 or obj is not objects[i - 1])
        if chunks > COMPOSITE_CHUNK_LIMIT:
            raise RequestError(400, "INVALID_BATCH_REQUEST", f"Cannot have more than {COMPOSITE_CHUNK_LIMIT} "
                               "chunks in a single operation. Please rearrange the data to reduce chunking.")
        planned = []
        for raw, obj in zip(records, objects):
            raw = _with_canonical_id(raw)
            values = self.convert_values(obj, raw, creating=creating)
            if creating:
                errors = self.create_errors(obj, values)
            else:
                target = self.target_error(obj, raw.get("Id"))
                errors = [target] if target else (self.check_values(obj, values, creating=False)
                                                  or self._update_rule_errors(obj, raw["Id"], values))
            planned.append((raw, obj, values, errors))
        failed = any(errors for *_, errors in planned)
        results = []
        for raw, obj, values, errors in planned:
            if errors or (all_or_none and failed):
                results.append({"id": raw.get("Id"), "success": False, "errors": errors or [record_error(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid "
                    "and the request was using AllOrNone header")]})
            elif creating:
                results.append({"id": self.apply_create(obj, values), "success": True, "errors": []})
            else:
                self.apply_update(obj, raw["Id"], values)
                results.append({"id": self.known_id(obj.name, raw["Id"]), "success": True, "errors": []})
        return results

    # ------------------------------------------------------------------------ tooling API
    def create_custom_field(self, body: dict[str, Any]) -> str:
        """Create a custom field from a Tooling API ``CustomField`` body; returns the new 00N id."""
        full_name = body.get("FullName")
        metadata = body.get("Metadata")
        if not isinstance(full_name, str) or not isinstance(metadata, dict):
            raise RequestError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [FullName, Metadata]", [])
        sobject, _, name = full_name.partition(".")
        if sobject == "Activity":
            return self._create_activity_field(full_name, name, metadata)
        if sobject not in self.schema or self.schema[sobject].tooling or not name.endswith("__c") or len(name) <= 3:
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               f"FullName: invalid custom field name {full_name!r} (expected Object.Name__c)",
                               ["FullName"])
        if metadata.get("type") not in CUSTOM_FIELD_TYPES:
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               f"Metadata.type: unsupported field type {metadata.get('type')!r}", ["Metadata"])
        if metadata.get("type") == "Text" and not metadata.get("length"):
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION", "Length: You must enter a value", ["Metadata"])
        obj = self.schema[sobject]
        if obj.field_named(name) is not None:
            raise RequestError(400, "DUPLICATE_DEVELOPER_NAME",
                               f"There is already a field named {name[:-3]} on {sobject}.", [])
        self._check_value_set(metadata)
        new_field = _custom_field(name, metadata, obj)
        obj.fields[name] = new_field
        if new_field.formula is None:
            for record in self.records[sobject].values():
                record.setdefault(name, new_field.default)
        field_id = self._insert("CustomField", {"DeveloperName": name[:-3], "TableEnumOrId": sobject,
                                                "FullName": full_name})
        self.field_metadata[field_id] = dict(metadata)
        return field_id

    def _create_activity_field(self, full_name: str, name: str, metadata: dict[str, Any]) -> str:
        """An ``Activity.X__c`` field: one definition that tasks (and events) share."""
        if not name.endswith("__c") or len(name) <= 3 or metadata.get("type") not in CUSTOM_FIELD_TYPES:
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               f"FullName: invalid custom field {full_name!r}", ["FullName"])
        if any(self.schema[o].field_named(name) for o in ACTIVITY_OBJECTS):
            raise RequestError(400, "DUPLICATE_DEVELOPER_NAME",
                               f"There is already a field named {name[:-3]} on Activity.", [])
        new_field = replace(custom_field(name, metadata), name=name)
        for sobject in ACTIVITY_OBJECTS:
            self.schema[sobject].fields[name] = new_field
            for record in self.records[sobject].values():
                record.setdefault(name, new_field.default)
        field_id = self._insert("CustomField", {"DeveloperName": name[:-3], "TableEnumOrId": "Activity",
                                                "FullName": full_name})
        self.field_metadata[field_id] = dict(metadata)
        return field_id

    def custom_field_json(self, field_id: str, version: str) -> dict[str, Any]:
        """A Tooling API ``CustomField`` record with its ``Metadata``; 404 for an unknown id."""
        row = self.records["CustomField"].get(to18(field_id)) if len(field_id) in (15, 18) else None
        if row is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        sobject, name = row["TableEnumOrId"], row["DeveloperName"] + "__c"
        metadata = self.field_metadata.get(row["Id"]) or _metadata_of(self.schema[sobject].fields[name])
        return {"attributes": {"type": "CustomField",
                               "url": f"/services/data/v{version}/tooling/sobjects/CustomField/{row['Id']}"},
                "Id": row["Id"], "DeveloperName": row["DeveloperName"], "TableEnumOrId": sobject,
                "FullName": row["FullName"], "Metadata": metadata}

    def update_custom_field(self, field_id: str, body: dict[str, Any]) -> None:
        """A Tooling API ``CustomField`` PATCH: the new ``Metadata`` replaces the field's definition.

        Records keep the values they hold (Salesforce does not rewrite records when a picklist
        value goes); from now on writes are checked against the new values.
        """
        current = self.custom_field_json(field_id, "")
        metadata = body.get("Metadata")
        if not isinstance(metadata, dict):
            raise RequestError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Metadata]", ["Metadata"])
        if metadata.get("type") not in CUSTOM_FIELD_TYPES:
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               f"Metadata.type: unsupported field type {metadata.get('type')!r}", ["Metadata"])
        self._check_value_set(metadata)
        obj = self.schema[current["TableEnumOrId"]]
        name = current["DeveloperName"] + "__c"
        if (obj.fields[name].formula is None) != (metadata.get("formula") is None):
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               "Cannot change a formula field into a field that holds values, or back", ["Metadata"])
        obj.fields[name] = _custom_field(name, metadata, obj)
        self.field_metadata[current["Id"]] = dict(metadata)

    @staticmethod
    def _check_value_set(metadata: dict[str, Any]) -> None:
        """A picklist needs values, each named once (Salesforce: ``DUPLICATE_DEVELOPER_NAME``)."""
        if metadata.get("type") != "Picklist":
            return
        values = [v.get("fullName") for v in
                  ((metadata.get("valueSet") or {}).get("valueSetDefinition") or {}).get("value") or []]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION",
                               "Values: a picklist needs at least one value with a fullName", ["Metadata"])
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise RequestError(400, "DUPLICATE_DEVELOPER_NAME",
                               f"Picklist value names must be unique: {', '.join(duplicates)}", ["Metadata"])

    # --------------------------------------------------------------------------- simulation
    def move(self, record_id: str, stage_name: str) -> dict[str, Any]:
        """A rep changes an opportunity's stage: validated like an API update, history added."""
        obj = self.schema["Opportunity"]
        error = self.target_error(obj, record_id)
        if error is None:
            errors = self.check_values(obj, {"StageName": stage_name}, creating=False)
            error = errors[0] if errors else None
        if error is not None:
            raise RequestError(400, error["statusCode"], error["message"], error["fields"])
        self.apply_update(obj, record_id, {"StageName": stage_name})
        return self.records["Opportunity"][self.known_id("Opportunity", record_id)]


def _custom_field(name: str, metadata: dict[str, Any], obj: ObjectDef) -> FieldDef:
    """The field a Tooling ``Metadata`` defines on ``obj``; a formula Salesforce refuses is a 400."""
    try:
        return replace(custom_field(name, metadata, obj.fields), name=name)
    except FormulaError as exc:
        raise RequestError(400, "FIELD_INTEGRITY_EXCEPTION", f"Formula: {exc}", ["Metadata"]) from None


def _with_canonical_id(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with its id under ``Id``: Salesforce matches field names case-insensitively, so
    ``id`` and ``ID`` name the same field."""
    key = next((k for k in raw if k.lower() == "id"), None)
    if key is None or key == "Id":
        return raw
    return {("Id" if k == key else k): v for k, v in raw.items()}


def _metadata_of(f: FieldDef) -> dict[str, Any]:
    """The Tooling ``Metadata`` of a custom field the seed made (no Metadata was ever sent)."""
    kind = next(k for k, v in CUSTOM_FIELD_TYPES.items() if v == f.type)
    metadata: dict[str, Any] = {"type": kind, "label": f.label}
    if kind == "Text":
        metadata["length"] = f.length
    return metadata


def _forecast_category(is_closed: bool, is_won: bool) -> str:
    if is_won:
        return "Closed"
    return "Omitted" if is_closed else "Pipeline"
