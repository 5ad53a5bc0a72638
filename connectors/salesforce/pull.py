"""Reading opportunities, leads and contacts page by page, incrementally by (SystemModstamp, Id).

Stage history is read apart from the records: a child subquery's rows count toward the page size
and would shrink every page. A full pull joins one ``OpportunityHistory`` stream (ordered by
opportunity, like the record pages) with the pages; an incremental pull reuses the stored history
of records whose stage and stage date did not change and reads the rest by id.

The queries of a pull are opened together (:meth:`Puller.open_queries`): their first pages come
in one composite call, and the pages after them share calls, up to five pages a call (see
``connectors.salesforce.query_pages``).

Big pulls go through Bulk API 2.0 (see :meth:`Puller._bulk_wanted`): the records as one query job
read in CSV pages, and on a full pull the whole history as a second job, spilled to disk and
looked up per page (Bulk results have no order to stream by).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterator, Mapping, Sequence

from connectors.base import PriorRecords, Progress
from connectors.salesforce import records, soql
from connectors.salesforce.bulk import BulkJobs, Columns
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.query_pages import Query, QueryReader
from connectors.salesforce.spill import Spill
from mapping.records import CrmRecord, StageChange

Histories = dict[str, tuple[StageChange, ...]]
#: Object kinds whose pull query Bulk API 2.0 accepts (no parent-to-child subquery).
BULK_KINDS = frozenset({"opportunity", "lead"})


class Cursor:
    """Where each object kind's next incremental pull starts: the last (SystemModstamp, Id) read
    whose second had passed on Salesforce's clock when the pull began.

    A record stamped in the current second may still be joined by others of the same second, so
    such records are read again next time; every earlier one is read exactly once.
    """

    def __init__(self, stored: Mapping[str, Any] | None) -> None:
        self.positions: dict[str, tuple[datetime, str]] = {}
        for kind, value in (stored or {}).items():
            if isinstance(value, Mapping) and value.get("stamp") and value.get("id"):
                self.positions[kind] = (records.parse_datetime(value["stamp"]), str(value["id"]))

    def clause(self, kind: str, since: datetime | None) -> str | None:
        """The WHERE clause that reads what the last pull of ``kind`` did not."""
        if kind in self.positions:
            return soql.after_clause(*self.positions[kind])
        return soql.since_clause(since)

    def advance(self, kind: str, page: Sequence[Mapping[str, Any]], settled_before: datetime) -> None:
        """Move past the records of ``page`` stamped before ``settled_before``."""
        best = self.positions.get(kind)
        for r in page:
            stamp = records.parse_datetime(r["SystemModstamp"])
            if stamp is not None and stamp < settled_before and (best is None or (stamp, r["Id"]) > best):
                best = (stamp, r["Id"])
        if best is not None:
            self.positions[kind] = best

    def to_json(self) -> dict[str, Any]:
        """The cursor as stored by the service."""
        return {kind: {"stamp": stamp.isoformat(), "id": last_id}
                for kind, (stamp, last_id) in self.positions.items()}


class Puller:
    """Turns query pages into CrmRecords for one object kind at a time."""

    def __init__(self, client: SalesforceClient, *, api_names: Mapping[str, str],
                 readable: Callable[[str], set[str]], url_of: Callable[[str, str], str | None],
                 contact_stage_field: str | None, cursor: Cursor,
                 prior: PriorRecords | None, bulk_threshold: int = 0) -> None:
        self.client = client
        self.reader = QueryReader(client)
        self.bulk = BulkJobs(client)
        self.bulk_threshold = bulk_threshold
        #: Whether this pull read an object through Bulk API (so a big write-back follows).
        self.went_bulk = False
        self.api_names = api_names
        self.readable = readable
        self.url_of = url_of
        self.contact_stage_field = contact_stage_field
        self.cursor = cursor
        self.prior = prior
        #: Opportunities read whose stage moved: their contacts follow them and are read too.
        self.moved_opportunities: list[str] = []
        self._stream: _Peekable | None = None
        #: Queries opened ahead by ``open_queries``: each kind's records, and a full pull's history.
        self._opened: dict[str, Query] = {}
        self._history: Query | None = None
        #: The whole org's stage history, on disk, once a full pull went through Bulk API.
        self._spill: Spill | None = None

    def close(self) -> None:
        """Drop what the pull kept on disk and the pages read ahead."""
        for query in [*self._opened.values(), *([self._history] if self._history else [])]:
            query.close()
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    # -------------------------------------------------------------------------- entry
    def open_queries(self, kinds: Sequence[str], since: datetime | None) -> None:
        """Open the queries a pull of ``kinds`` (in this order) starts with, so their first pages
        come in one call: each kind's records, and the stage history a full pull of
        opportunities streams beside them."""
        for kind in kinds:
            self._opened[kind] = self.reader.open(self._select(kind, since))
            if kind == "opportunity" and self._full(kind, since, None):
                self._history = self.reader.open(soql.history())

    def pull(self, kind: str, since: datetime | None, ids: Sequence[str] | None,
             progress: Progress | None) -> Iterator[CrmRecord]:
        """Records of ``kind`` changed since the cursor or ``since`` (or exactly ``ids``)."""
        extra = self._extra_fields(kind)
        full = self._full(kind, since, ids)
        done = 0
        for page, total in self._pages(kind, extra, since, ids):
            for record in self._convert(kind, page, full=full):
                done += 1
                yield record
            if progress is not None:
                progress(kind, done, total)

    def _full(self, kind: str, since: datetime | None, ids: Sequence[str] | None) -> bool:
        return since is None and ids is None and kind not in self.cursor.positions

    def _select(self, kind: str, since: datetime | None) -> str:
        """The query of ``kind``'s records changed after the cursor (or ``since``), by ``Id``."""
        return soql.select(kind, self._extra_fields(kind), where=self.cursor.clause(kind, since))

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
        incremental = since is not None or kind in self.cursor.positions
        seen: set[str] = set()  # contacts read, so followers are not read twice (contacts only)
        settled_before: datetime | None = None
        where = self.cursor.clause(kind, since)
        query = self._opened.pop(kind, None) or self.reader.open(self._select(kind, since))
        page: list[dict[str, Any]] = []
        total: int | None = None
        bulk = False
        for page, total in self._rows(query):
            if settled_before is None:
                settled_before = query.first_second
                bulk = self._bulk_wanted(kind, total, len(page))
                self.went_bulk = self.went_bulk or bulk
                if bulk and kind == "opportunity" and not incremental:
                    self._spill_history()
            if kind == "contact":
                seen.update(r["Id"] for r in page)
            self.cursor.advance(kind, page, settled_before)
            yield page, total
            if bulk:
                break
        if bulk and settled_before is not None:
            query.close()
            # The first REST page was the probe; the rest (ids after it) comes by Bulk API.
            rest = soql.select(kind, extra, where=soql.after_id(where, page[-1]["Id"]), ordered=False)
            for page in self.bulk.query(rest, soql.SOBJECTS[kind], self._columns()):
                self.cursor.advance(kind, page, settled_before)
                yield page, total
        if kind == "contact" and incremental and not self.contact_stage_field:
            followers = [c for c in self._contacts_of(self.moved_opportunities) if c not in seen]
            yield from self._by_ids(kind, extra, followers, total=None)

    def _bulk_wanted(self, kind: str, total: int | None, first_page: int) -> bool:
        """Whether the rest of this pull goes through Bulk API 2.0.

        The size is known without a ``COUNT()`` call: the first REST page's ``totalSize`` is the
        exact number of records this pull reads (the whole object on a first sync, the records
        changed since the cursor afterwards). At or above ``bulk_threshold`` (0: never), and with
        more to read than that page, the rest is one Bulk query job. Contacts stay on REST: their
        query's ``OpportunityContactRoles`` subquery is a parent-to-child query, which Bulk API
        2.0 refuses.
        """
        return (self.bulk_threshold > 0 and kind in BULK_KINDS and total is not None
                and total >= self.bulk_threshold and total > first_page)

    def _columns(self) -> Columns:
        checkboxes = {self.api_names[c] for c in records.CHECKBOX_FIELDS}
        return Columns(numbers=soql.NUMBER_COLUMNS, integers=soql.INTEGER_COLUMNS,
                       booleans=soql.BOOLEAN_COLUMNS | checkboxes, datetimes=soql.DATETIME_COLUMNS)

    def _spill_history(self) -> None:
        """Read the whole org's stage history with one Bulk query job onto disk."""
        if self._history is not None:  # opened for the REST stream, which the spill replaces
            self._history.close()
        spill = Spill(("OpportunityId", "StageName", "CreatedDate"), order_by="CreatedDate")
        try:
            spill.load(self.bulk.query(soql.history(ordered=False), "OpportunityHistory",
                                       Columns(datetimes={"CreatedDate"})),
                       key="OpportunityId")
        except BaseException:
            spill.close()
            raise
        self._spill = spill

    def _by_ids(self, kind: str, extra: list[str], ids: list[str],
                total: int | None) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        for chunk in soql.chunks(ids):
            for page, _chunk_total in self._query(soql.select(kind, extra, where=f"Id IN {soql.id_list(chunk)}")):
                yield page, total

    def _query(self, text: str) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        return self._rows(self.reader.open(text))

    def _rows(self, query: Query) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        for page in query:
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

    def _contacts_of(self, opportunity_ids: list[str]) -> list[str]:
        ids: dict[str, None] = {}
        for chunk in soql.chunks(sorted(set(opportunity_ids))):
            text = ("SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId IN "
                    f"{soql.id_list(chunk)} ORDER BY ContactId")
            for page, _total in self._query(text):
                ids.update((r["ContactId"], None) for r in page)
        return list(ids)

    # ---------------------------------------------------------------------- converting
    def _convert(self, kind: str, page: list[dict[str, Any]], *, full: bool) -> Iterator[CrmRecord]:
        url = self.url_of
        if kind == "opportunity":
            if full and self._spill is None:
                histories = self._streamed_histories(page)
            elif full:
                histories = dict(self._read_histories([r["Id"] for r in page]))
            else:
                histories = self._histories(kind, {r["Id"]: r for r in page})
            for r in page:
                yield records.opportunity(r, self.api_names, url(kind, r["Id"]), histories.get(r["Id"], ()))
        elif kind == "lead":
            for r in page:
                yield records.lead(r, self.api_names, url(kind, r["Id"]))
        else:
            yield from self._contacts(page)

    def _contacts(self, page: list[dict[str, Any]]) -> Iterator[CrmRecord]:
        followed = {r["Id"]: records.latest_opportunity(r) for r in page}
        histories = {} if self.contact_stage_field else self._histories(
            "contact", {cid: opp for cid, opp in followed.items() if opp is not None})
        for r in page:
            opp = followed[r["Id"]]
            yield records.contact(r, self.api_names, self.url_of("contact", r["Id"]), followed=opp,
                                  history=histories.get(r["Id"], ()),
                                  stage_field=self.contact_stage_field)

    def _histories(self, kind: str, stage_rows: Mapping[str, Mapping[str, Any]]) -> Histories:
        """History by record id, where ``stage_rows`` maps each record to the opportunity row
        (``Id``, ``StageName``, ``LastStageChangeDate``) whose history it takes. Stored history
        is reused when the stage and its date are unchanged; the rest is read by id."""
        known = self.prior.get(kind, list(stage_rows)) if self.prior is not None else {}
        out: Histories = {}
        wanted: dict[str, list[str]] = {}
        for record_id, opp in stage_rows.items():
            before = known.get(record_id)
            entered = records.parse_datetime(opp.get("LastStageChangeDate"))
            if before is not None and before.stage_value == opp.get("StageName") \
                    and before.stage_entered_at == entered:
                out[record_id] = before.history
            else:
                wanted.setdefault(opp["Id"], []).append(record_id)
        if kind == "opportunity":
            self.moved_opportunities.extend(wanted)
        for opp_id, history in self._read_histories(sorted(wanted)):
            for record_id in wanted.get(opp_id, ()):
                out[record_id] = history
        return out

    def _read_histories(self, opportunity_ids: list[str]) -> Iterator[tuple[str, tuple[StageChange, ...]]]:
        """History of these opportunities: from the spilled Bulk read when there is one, else
        by id, 300 a query."""
        if self._spill is not None:
            yield from self._history_rows(iter([(list(self._spill.rows(opportunity_ids)), None)]))
            return
        for chunk in soql.chunks(opportunity_ids):
            yield from self._history_rows(self._query(soql.history(chunk)))

    def _streamed_histories(self, page: list[dict[str, Any]]) -> Histories:
        """Histories of a page of a full pull, from one history stream ordered like the pages."""
        if self._stream is None:
            history = self._history or self.reader.open(soql.history())
            self._stream = _Peekable(self._history_rows(self._rows(history)))
        if not page:  # an org without opportunities answers one empty page
            return {}
        ids = {r["Id"] for r in page}
        # Salesforce orders ids without regard to case (the 18-character form the API returns).
        last = page[-1]["Id"].lower()
        out: Histories = {}
        while (item := self._stream.peek()) is not None and (item[0] in ids or item[0].lower() <= last):
            opp_id, history = next(self._stream)
            if opp_id in ids:
                out[opp_id] = history
        return out

    @staticmethod
    def _history_rows(pages: Iterator[tuple[list[dict[str, Any]], int | None]]
                      ) -> Iterator[tuple[str, tuple[StageChange, ...]]]:
        """(opportunity id, history) from history rows grouped by opportunity. Salesforce also
        writes a row when Amount, CloseDate or Probability changes, with the stage unchanged: only
        rows that change the stage are stage history."""
        current: str | None = None
        changes: list[StageChange] = []
        for page, _total in pages:
            for row in page:
                if row["OpportunityId"] != current:
                    if current is not None:
                        yield current, tuple(changes)
                    current, changes = row["OpportunityId"], []
                moved = not changes or changes[-1].value != row.get("StageName")
                if row.get("StageName") and row.get("CreatedDate") and moved:
                    changes.append(StageChange(row["StageName"], records.parse_datetime(row["CreatedDate"])))
        if current is not None:
            yield current, tuple(changes)


class _Peekable(Iterator[Any]):
    """An iterator that can show its next item without taking it (None at the end)."""

    def __init__(self, items: Iterator[Any]) -> None:
        self._items = items
        self._next: Any = None
        self._peeked = False

    def peek(self) -> Any:
        """The next item, left in place."""
        if not self._peeked:
            self._next = next(self._items, None)
            self._peeked = True
        return self._next

    def __next__(self) -> Any:
        item = self.peek()
        self._peeked = False
        if item is None:
            raise StopIteration
        return item
