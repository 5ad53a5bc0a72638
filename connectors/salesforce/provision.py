"""Creating the write-back custom fields and the day-count formula fields (Tooling API) and granting
field-level security on them through a permission set assigned to the integration user. Every step
checks first, so a second run only reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from connectors.base import CrmError, ProvisionedField, default_choices
from connectors.salesforce import soql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.tasks import TASK_KEY_FIELD


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one canonical write-back field is created in Salesforce."""

    label: str
    metadata: Mapping[str, Any]


FIELD_SPECS: dict[str, FieldSpec] = {
    "journey_stage": FieldSpec("Journey Stage", {"type": "Picklist"}),
    "persona": FieldSpec("Journey Persona", {"type": "Picklist"}),
    "next_best_action": FieldSpec("Next Best Action", {"type": "Text", "length": 255}),
    "stalled": FieldSpec("Journey Stalled", {"type": "Checkbox", "defaultValue": "false"}),
    "stage_entered_at": FieldSpec("Journey Stage Entered At", {"type": "DateTime"}),
    "stalls_at": FieldSpec("Journey Stalls At", {"type": "DateTime"}),
    "journey_updated_at": FieldSpec("Journey Updated At", {"type": "DateTime"}),
}
TASK_KEY_SPEC = FieldSpec("Journey Task Key", {"type": "Text", "length": 255, "externalId": True})

#: Number formula fields Salesforce computes from the two dates Journey Sync writes, so day counts
#: cost no writes: API name -> (label, formula over the canonical write-back names). Whole days,
#: as the service counts them: days in stage is FLOOR(now - entered); a record is stalled from
#: *stalls at* (entered + expected days + 1) on, and over by the whole days since then, plus one.
FORMULAS: dict[str, tuple[str, str]] = {
    "Journey_Days_In_Stage__c": ("Journey Days In Stage", "FLOOR(NOW() - {stage_entered_at})"),
    "Journey_Days_Over_Expected__c": (
        "Journey Days Over Expected",
        "IF(ISBLANK({stalls_at}) || NOW() < {stalls_at}, 0, FLOOR(NOW() - {stalls_at}) + 1)"),
}


def formula_specs(api_names: Mapping[str, str]) -> dict[str, FieldSpec]:
    """The day-count formula fields over the write-back fields' API names (which settings may rename)."""
    return {name: FieldSpec(label, {"type": "Number", "precision": 18, "scale": 0,
                                    "formulaTreatBlanksAs": "BlankAsZero",
                                    "formula": formula.format(**api_names)})
            for name, (label, formula) in FORMULAS.items()}
_DESCRIPTION = "Written by Journey Sync; do not edit by hand."


