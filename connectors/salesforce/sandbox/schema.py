"""The sandbox org's schema: objects, fields, relationships and their describe shapes.

Field types use Salesforce's describe names (``id``, ``string``, ``picklist``, ``datetime``...).
Custom fields are added at run time through the Tooling API; they are part of the schema at once
but stay invisible to the API user until field-level security grants them (see ``org.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from connectors.salesforce.sandbox.formula import Formula, FormulaError, compile_formula
from connectors.salesforce.sandbox.ids import KEY_PREFIXES

STOCK_OPPORTUNITY_STAGES: tuple[dict[str, Any], ...] = (
    {"MasterLabel": "Prospecting", "SortOrder": 1, "IsClosed": False, "IsWon": False, "DefaultProbability": 10},
    {"MasterLabel": "Qualification", "SortOrder": 2, "IsClosed": False, "IsWon": False, "DefaultProbability": 10},
    {"MasterLabel": "Needs Analysis", "SortOrder": 3, "IsClosed": False, "IsWon": False, "DefaultProbability": 20},
    {"MasterLabel": "Value Proposition", "SortOrder": 4, "IsClosed": False, "IsWon": False, "DefaultProbability": 50},
    {"MasterLabel": "Id. Decision Makers", "SortOrder": 5, "IsClosed": False, "IsWon": False, "DefaultProbability": 60},
    {"MasterLabel": "Perception Analysis", "SortOrder": 6, "IsClosed": False, "IsWon": False, "DefaultProbability": 70},
    {"MasterLabel": "Proposal/Price Quote", "SortOrder": 7, "IsClosed": False, "IsWon": False, "DefaultProbability": 75},
    {"MasterLabel": "Negotiation/Review", "SortOrder": 8, "IsClosed": False, "IsWon": False, "DefaultProbability": 90},
    {"MasterLabel": "Closed Won", "SortOrder": 9, "IsClosed": True, "IsWon": True, "DefaultProbability": 100},
    {"MasterLabel": "Closed Lost", "SortOrder": 10, "IsClosed": True, "IsWon": False, "DefaultProbability": 0},
)

LEAD_STATUSES: tuple[str, ...] = (
    "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted",
)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of an sObject, with what describe and the write path need to know."""

    name: str
    type: str
    label: str
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    custom: bool = False
    length: int = 0
    picklist: tuple[str, ...] = ()
    #: Labels of picklist values whose label is not the value itself.
    picklist_labels: tuple[tuple[str, str], ...] = ()
    restricted: bool = False
    #: Values are checked on write even though describe does not flag the picklist restricted
    #: (StageName and Status must name an OpportunityStage / LeadStatus).
    validated: bool = False
    defaulted: bool = False
    reference_to: str | None = None
    #: Extra targets of a polymorphic reference (Lead.OwnerId points at User or Group).
    also_references: tuple[str, ...] = ()
    relationship_name: str | None = None
    default: Any = None
    #: A formula field's compiled formula: its value is computed on every read, never stored.
    formula: Formula | None = None


@dataclass(frozen=True, slots=True)
class ChildRelationship:
    """A child relationship usable in a subquery: ``(SELECT ... FROM <name>)``."""

    name: str
    child: str
    field: str


