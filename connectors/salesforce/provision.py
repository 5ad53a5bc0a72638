"""Creating the write-back custom fields (Tooling API) and granting field-level security on them
through a permission set assigned to the integration user. Every step checks first, so a second
run only reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from connectors.base import CrmError, ProvisionedField
from connectors.salesforce import soql
from connectors.salesforce.client import SalesforceClient


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one canonical write-back field is created in Salesforce."""

    label: str
    metadata: Mapping[str, Any]


FIELD_SPECS: dict[str, FieldSpec] = {
    "journey_stage": FieldSpec("Journey Stage", {"type": "Text", "length": 80}),
    "persona": FieldSpec("Journey Persona", {"type": "Text", "length": 80}),
    "next_best_action": FieldSpec("Next Best Action", {"type": "Text", "length": 255}),
    "stalled": FieldSpec("Journey Stalled", {"type": "Checkbox", "defaultValue": "false"}),
    "stage_entered_at": FieldSpec("Journey Stage Entered At", {"type": "DateTime"}),
    "journey_updated_at": FieldSpec("Journey Updated At", {"type": "DateTime"}),
}
_DESCRIPTION = "Written by Journey Sync; do not edit by hand."


def provision(client: SalesforceClient, api_names: Mapping[str, str], permission_set: str) -> list[ProvisionedField]:
    """Make sure every write-back field exists on every object and is readable and editable."""
    objects = list(soql.SOBJECTS.values())
    existing = {(r["TableEnumOrId"], r["DeveloperName"] + "__c") for r in client.tooling_query(
        "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId IN "
        + soql.id_list(objects))}
    out: list[ProvisionedField] = []
    for sobject in objects:
        for canonical, name in api_names.items():
            spec = FIELD_SPECS[canonical]
            created = (sobject, name) not in existing and _create_field(client, sobject, name, spec)
            out.append(ProvisionedField(object=sobject, name=name, label=spec.label, created=created))
    _grant(client, permission_set, [f"{o}.{n}" for o in objects for n in api_names.values()])
    return out


def _create_field(client: SalesforceClient, sobject: str, name: str, spec: FieldSpec) -> bool:
    body = {"FullName": f"{sobject}.{name}",
            "Metadata": {"label": spec.label, "description": _DESCRIPTION, **spec.metadata}}
    try:
        client.rest("POST tooling/sobjects/CustomField/", "tooling/sobjects/CustomField/", method="POST", json=body)
    except CrmError as exc:
        if exc.code == "DUPLICATE_DEVELOPER_NAME":
            return False
        raise
    return True


def _grant(client: SalesforceClient, permission_set: str, fields: list[str]) -> None:
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
                "Field": f, "PermissionsRead": True, "PermissionsEdit": True} for f in fields if f not in held]
    partial = [{"attributes": {"type": "FieldPermissions"}, "Id": held[f]["Id"], "PermissionsRead": True,
                "PermissionsEdit": True} for f in fields
               if f in held and not (held[f]["PermissionsRead"] and held[f]["PermissionsEdit"])]
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
