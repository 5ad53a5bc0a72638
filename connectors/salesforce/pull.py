"""Reading opportunities, leads and contacts page by page, incrementally by SystemModstamp."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, Sequence

from connectors.base import Progress
from connectors.salesforce import records, soql
from connectors.salesforce.client import SalesforceClient
from mapping.records import CrmRecord, StageChange


class Puller:
    """Turns query pages into CrmRecords for one object kind at a time."""

    def __init__(self, client: SalesforceClient, *, api_names: Mapping[str, str],
                 readable: Callable[[str], set[str]], url_of: Callable[[str, str], str | None],
                 contact_stage_field: str | None) -> None:
        self.client = client
        self.api_names = api_names
        self.readable = readable
        self.url_of = url_of
        self.contact_stage_field = contact_stage_field

    # -------------------------------------------------------------------------- entry
    def pull(self, kind: str, since: datetime | None, ids: Sequence[str] | None,
             progress: Progress | None) -> Iterator[CrmRecord]:
        """Records of ``kind`` changed at or after ``since`` (or exactly ``ids``)."""
        extra = self._extra_fields(kind)
        done = 0
        for page, total in self._pages(kind, extra, since, ids):
            for record in self._convert(kind, page):
                done += 1
                yield record
            if progress is not None:
                progress(kind, done, total)

    def _extra_fields(self, kind: str) -> list[str]:
        available = self.readable(soql.SOBJECTS[kind])
        wanted = list(self.api_names.values())
        if kind == "contact" and self.contact_stage_field:
            wanted.append(self.contact_stage_field)
        return [name for name in wanted if name in available]

    def _pages(self, kind: str, extra: list[str], since: datetime | None,
               ids: Sequence[str] | None) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        if ids is not None:
            yield from self._by_ids(kind, extra, list(ids), total=len(ids))
            return
        seen: set[str] = set()
        for page, total in self._query(soql.select(kind, extra, where=soql.since_clause(since))):
            seen.update(r["Id"] for r in page)
            yield page, total
        if kind == "contact" and since is not None and not self.contact_stage_field:
            followers = [c for c in self._contacts_of_changed_opportunities(since) if c not in seen]
            yield from self._by_ids(kind, extra, followers, total=None)

    def _by_ids(self, kind: str, extra: list[str], ids: list[str],
                total: int | None) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        for chunk in soql.chunks(ids):
            for page, _chunk_total in self._query(soql.select(kind, extra, where=f"Id IN {soql.id_list(chunk)}")):
                yield page, total

    def _query(self, text: str) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        for page in self.client.query(text):
            yield [self._complete_children(r) for r in page["records"]], page.get("totalSize")

    def _complete_children(self, record: dict[str, Any]) -> dict[str, Any]:
        """Follow ``nextRecordsUrl`` of nested child results until each child list is whole."""
        for key, value in record.items():
            if isinstance(value, dict) and "totalSize" in value and not value.get("done", True):
                rows = list(value["records"])
                page = value
                while not page.get("done", True):
                    page = self.client.more(page["nextRecordsUrl"])
                    rows.extend(page["records"])
                record[key] = {"totalSize": value["totalSize"], "done": True, "records": rows}
        return record

    def _contacts_of_changed_opportunities(self, since: datetime) -> list[str]:
        text = ("SELECT ContactId FROM OpportunityContactRole WHERE Opportunity.SystemModstamp >= "
                f"{soql.literal_datetime(since)} ORDER BY ContactId")
        ids: dict[str, None] = {}
        for page in self.client.query(text):
            ids.update((r["ContactId"], None) for r in page["records"])
        return list(ids)

    # ---------------------------------------------------------------------- converting
    def _convert(self, kind: str, page: list[dict[str, Any]]) -> Iterator[CrmRecord]:
        url = self.url_of
        if kind == "opportunity":
            for r in page:
                yield records.opportunity(r, self.api_names, url(kind, r["Id"]))
        elif kind == "lead":
            for r in page:
                yield records.lead(r, self.api_names, url(kind, r["Id"]))
        else:
            yield from self._contacts(page)

    def _contacts(self, page: list[dict[str, Any]]) -> Iterator[CrmRecord]:
        followed = {r["Id"]: records.latest_opportunity(r) for r in page}
        histories = self._histories([o["Id"] for o in followed.values() if o is not None])
        for r in page:
            opp = followed[r["Id"]]
            yield records.contact(r, self.api_names, self.url_of("contact", r["Id"]), followed=opp,
                                  history=histories.get(opp["Id"], ()) if opp else (),
                                  stage_field=self.contact_stage_field)

    def _histories(self, opportunity_ids: list[str]) -> dict[str, tuple[StageChange, ...]]:
        if self.contact_stage_field or not opportunity_ids:
            return {}
        out: dict[str, tuple[StageChange, ...]] = {}
        for chunk in soql.chunks(sorted(set(opportunity_ids))):
            text = f"SELECT Id, {soql.HISTORY_SUBQUERY} FROM Opportunity WHERE Id IN {soql.id_list(chunk)}"
            for page, _total in self._query(text):
                out.update((r["Id"], records.history_of(r)) for r in page)
        return out