@dataclass(slots=True)
class ObjectDef:
    """One sObject: its fields by API name and its child relationships by name."""

    name: str
    label: str
    fields: dict[str, FieldDef]
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    tooling: bool = False

    @property
    def writable(self) -> bool:
        """Whether the API may insert and update records of this object (history and setup objects
        are maintained by Salesforce itself)."""
        return self.name not in ("OpportunityHistory", "OpportunityStage", "LeadStatus", "CustomField",
                                 "Organization")

    @property
    def key_prefix(self) -> str:
        return KEY_PREFIXES[self.name]

    def parent_relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship is called ``name`` (case-insensitive)."""
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == name.lower():
                return f
        return None

    def field_named(self, name: str) -> FieldDef | None:
        """The field called ``name``, matched case-insensitively like SOQL does."""
        exact = self.fields.get(name)
        if exact is not None:
            return exact
        lowered = name.lower()
        return next((f for n, f in self.fields.items() if n.lower() == lowered), None)


#: Task statuses of a new org; "Completed" closes the task.
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
#: Custom fields created on ``Activity`` (``Activity.X__c``) appear on these objects.
ACTIVITY_OBJECTS = ("Task",)


def _f(name: str, type_: str, label: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type=type_, label=label or name, **kw)


def _ref(name: str, target: str, relationship: str, **kw: Any) -> FieldDef:
    return FieldDef(name=name, type="reference", label=name, reference_to=target,
                    relationship_name=relationship, length=18, **kw)


def _system_fields() -> list[FieldDef]:
    ro = {"updateable": False, "createable": False, "nillable": False, "defaulted": True}
    return [
        _f("Id", "id", updateable=False, createable=False, nillable=False, length=18, defaulted=True),
        _f("IsDeleted", "boolean", **ro, default=False),
        _f("CreatedDate", "datetime", **ro),
        _ref("CreatedById", "User", "CreatedBy", **ro),
        _f("LastModifiedDate", "datetime", **ro),
        _ref("LastModifiedById", "User", "LastModifiedBy", **ro),
        _f("SystemModstamp", "datetime", **ro),
    ]


def _owner(*also: str) -> FieldDef:
    return _ref("OwnerId", "User", "Owner", nillable=False, defaulted=True, also_references=also)


#: Objects Salesforce never modifies after writing them: they have no LastModified* fields.
_WRITE_ONCE = ("OpportunityHistory",)


def _object(name: str, label: str, fields: list[FieldDef], *, children: tuple[ChildRelationship, ...] = (),
            tooling: bool = False) -> ObjectDef:
    system = [f for f in _system_fields()
              if name not in _WRITE_ONCE or not f.name.startswith("LastModified")]
    all_fields = system + fields
    return ObjectDef(name=name, label=label, fields={f.name: f for f in all_fields},
                     children={c.name: c for c in children}, tooling=tooling)


def build_schema(stage_names: tuple[str, ...]) -> dict[str, ObjectDef]:
    """The standard objects the sandbox serves, with ``stage_names`` as the StageName picklist."""
    ro = {"updateable": False, "createable": False}
    objects = [
        _object("Account", "Account", [
            _f("Name", "string", length=255, nillable=False),
            _f("Industry", "picklist", length=255),
            _f("NumberOfEmployees", "int"),
            _f("BillingCountry", "string", length=80),
            _owner(),
        ]),
        _object("Opportunity", "Opportunity", [
            _ref("AccountId", "Account", "Account"),
            _f("Name", "string", length=120, nillable=False),
            _f("StageName", "picklist", "Stage", length=255, nillable=False, picklist=stage_names,
               validated=True),
            _f("Amount", "currency"),
            _f("Probability", "percent", defaulted=True),
            _f("CloseDate", "date", "Close Date", nillable=False),
            _f("Type", "picklist", length=255),
            _f("LeadSource", "picklist", "Lead Source", length=255),
            _f("IsClosed", "boolean", **ro, nillable=False, default=False),
            _f("IsWon", "boolean", **ro, nillable=False, default=False),
            _f("ForecastCategoryName", "picklist", length=255, restricted=True, defaulted=True,
               picklist=("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
            _owner(),
            _f("LastStageChangeDate", "datetime", **ro),
        ], children=(
            ChildRelationship("OpportunityHistories", "OpportunityHistory", "OpportunityId"),
            ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"),
        )),
        # A row per change of an opportunity's Amount, CloseDate, Probability or StageName.
        _object("OpportunityHistory", "Opportunity History", [
            _ref("OpportunityId", "Opportunity", "Opportunity", **ro),
            _f("StageName", "picklist", "Stage Name", length=255, **ro),
            _f("Amount", "currency", **ro),
            _f("ExpectedRevenue", "currency", "Expected Revenue", **ro),
            _f("CloseDate", "date", "Close Date", **ro),
            _f("Probability", "percent", **ro),
            _f("ForecastCategory", "picklist", "To Forecast Category", length=40, restricted=True, **ro,
               picklist=("BestCase", "Closed", "Forecast", "MostLikely", "Omitted", "Pipeline")),
            _f("PrevAmount", "currency", "Previous Amount", **ro),
            _f("PrevCloseDate", "date", "Previous Close Date", **ro),
        ]),
        _object("OpportunityStage", "Opportunity Stage", [
            _f("MasterLabel", "string", length=255, **ro),
            _f("ApiName", "string", length=255, **ro),
            _f("IsActive", "boolean", **ro),
            _f("SortOrder", "int", **ro),
            _f("IsClosed", "boolean", **ro),
            _f("IsWon", "boolean", **ro),
            _f("ForecastCategoryName", "picklist", length=255, **ro),
            _f("DefaultProbability", "percent", **ro),
        ]),
        _object("LeadStatus", "Lead Status", [
            _f("MasterLabel", "string", length=255, **ro),
            _f("ApiName", "string", length=255, **ro),
            _f("SortOrder", "int", **ro),
            _f("IsConverted", "boolean", **ro),
            _f("IsDefault", "boolean", **ro),
        ]),
        _object("OpportunityContactRole", "Opportunity Contact Role", [
            _ref("OpportunityId", "Opportunity", "Opportunity", nillable=False),
            _ref("ContactId", "Contact", "Contact", nillable=False),
            _f("Role", "picklist", length=255),
            _f("IsPrimary", "boolean", nillable=False, default=False),
        ]),
        _object("Lead", "Lead", [
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, nillable=False),
            _f("Name", "string", length=121, **ro, nillable=False),
            _f("Title", "string", length=128),
            _f("Company", "string", length=255, nillable=False),
            _f("Email", "email", length=80),
            _f("Country", "string", length=80),
            _f("Industry", "picklist", length=255),
            _f("NumberOfEmployees", "int"),
            _f("LeadSource", "picklist", "Lead Source", length=255),
            _f("Status", "picklist", "Status", length=255, nillable=False, picklist=LEAD_STATUSES,
               validated=True, default=LEAD_STATUSES[0]),
            _f("IsConverted", "boolean", nillable=False, default=False, updateable=False),
            _owner("Group"),
        ]),
        _object("Contact", "Contact", [
            _ref("AccountId", "Account", "Account"),
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, nillable=False),
            _f("Name", "string", length=121, **ro),
            _f("Title", "string", length=128),
            _f("Email", "email", length=80),
            _f("MailingCountry", "string", length=80),
            _f("LeadSource", "picklist", "Lead Source", length=255),
            _owner(),
        ], children=(
            ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "ContactId"),
        )),
        _object("Task", "Task", [
            _f("Subject", "string", length=255),
            _f("Description", "textarea", "Comments", length=32000),
            _f("ActivityDate", "date", "Due Date Only"),
            _f("Status", "picklist", length=255, nillable=False, picklist=TASK_STATUSES, validated=True,
               default=TASK_STATUSES[0]),
            _f("Priority", "picklist", length=40, nillable=False, picklist=("High", "Normal", "Low"),
               validated=True, default="Normal"),
            _f("IsClosed", "boolean", nillable=False, default=False, updateable=False, createable=False),
            _ref("WhatId", "Opportunity", "What", also_references=("Account",)),
            _ref("WhoId", "Contact", "Who", also_references=("Lead",)),
            _owner(),
        ]),
        _object("User", "User", [
            _f("Username", "string", length=80, nillable=False),
            _f("Name", "string", length=121, **ro),
            _f("FirstName", "string", length=40),
            _f("LastName", "string", length=80, nillable=False),
            _f("Email", "email", length=128),
            _f("IsActive", "boolean", default=True),
        ]),
        _object("Organization", "Organization", [
            _f("Name", "string", length=80, nillable=False),
            _f("OrganizationType", "picklist", "Edition", length=255, updateable=False),
            _f("IsSandbox", "boolean", default=False, updateable=False),
            _f("InstanceName", "string", length=5, updateable=False),
        ]),
        _object("PermissionSet", "Permission Set", [
            _f("Name", "string", length=80, nillable=False),
            _f("Label", "string", length=80, nillable=False),
        ]),
        _object("PermissionSetAssignment", "Permission Set Assignment", [
            _ref("AssigneeId", "User", "Assignee", nillable=False),
            _ref("PermissionSetId", "PermissionSet", "PermissionSet", nillable=False),
        ]),
        _object("FieldPermissions", "Field Permissions", [
            _ref("ParentId", "PermissionSet", "Parent", nillable=False),
            _f("SobjectType", "picklist", length=255, nillable=False),
            _f("Field", "string", length=255, nillable=False),
            _f("PermissionsRead", "boolean", default=False),
            _f("PermissionsEdit", "boolean", default=False),
        ]),
        _object("CustomField", "Custom Field", [
            _f("DeveloperName", "string", length=40, **ro),
            _f("TableEnumOrId", "string", length=40, **ro),
            _f("FullName", "string", length=255, **ro),
        ], tooling=True),
    ]
    return {o.name: o for o in objects}


#: Metadata types accepted for a Tooling API ``CustomField`` and the describe type they become.
CUSTOM_FIELD_TYPES: dict[str, str] = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Checkbox": "boolean",
    "DateTime": "datetime",
    "Date": "date",
    "Number": "double",
    "Picklist": "picklist",
}


def custom_field(name: str, metadata: dict[str, Any], siblings: dict[str, FieldDef] | None = None) -> FieldDef:
    """A :class:`FieldDef` for a Tooling API ``CustomField`` body's ``Metadata``.

    A ``formula`` makes a read-only formula field over the object's other fields (``siblings``);
    a formula Salesforce would refuse raises :class:`FormulaError`.
    """
    describe_type = CUSTOM_FIELD_TYPES[metadata["type"]]
    if metadata.get("formula") is not None:
        return _formula_field(name, metadata, siblings or {})
    values: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    restricted = False
    if describe_type == "picklist":
        value_set = metadata.get("valueSet") or {}
        definition = value_set.get("valueSetDefinition") or {}
        values = tuple(v["fullName"] for v in definition.get("value", []))
        labels = tuple((v["fullName"], v.get("label") or v["fullName"]) for v in definition.get("value", []))
        restricted = bool(value_set.get("restricted"))
    length = int(metadata.get("length") or (255 if describe_type in ("string", "picklist") else 0))
    default: Any = None
    if describe_type == "boolean":
        default = str(metadata.get("defaultValue", "false")).lower() == "true"
    return FieldDef(name=name, type=describe_type, label=metadata.get("label") or name, custom=True,
                    length=length, picklist=values, picklist_labels=labels, restricted=restricted,
                    validated=restricted,
                    nillable=describe_type != "boolean", default=default)


#: Formula return types the sandbox computes (Salesforce's other formula types are refused).
FORMULA_TYPES = {"Number": "Number", "Checkbox": "Checkbox", "Date": "Date", "DateTime": "DateTime"}


def _formula_field(name: str, metadata: dict[str, Any], siblings: dict[str, FieldDef]) -> FieldDef:
    kind = metadata["type"]
    if kind not in FORMULA_TYPES:
        raise FormulaError(f"Formula fields of type {kind} are not supported here")
    if kind == "Number" and metadata.get("precision") in (None, ""):
        raise FormulaError("Precision: You must enter a value")
    formula = compile_formula(str(metadata["formula"]), {n: f.type for n, f in siblings.items() if n != name},
                              result=FORMULA_TYPES[kind], scale=int(metadata.get("scale") or 0),
                              blank_as_zero=metadata.get("formulaTreatBlanksAs") == "BlankAsZero")
    return FieldDef(name=name, type=CUSTOM_FIELD_TYPES[kind], label=metadata.get("label") or name, custom=True,
                    updateable=False, createable=False, formula=formula)


def seeded_custom_field(name: str, sample: Any) -> FieldDef:
    """A custom field that a seed names, typed from a sample value (text, checkbox or datetime)."""
    if isinstance(sample, bool):
        return replace(custom_field(name, {"type": "Checkbox"}), label=name)
    if isinstance(sample, (int, float)):
        return replace(custom_field(name, {"type": "Number"}), label=name)
    if isinstance(sample, str) and len(sample) >= 19 and sample[4] == "-" and sample[10] == "T":
        return replace(custom_field(name, {"type": "DateTime"}), label=name)
    return replace(custom_field(name, {"type": "Text", "length": 255}), label=name)
