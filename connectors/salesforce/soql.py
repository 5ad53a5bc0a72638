"""The SOQL the connector sends, built from the object, the watermark and the write-back fields."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

#: Object kind -> Salesforce object name.
SOBJECTS = {"opportunity": "Opportunity", "lead": "Lead", "contact": "Contact"}

#: Standard fields read for each object kind (persona fields, stage, stamps).
BASE_FIELDS: dict[str, tuple[str, ...]] = {
    "opportunity": ("Id", "Name", "StageName", "Amount", "Type", "LeadSource", "OwnerId", "CloseDate",
                    "Probability", "IsClosed", "IsWon", "CreatedDate", "LastModifiedDate", "SystemModstamp",
                    "LastStageChangeDate", "AccountId", "Account.Name", "Account.Industry",
                    "Account.NumberOfEmployees", "Account.BillingCountry"),
    "lead": ("Id", "Name", "Email", "Status", "IsConverted", "Title", "Company", "LeadSource", "Country", "Industry",
             "NumberOfEmployees", "OwnerId", "CreatedDate", "LastModifiedDate", "SystemModstamp"),
    "contact": ("Id", "Name", "Email", "Title", "LeadSource", "MailingCountry", "OwnerId", "AccountId", "Account.Name",
                "Account.Industry", "Account.NumberOfEmployees", "Account.BillingCountry", "CreatedDate",
                "LastModifiedDate", "SystemModstamp"),
}

#: Columns of the pull queries that are not text, to read Bulk API CSV (where every cell is text).
NUMBER_COLUMNS = frozenset({"Amount", "Probability"})
INTEGER_COLUMNS = frozenset({"NumberOfEmployees", "Account.NumberOfEmployees"})
BOOLEAN_COLUMNS = frozenset({"IsClosed", "IsWon", "IsConverted"})
DATETIME_COLUMNS = frozenset({"CreatedDate", "LastModifiedDate", "SystemModstamp", "LastStageChangeDate"})

CONTACT_ROLES_SUBQUERY = ("(SELECT OpportunityId, Opportunity.StageName, Opportunity.LastModifiedDate, "
                          "Opportunity.LastStageChangeDate FROM OpportunityContactRoles)")
#: Ids per ``Id IN (...)`` clause: keeps the query URL far below Salesforce's 16,384-character limit.
IDS_PER_QUERY = 300


def literal_datetime(value: datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC)."""
    if value.tzinfo is None:
        raise ValueError("watermarks must be timezone-aware datetimes")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def quote(value: str) -> str:
    """A SOQL string literal."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def id_list(ids: Iterable[str]) -> str:
    """``('a','b')`` for an ``IN`` clause."""
    return "(" + ",".join(quote(i) for i in ids) + ")"


def select(kind: str, extra_fields: Sequence[str], *, where: str | None, ordered: bool = True) -> str:
    """The pull query of ``kind`` with ``extra_fields`` (write-back fields that exist), by Id.

    Opportunities come without their stage history: a child subquery's rows count toward the
    page size and shrink pages, so history is read on its own (:func:`history`) and only where
    needed. Ordered by Id so pages join with the history stream; a Bulk API query is not
    (``ordered=False``: ORDER BY stops Salesforce chunking the job).
    """
    fields = list(BASE_FIELDS[kind]) + [f for f in extra_fields if f not in BASE_FIELDS[kind]]
    if kind == "contact":
        fields.append(CONTACT_ROLES_SUBQUERY)
    clause = f" WHERE {where}" if where else ""
    order = " ORDER BY Id" if ordered else ""
    return f"SELECT {', '.join(fields)} FROM {SOBJECTS[kind]}{clause}{order}"


def history(opportunity_ids: Sequence[str] | None = None, *, ordered: bool = True) -> str:
    """Stage history rows, grouped by opportunity in Id order: of ``opportunity_ids``, or all
    (unordered for a Bulk API query)."""
    clause = f" WHERE OpportunityId IN {id_list(opportunity_ids)}" if opportunity_ids is not None else ""
    order = " ORDER BY OpportunityId, CreatedDate" if ordered else ""
    return f"SELECT OpportunityId, StageName, CreatedDate FROM OpportunityHistory{clause}{order}"


def after_id(where: str | None, last_id: str) -> str:
    """``where`` narrowed to ids after ``last_id``: the rest of a pull ordered by Id."""
    after = f"Id > {quote(last_id)}"
    return f"({where}) AND {after}" if where else after


def since_clause(since: datetime | None) -> str | None:
    """``SystemModstamp >= <since>`` (inclusive), or None for a full pull."""
    return None if since is None else f"SystemModstamp >= {literal_datetime(since)}"


def after_clause(stamp: datetime, last_id: str) -> str:
    """Records after (``stamp``, ``last_id``) in (SystemModstamp, Id) order: exactly those a pull
    that ended there has not read."""
    at = literal_datetime(stamp)
    return f"(SystemModstamp > {at} OR (SystemModstamp = {at} AND Id > {quote(last_id)}))"


def chunks(ids: Sequence[str], size: int = IDS_PER_QUERY) -> Iterable[Sequence[str]]:
    """``ids`` in slices of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
