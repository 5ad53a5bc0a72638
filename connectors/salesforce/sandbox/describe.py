"""``sobjects/<Object>/describe`` and the global ``sobjects/`` list, in the REST API's shapes."""
from __future__ import annotations

from typing import Any

from connectors.salesforce.sandbox.org import Org
from connectors.salesforce.sandbox.schema import FieldDef, ObjectDef

_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "datetime": "xsd:dateTime",
               "date": "xsd:date", "int": "xsd:int", "currency": "xsd:double", "double": "xsd:double",
               "percent": "xsd:double"}


def describe_field(f: FieldDef) -> dict[str, Any]:
    """One entry of describe's ``fields`` list."""
    numeric = f.type in ("currency", "double", "percent")
    return {
        "aggregatable": f.type not in ("textarea",), "aiPredictionField": False, "autoNumber": False,
        "byteLength": f.length * 3, "calculated": f.formula is not None,
        "calculatedFormula": f.formula.text if f.formula else None, "cascadeDelete": False,
        "caseSensitive": False, "compoundFieldName": None, "controllerName": None, "createable": f.createable,
        "custom": f.custom, "defaultValue": f.default if f.type != "boolean" else bool(f.default),
        "defaultValueFormula": None, "defaultedOnCreate": f.defaulted or f.default is not None,
        "dependentPicklist": False, "deprecatedAndHidden": False, "digits": 9 if f.type == "int" else 0,
        "displayLocationInDecimal": False, "encrypted": False, "externalId": False, "extraTypeInfo": None,
        "filterable": f.type != "textarea", "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": bool(f.formula and f.formula.blank_as_zero),
        "groupable": f.type not in ("textarea", "datetime") and not numeric, "highScaleNumber": False,
        "htmlFormatted": False, "idLookup": f.type == "id", "inlineHelpText": None, "label": f.label,
        "length": f.length if f.type not in ("boolean", "datetime", "date", "int") and not numeric else 0,
        "mask": None, "maskType": None, "name": f.name, "nameField": f.name == "Name", "namePointing": False,
        "nillable": f.nillable, "permissionable": f.custom, "picklistValues": [
            {"active": True, "defaultValue": value == f.default, "label": dict(f.picklist_labels).get(value, value),
             "validFor": None, "value": value}
            for value in f.picklist],
        "polymorphicForeignKey": bool(f.also_references), "precision": 18 if numeric else 0, "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": sorted([f.reference_to, *f.also_references]) if f.reference_to else [],
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": f.restricted, "scale": (f.formula.scale if f.formula else 2) if numeric else 0, "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"), "sortable": f.type != "textarea", "type": f.type,
        "unique": False, "updateable": f.updateable, "writeRequiresMasterRead": False,
    }


def _urls(obj: ObjectDef, version: str, instance_url: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts", "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts", "uiDetailTemplate": f"{instance_url}/{{ID}}",
        "uiEditTemplate": f"{instance_url}/{{ID}}/e", "listviews": f"{base}/listviews",
        "describe": f"{base}/describe", "uiNewRecord": f"{instance_url}/{obj.key_prefix}/e",
        "quickActions": f"{base}/quickActions", "layouts": f"{base}/describe/layouts", "sobject": base,
    }


def _summary(obj: ObjectDef, version: str, instance_url: str) -> dict[str, Any]:
    writable = obj.writable
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": writable, "custom": False, "customSetting": False, "deepCloneable": False,
        "deletable": writable, "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
        "isInterface": False, "isSubtype": False, "keyPrefix": obj.key_prefix, "label": obj.label,
        "labelPlural": obj.label + "s", "layoutable": writable, "mergeable": obj.name in ("Lead", "Contact", "Account"),
        "mruEnabled": writable, "name": obj.name, "queryable": True, "replicateable": True,
        "retrieveable": True, "searchable": writable, "triggerable": writable, "undeletable": writable,
        "updateable": writable, "urls": _urls(obj, version, instance_url),
    }


def describe_object(org: Org, obj: ObjectDef, version: str, instance_url: str) -> dict[str, Any]:
    """The full describe of ``obj``: fields the API user can see, picklists, child relationships."""
    child_relationships = [
        {"cascadeDelete": True, "childSObject": rel.child, "deprecatedAndHidden": False, "field": rel.field,
         "junctionIdListNames": [], "junctionReferenceTo": [], "relationshipName": rel.name,
         "restrictedDelete": False}
        for rel in obj.children.values()]
    return {
        **_summary(obj, version, instance_url),
        "actionOverrides": [], "childRelationships": child_relationships, "compactLayoutable": True,
        "defaultImplementation": None, "extendedBy": None, "extendsInterfaces": None,
        "fields": [describe_field(f) for f in org.visible_fields(obj)], "implementedBy": None,
        "implementsInterfaces": None, "listviewable": None, "lookupLayoutable": None,
        "namedLayoutInfos": [], "networkScopeFieldName": None, "recordTypeInfos": [],
        "searchLayoutable": True, "sobjectDescribeOption": "FULL", "supportedScopes": [
            {"label": "All " + obj.label + "s", "name": "everything"}],
    }


def describe_global(org: Org, version: str, instance_url: str) -> dict[str, Any]:
    """``GET sobjects/``: encoding, batch size and a summary of every data API object."""
    return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
        _summary(obj, version, instance_url) for obj in org.schema.values() if not obj.tooling]}
