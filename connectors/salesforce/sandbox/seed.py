"""Validation of the ``salesforce`` part of a seed file (format: shared/fixtures/README.md).

Pydantic checks each record's shape (unknown keys are errors, except custom ``*__c`` fields, which
the seed may name); the cross-record rules (history, stages, references) are checked afterwards so
that every problem is reported at once, each with its path: ``salesforce.opportunities[3].X: ...``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.salesforce.sandbox.ids import KEY_PREFIXES, looks_like_id, to18
from connectors.seedfile import SeedError, format_validation_error


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WithCustomFields(_Strict):
    """A record that may carry custom fields (``Name__c``) besides its declared ones."""

    custom: dict[str, Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _collect_custom_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            data["custom"] = {k: data.pop(k) for k in list(data) if k.endswith("__c")}
        return data


class SeedStage(_Strict):
    MasterLabel: str
    ApiName: str | None = None
    SortOrder: int
    IsClosed: bool = False
    IsWon: bool = False
    DefaultProbability: float = 0
    IsActive: bool = True
    ForecastCategoryName: str | None = None


class SeedAccount(_WithCustomFields):
    Id: str | None = None
    Name: str
    Industry: str | None = None
    NumberOfEmployees: int | None = None
    BillingCountry: str | None = None
    OwnerId: str | None = None
    CreatedDate: AwareDatetime | None = None


class SeedHistory(_Strict):
    StageName: str
    CreatedDate: AwareDatetime


class SeedOpportunity(_WithCustomFields):
    Id: str | None = None
    Name: str
    AccountId: str | None = None
    Amount: float | None = None
    StageName: str
    CloseDate: date
    LeadSource: str | None = None
    Type: str | None = None
    OwnerId: str | None = None
    Probability: float | None = None
    CreatedDate: AwareDatetime | None = None
    LastModifiedDate: AwareDatetime | None = None
    history: list[SeedHistory] | None = None


class SeedLead(_WithCustomFields):
    Id: str | None = None
    FirstName: str | None = None
    LastName: str
    Company: str
    Title: str | None = None
    Email: str | None = None
    Country: str | None = None
    Industry: str | None = None
    NumberOfEmployees: int | None = None
    Status: str = "Open - Not Contacted"
    LeadSource: str | None = None
    IsConverted: bool = False
    OwnerId: str | None = None
    CreatedDate: AwareDatetime | None = None
    LastModifiedDate: AwareDatetime | None = None


class SeedContact(_WithCustomFields):
    Id: str | None = None
    FirstName: str | None = None
    LastName: str
    AccountId: str | None = None
    Title: str | None = None
    Email: str | None = None
    MailingCountry: str | None = None
    LeadSource: str | None = None
    OwnerId: str | None = None
    CreatedDate: AwareDatetime | None = None
    LastModifiedDate: AwareDatetime | None = None


class SeedContactRole(_Strict):
    OpportunityId: str
    ContactId: str
    Role: str | None = None
    IsPrimary: bool = False


class SeedUser(_Strict):
    """A user who can own records (``User``)."""

    Id: str
    FirstName: str | None = None
    LastName: str
    Email: str | None = None


class SalesforceSeed(_Strict):
    """The ``salesforce`` key of a seed file."""

    org_id: str | None = None
    users: list[SeedUser] = Field(default_factory=list)
    opportunity_stages: list[SeedStage] | None = None
    accounts: list[SeedAccount] = Field(default_factory=list)
    opportunities: list[SeedOpportunity] = Field(default_factory=list)
    leads: list[SeedLead] = Field(default_factory=list)
    contacts: list[SeedContact] = Field(default_factory=list)
    opportunity_contact_roles: list[SeedContactRole] = Field(default_factory=list)


class _SeedFile(_Strict):
    salesforce: SalesforceSeed


def parse_seed(seed: dict[str, Any] | None, stock_stages: tuple[dict[str, Any], ...],
               lead_statuses: tuple[str, ...]) -> SalesforceSeed:
    """Validate ``seed`` (the value of the file's ``salesforce`` key). Raises :class:`SeedError`."""
    try:
        parsed = _SeedFile.model_validate({"salesforce": seed or {}}).salesforce
    except ValidationError as exc:
        raise SeedError(_strip_source(format_validation_error("", exc))) from None
    if parsed.opportunity_stages is None:
        parsed.opportunity_stages = [SeedStage(**s) for s in stock_stages]
    problems = _cross_record_problems(parsed, lead_statuses)
    if problems:
        raise SeedError("\n".join(problems))
    return parsed


def _strip_source(text: str) -> str:
    return "\n".join(line.removeprefix(": ") for line in text.splitlines())


def _cross_record_problems(seed: SalesforceSeed, lead_statuses: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    stage_values = {s.ApiName or s.MasterLabel for s in seed.opportunity_stages or ()}
    if seed.org_id is not None and not looks_like_id(seed.org_id):
        problems.append(f"salesforce.org_id: {seed.org_id!r} is not a 15- or 18-character id")
    ids_by_kind: dict[str, set[str]] = {}
    for kind, sobject in (("users", "User"), ("accounts", "Account"), ("opportunities", "Opportunity"),
                          ("leads", "Lead"), ("contacts", "Contact")):
        seen: set[str] = set()
        for i, rec in enumerate(getattr(seed, kind)):
            if rec.Id is None:
                continue
            where = f"salesforce.{kind}[{i}].Id"
            if not looks_like_id(rec.Id):
                problems.append(f"{where}: {rec.Id!r} is not a 15- or 18-character Salesforce id")
            elif not rec.Id.startswith(KEY_PREFIXES[sobject]):
                problems.append(f"{where}: {rec.Id!r} does not start with the {sobject} key prefix "
                                f"{KEY_PREFIXES[sobject]!r}")
            elif to18(rec.Id) in seen:
                problems.append(f"{where}: duplicate id {rec.Id!r}")
            seen.add(to18(rec.Id))
        ids_by_kind[kind] = seen
    for i, opp in enumerate(seed.opportunities):
        where = f"salesforce.opportunities[{i}]"
        if opp.StageName not in stage_values:
            problems.append(f"{where}.StageName: {opp.StageName!r} is not an opportunity stage "
                            f"(known: {', '.join(sorted(stage_values))})")
        if opp.AccountId is not None and to18(opp.AccountId) not in ids_by_kind["accounts"]:
            problems.append(f"{where}.AccountId: no account with id {opp.AccountId!r} in the seed")
        problems.extend(_history_problems(where, opp, stage_values))
    for i, lead in enumerate(seed.leads):
        if lead.Status not in lead_statuses:
            problems.append(f"salesforce.leads[{i}].Status: {lead.Status!r} is not a lead status "
                            f"(known: {', '.join(lead_statuses)})")
    for i, contact in enumerate(seed.contacts):
        if contact.AccountId is not None and to18(contact.AccountId) not in ids_by_kind["accounts"]:
            problems.append(f"salesforce.contacts[{i}].AccountId: no account with id "
                            f"{contact.AccountId!r} in the seed")
    for i, role in enumerate(seed.opportunity_contact_roles):
        where = f"salesforce.opportunity_contact_roles[{i}]"
        if to18(role.OpportunityId) not in ids_by_kind["opportunities"]:
            problems.append(f"{where}.OpportunityId: no opportunity with id {role.OpportunityId!r} in the seed")
        if to18(role.ContactId) not in ids_by_kind["contacts"]:
            problems.append(f"{where}.ContactId: no contact with id {role.ContactId!r} in the seed")
    return problems


def _history_problems(where: str, opp: SeedOpportunity, stage_values: set[str]) -> list[str]:
    if not opp.history:
        return [] if opp.history is None else [f"{where}.history: must not be empty (leave it out instead)"]
    problems = []
    previous: datetime | None = None
    for j, entry in enumerate(opp.history):
        if entry.StageName not in stage_values:
            problems.append(f"{where}.history[{j}].StageName: {entry.StageName!r} is not an opportunity stage")
        if previous is not None and entry.CreatedDate < previous:
            problems.append(f"{where}.history[{j}].CreatedDate: history must be oldest first "
                            f"({entry.CreatedDate.isoformat()} is before {previous.isoformat()})")
        previous = entry.CreatedDate
    if opp.history[-1].StageName != opp.StageName:
        problems.append(f"{where}.history[{len(opp.history) - 1}].StageName: the last entry "
                        f"{opp.history[-1].StageName!r} must equal the current StageName {opp.StageName!r}")
    if opp.CreatedDate is not None and opp.history[0].CreatedDate < opp.CreatedDate:
        problems.append(f"{where}.history[0].CreatedDate: before the opportunity's CreatedDate")
    return problems
