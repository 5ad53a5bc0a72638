"""What a fresh HubSpot portal holds: object types, built-in properties, default pipeline, groups."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Property types and the field types HubSpot allows for each (properties API, PropertyCreate).
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "file", "phonenumber", "html"),
    "number": ("number", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox", "calculation_equation"),
    "bool": ("booleancheckbox", "calculation_equation"),
}


@dataclass
class PropertyDef:
    """One property definition as the properties API describes it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    options: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    read_only: bool = False
    hubspot_defined: bool = True
    #: Options live elsewhere (owners): values are not checked against ``options``.
    external_options: bool = False
    display_order: int = -1

    def to_json(self, created_at: str) -> dict[str, Any]:
        """The ``Property`` JSON object."""
        return {
            "name": self.name, "label": self.label, "type": self.type, "fieldType": self.field_type,
            "groupName": self.group_name, "description": self.description,
            "options": self.options, "displayOrder": self.display_order,
            "calculated": False, "externalOptions": self.external_options,
            "hasUniqueValue": False, "hidden": False, "hubspotDefined": self.hubspot_defined,
            "formField": not self.read_only, "archived": False,
            "createdAt": created_at, "updatedAt": created_at,
            "modificationMetadata": {"archivable": not self.hubspot_defined,
                                     "readOnlyDefinition": self.hubspot_defined,
                                     "readOnlyValue": self.read_only},
        }


@dataclass(frozen=True)
class ObjectType:
    """A CRM object type the sandbox serves."""

    name: str  # plural path name: "deals"
    type_id: str  # "0-3"
    singular: str  # "deal" (webhook subscription prefix)
    label: str  # "DEAL" (as in HubSpot's error messages)
    stage_property: str
    modified_property: str
    default_properties: tuple[str, ...]
    default_group: str


DEALS = ObjectType("deals", "0-3", "deal", "DEAL", "dealstage", "hs_lastmodifieddate",
                   ("amount", "closedate", "createdate", "dealname", "dealstage",
                    "hs_lastmodifieddate", "hs_object_id", "pipeline"), "dealinformation")
CONTACTS = ObjectType("contacts", "0-1", "contact", "CONTACT", "lifecyclestage", "lastmodifieddate",
                      ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
                       "lastname"), "contactinformation")
#: Tasks (an engagement): created with associations to deals or contacts; ``hs_task_status``
#: plays the stage's part (it is the property whose changes the history tracks).
TASKS = ObjectType("tasks", "0-27", "task", "TASK", "hs_task_status", "hs_lastmodifieddate",
                   ("hs_task_subject", "hs_task_status", "hs_timestamp", "hs_object_id",
                    "hs_lastmodifieddate", "createdate"), "task_information")
OBJECT_TYPES: dict[str, ObjectType] = {
    alias: t for t in (DEALS, CONTACTS, TASKS) for alias in (t.name, t.type_id, t.singular)
}


def _options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"label": label, "value": value, "displayOrder": i, "hidden": False, "description": ""}
            for i, (value, label) in enumerate(pairs)]


LIFECYCLE_STAGES = _options(
    ("subscriber", "Subscriber"), ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"), ("opportunity", "Opportunity"),
    ("customer", "Customer"), ("evangelist", "Evangelist"), ("other", "Other"))

ANALYTICS_SOURCES = _options(
    ("ORGANIC_SEARCH", "Organic Search"), ("PAID_SEARCH", "Paid Search"),
    ("EMAIL_MARKETING", "Email Marketing"), ("SOCIAL_MEDIA", "Organic Social"),
    ("REFERRALS", "Referrals"), ("OTHER_CAMPAIGNS", "Other Campaigns"),
    ("DIRECT_TRAFFIC", "Direct Traffic"), ("OFFLINE", "Offline Sources"),
    ("PAID_SOCIAL", "Paid Social"), ("AI_REFERRALS", "AI Referrals"))

DEFAULT_PIPELINE: dict[str, Any] = {
    "id": "default", "label": "Sales Pipeline", "displayOrder": 0,
    "stages": [
        {"id": stage_id, "label": label, "displayOrder": i,
         "metadata": {"isClosed": "true" if stage_id.startswith("closed") else "false",
                      "probability": probability}}
        for i, (stage_id, label, probability) in enumerate([
            ("appointmentscheduled", "Appointment Scheduled", "0.2"),
            ("qualifiedtobuy", "Qualified To Buy", "0.4"),
            ("presentationscheduled", "Presentation Scheduled", "0.6"),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
            ("contractsent", "Contract Sent", "0.9"),
            ("closedwon", "Closed Won", "1.0"),
            ("closedlost", "Closed Lost", "0.0"),
        ])
    ],
}