def provision(client: SalesforceClient, api_names: Mapping[str, str], permission_set: str,
              choices: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> list[ProvisionedField]:
    """Make sure every write-back field exists on every object and is readable and editable, and
    the day-count formula fields exist with their formulas and are readable.

    Picklist fields are restricted picklists of ``choices`` ((value, label) pairs in order); an
    existing field whose values differ is updated, and a value the choices drop stays while a
    record of that object still holds it. A formula field whose formula differs (the date fields
    were renamed) is updated.
    """
    choices = default_choices() if choices is None else choices
    objects = list(soql.SOBJECTS.values())
    existing = {(r["TableEnumOrId"], r["DeveloperName"] + "__c"): r["Id"] for r in client.tooling_query(
        "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId IN "
        + soql.id_list([*objects, "Activity"]))}
    formulas = formula_specs(api_names)
    out: list[ProvisionedField] = []
    for sobject in objects:
        for canonical, name in api_names.items():
            spec = FIELD_SPECS[canonical]
            wanted = list((choices or {}).get(canonical, ()))
            field_id = existing.get((sobject, name))
            created = field_id is None and _create_field(client, sobject, name, spec, wanted)
            if field_id is not None and spec.metadata["type"] == "Picklist":
                _update_values(client, sobject, name, field_id, spec, wanted)
            out.append(ProvisionedField(object=sobject, name=name, label=spec.label, created=created))
        for name, spec in formulas.items():
            field_id = existing.get((sobject, name))
            created = field_id is None and _create_field(client, sobject, name, spec, ())
            if field_id is not None:
                _update_formula(client, field_id, spec)
            out.append(ProvisionedField(object=sobject, name=name, label=spec.label, created=created))
    # tasks for record owners carry their key in an activity field (see connectors.salesforce.tasks)
    created = ("Activity", TASK_KEY_FIELD) not in existing and _create_field(
        client, "Activity", TASK_KEY_FIELD, TASK_KEY_SPEC, ())
    out.append(ProvisionedField(object="Task", name=TASK_KEY_FIELD, label=TASK_KEY_SPEC.label, created=created))
    editable = [f"{o}.{n}" for o in objects for n in api_names.values()] + [f"Task.{TASK_KEY_FIELD}"]
    _grant(client, permission_set, {**{f: True for f in editable},
                                    **{f"{o}.{n}": False for o in objects for n in formulas}})
    return out


def _metadata(spec: FieldSpec, values: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A ``CustomField`` Metadata body; a picklist gets a restricted value set of ``values``."""
    body: dict[str, Any] = {"label": spec.label, "description": _DESCRIPTION, **spec.metadata}
    if spec.metadata["type"] == "Picklist":
        body["valueSet"] = {"restricted": True, "valueSetDefinition": {"sorted": False, "value": [
            {"fullName": value, "label": label, "default": False} for value, label in values]}}
    return body


def _create_field(client: SalesforceClient, sobject: str, name: str, spec: FieldSpec,
                  values: Sequence[tuple[str, str]]) -> bool:
    body = {"FullName": f"{sobject}.{name}", "Metadata": _metadata(spec, values)}
    try:
        client.rest("POST tooling/sobjects/CustomField/", "tooling/sobjects/CustomField/", method="POST", json=body)
    except CrmError as exc:
        if exc.code == "DUPLICATE_DEVELOPER_NAME":
            return False
        raise
    return True


def _update_values(client: SalesforceClient, sobject: str, name: str, field_id: str, spec: FieldSpec,
                   wanted: list[tuple[str, str]]) -> None:
    """PATCH the field's Metadata when its type or picklist values differ from ``wanted``."""
    path = f"tooling/sobjects/CustomField/{field_id}"
    current = client.rest("GET tooling/sobjects/CustomField/{id}", path)["Metadata"] or {}
    held = [(v["fullName"], v.get("label") or v["fullName"])
            for v in ((current.get("valueSet") or {}).get("valueSetDefinition") or {}).get("value") or []]
    keep = {value for value, _ in wanted}
    values = wanted + [(v, label) for v, label in held
                       if v not in keep and _held(client, sobject, name, v)]
    restricted = bool((current.get("valueSet") or {}).get("restricted"))
    if current.get("type") == "Picklist" and restricted and held == values:
        return
    client.rest("PATCH tooling/sobjects/CustomField/{id}", path, method="PATCH",
                json={"Metadata": _metadata(spec, values)})


def _update_formula(client: SalesforceClient, field_id: str, spec: FieldSpec) -> None:
    """PATCH the formula field's Metadata when its formula differs from ``spec``'s."""
    path = f"tooling/sobjects/CustomField/{field_id}"
    current = client.rest("GET tooling/sobjects/CustomField/{id}", path)["Metadata"] or {}
    if current.get("formula") == spec.metadata["formula"] and current.get("type") == spec.metadata["type"]:
        return
    client.rest("PATCH tooling/sobjects/CustomField/{id}", path, method="PATCH",
                json={"Metadata": _metadata(spec, ())})


def _held(client: SalesforceClient, sobject: str, name: str, value: str) -> bool:
    """Whether any ``sobject`` record holds ``value`` in field ``name``."""
    return bool(_all(client, f"SELECT Id FROM {sobject} WHERE {name} = {soql.quote(value)} LIMIT 1"))


def _grant(client: SalesforceClient, permission_set: str, fields: Mapping[str, bool]) -> None:
    """Grant read on every field of ``fields`` (``Object.Field`` -> editable), and edit where it says
    so (a formula field is read only: Salesforce refuses edit on it)."""
    set_id = _permission_set(client, permission_set)
    user_id = client.userinfo()["user_id"]
    assigned = _all(client, f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = {soql.quote(user_id)} "
                            f"AND PermissionSetId = {soql.quote(set_id)}")
    if not assigned:
        client.rest("POST sobjects/PermissionSetAssignment/", "sobjects/PermissionSetAssignment/", method="POST",
                    json={"AssigneeId": user_id, "PermissionSetId": set_id})
    held = {r["Field"]: r for r in _all(client, "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM "
                                                f"FieldPermissions WHERE ParentId = {soql.quote(set_id)}")}
    missing = [{"attributes": {"type": "FieldPermissions"}, "ParentId": set_id, "SobjectType": f.split(".")[0],
                "Field": f, "PermissionsRead": True, "PermissionsEdit": edit} for f, edit in fields.items()
               if f not in held]
    partial = [{"attributes": {"type": "FieldPermissions"}, "Id": held[f]["Id"], "PermissionsRead": True,
                "PermissionsEdit": edit} for f, edit in fields.items()
               if f in held and not (held[f]["PermissionsRead"] and bool(held[f]["PermissionsEdit"]) == edit)]
    for method, rows in (("POST", missing), ("PATCH", partial)):
        if rows:
            answer = client.rest(f"{method} composite/sobjects", "composite/sobjects", method=method,
                                 json={"allOrNone": True, "records": rows})
            failures = [r for r in answer or [] if not r.get("success")]
            if failures:
                error = (failures[0].get("errors") or [{}])[0]
                raise CrmError(f"Salesforce refused field permissions: {error.get('message')}",
                               code=str(error.get("statusCode", "UNKNOWN_ERROR")), details=failures)


def _permission_set(client: SalesforceClient, name: str) -> str:
    found = _all(client, f"SELECT Id FROM PermissionSet WHERE Name = {soql.quote(name)}")
    if found:
        return str(found[0]["Id"])
    created = client.rest("POST sobjects/PermissionSet/", "sobjects/PermissionSet/", method="POST",
                          json={"Name": name, "Label": name.replace("_", " ")})
    return str(created["id"])


def _all(client: SalesforceClient, text: str) -> list[dict[str, Any]]:
    return [r for page in client.query(text) for r in page["records"]]