def _common(group: str, modified: str) -> list[PropertyDef]:
    return [
        PropertyDef("hs_object_id", "Record ID", "number", "number", group, read_only=True),
        PropertyDef("createdate", "Create Date", "datetime", "date", group, read_only=True),
        PropertyDef(modified, "Last Modified Date", "datetime", "date", group, read_only=True),
        PropertyDef("hubspot_owner_id", "Owner", "enumeration", "select", group,
                    external_options=True),
        PropertyDef("hs_analytics_source", "Original Traffic Source", "enumeration", "select",
                    "analyticsinformation", options=ANALYTICS_SOURCES),
    ]


def builtin_properties(object_type: ObjectType) -> list[PropertyDef]:
    """The properties a fresh portal has for ``object_type`` (the ones this sandbox models)."""
    group = object_type.default_group
    common = _common(group, object_type.modified_property)
    if object_type is TASKS:
        return common + [
            PropertyDef("hs_task_subject", "Task Title", "string", "text", group),
            PropertyDef("hs_task_body", "Task notes", "string", "textarea", group),
            PropertyDef("hs_timestamp", "Due date", "datetime", "date", group),
            PropertyDef("hs_task_status", "Task Status", "enumeration", "select", group, options=_options(
                ("NOT_STARTED", "Not started"), ("IN_PROGRESS", "In progress"), ("WAITING", "Waiting"),
                ("COMPLETED", "Completed"), ("DEFERRED", "Deferred"))),
            PropertyDef("hs_task_priority", "Priority", "enumeration", "select", group, options=_options(
                ("NONE", "None"), ("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"))),
            PropertyDef("hs_task_type", "Task Type", "enumeration", "select", group, options=_options(
                ("CALL", "Call"), ("EMAIL", "Email"), ("TODO", "To-do"))),
        ]
    if object_type is DEALS:
        return common + [
            PropertyDef("dealname", "Deal Name", "string", "text", group),
            PropertyDef("amount", "Amount", "number", "number", group),
            PropertyDef("closedate", "Close Date", "datetime", "date", group),
            # Pipeline and stage options come from the pipelines API, so they are not listed here.
            PropertyDef("pipeline", "Pipeline", "enumeration", "select", group, external_options=True),
            PropertyDef("dealstage", "Deal Stage", "enumeration", "radio", group,
                        external_options=True),
            PropertyDef("dealtype", "Deal Type", "enumeration", "radio", group, options=_options(
                ("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))),
            PropertyDef("description", "Deal Description", "string", "textarea", group),
        ]
    return common + [
        PropertyDef("email", "Email", "string", "text", group),
        PropertyDef("firstname", "First Name", "string", "text", group),
        PropertyDef("lastname", "Last Name", "string", "text", group),
        PropertyDef("company", "Company Name", "string", "text", group),
        PropertyDef("jobtitle", "Job Title", "string", "text", group),
        PropertyDef("industry", "Industry", "string", "text", group),
        PropertyDef("numemployees", "Number of Employees", "enumeration", "select", group,
                    options=_options(("1-5", "1-5"), ("5-25", "5-25"), ("25-50", "25-50"),
                                     ("50-100", "50-100"), ("100-500", "100-500"),
                                     ("500-1000", "500-1000"), ("1000+", "1000+"))),
        PropertyDef("country", "Country/Region", "string", "text", group),
        PropertyDef("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", group,
                    options=LIFECYCLE_STAGES),
    ]


def builtin_groups(object_type: ObjectType) -> list[dict[str, Any]]:
    """The property groups a fresh portal has for ``object_type``."""
    label = {DEALS.name: "Deal information", TASKS.name: "Task information"}.get(
        object_type.name, "Contact information")
    return [{"name": object_type.default_group, "label": label, "displayOrder": 0, "archived": False},
            {"name": "analyticsinformation", "label": "Analytics information", "displayOrder": 1,
             "archived": False}]
