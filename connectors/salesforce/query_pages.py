"""SOQL query pages read together: up to five query operations in one composite call.

A composite request is one call toward the API limits and may hold five query operations (Query,
QueryAll, query-more). A :class:`QueryReader` keeps the queries of one piece of work open and fills
each call it makes with, in order:

1. the first page of every query opened and not read yet (the needed query's first), so the first
   pages of a pull's queries come in one call;
2. the needed query's next pages, as many as its ``totalSize`` says are left;
3. the next pages of the other queries being read (their consumer took a page), as many as are left,
   while fewer than five of theirs wait to be taken (this bounds memory);
4. more pages of the needed query in the slots left (their references halt past its last page).

A page after the first is asked by its locator, or by ``@{ref.nextRecordsUrl}`` of the page before
it in the same call. A call that would hold one first page alone is the plain ``GET query/``.

Subrequests fail alone (``allOrNone`` false): a failure of a page read ahead leaves that query to
be read when it is needed (and not read ahead again); a failure of the needed page drops the whole
answer, unapplied, and raises that page's error as the plain request would have, so the client's
retries send the same call again and nothing is read twice or lost.
"""
from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlencode

from simple_salesforce.exceptions import SalesforceError

from connectors.actions import Action
from connectors.base import CrmError
from connectors.salesforce.composite import PAGES_PER_CALL

if TYPE_CHECKING:  # the client reads its queries through this module
    from connectors.salesforce.client import SalesforceClient

#: Records a page holds at most, asked of every query (Salesforce may send fewer).
QUERY_OPTIONS = {"Sforce-Query-Options": "batchSize=2000"}
#: Salesforce drops a query locator unused for 15 minutes: a first page read ahead and left longer
#: than this is read again when its query's turn comes, rather than followed by a dead locator.
IDLE_LOCATOR_SECONDS = 600.0


class Query:
    """One SOQL query's pages, in order, as its reader gets them: iterate to take them.

    ``first_second`` is Salesforce's clock (to the second) when its first page was read.
    """

    def __init__(self, reader: QueryReader, text: str) -> None:
        self.reader = reader
        self.text = text
        self.waiting: deque[dict[str, Any]] = deque()
        self.next_url: str | None = None
        self.exhausted = False
        self.started = False
        self.closed = False
        #: A page read ahead failed: the query is read only when needed.
        self.failed = False
        self.total: int | None = None
        self.rows_read = 0
        self.page_rows = 0
        self.first_second: datetime | None = None
        self.read_at = 0.0
        self._urls: set[str] = set()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            if self._stale():
                self._forget_pages()
            self.started = True
            while True:
                if not self.waiting:
                    if self.exhausted:
                        return
                    self.reader.fetch(self)
                yield self.waiting.popleft()
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading this query and drop the pages waiting."""
        self.closed = True
        self.waiting.clear()

    @property
    def unread(self) -> bool:
        """Whether no page of it was read yet."""
        return self.next_url is None and not self.exhausted

    def pages_left(self) -> int | None:
        """Pages still to read, by its ``totalSize`` and first page's size (None before it)."""
        if self.exhausted:
            return 0
        if self.total is None:
            return None
        return max(1, math.ceil((self.total - self.rows_read) / max(self.page_rows, 1)))

    def _stale(self) -> bool:
        return (not self.started and not self.exhausted and self.next_url is not None
                and time.monotonic() - self.read_at > IDLE_LOCATOR_SECONDS)

    def _forget_pages(self) -> None:
        self.waiting.clear()
        self.next_url, self.total, self.rows_read, self.page_rows = None, None, 0, 0
        self._urls.clear()

    def _take(self, page: dict[str, Any], second: datetime) -> None:
        """Keep ``page``, read just now, for the consumer."""
        if self.unread:
            self.total, self.page_rows, self.first_second = page.get("totalSize"), len(page["records"]), second
        self.rows_read += len(page["records"])
        self.read_at = time.monotonic()
        self.waiting.append(page)
        url = page.get("nextRecordsUrl")
        if page.get("done", True) or not url:
            self.exhausted, self.next_url = True, None
            return
        if url in self._urls:
            raise CrmError(f"Salesforce query: the page locator {url!r} came back twice; stopped instead of "
                           "reading the same pages forever", code="PAGINATION_LOOP", action=Action.FAIL)
        self._urls.add(url)
        self.next_url = url


@dataclass(frozen=True, slots=True)
class _Read:
    """One subrequest of a call: a page of ``query``, ``url`` the page's own or a reference."""

    query: Query
    url: str
    ref: str
    opens: bool


class QueryReader:
    """The open queries of one piece of work, whose pages share composite calls."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self._queries: list[Query] = []

    def open(self, text: str) -> Query:
        """Open ``text``: its first page comes with the next call made (it is not read before)."""
        query = Query(self, text)
        self._queries.append(query)
        return query

    def fetch(self, needed: Query) -> None:
        """Read the next page of ``needed`` (and the pages ahead that fit) in one call."""
        self._queries = [q for q in self._queries if not q.closed and not q.exhausted]
        reads = self._plan(needed)
        if len(reads) == 1 and reads[0].opens:
            page = self.client.call("GET query/", lambda: self.client.sf.query(needed.text, headers=QUERY_OPTIONS))
            needed._take(page, self.client.server_second())
            return
        route = "POST composite query/" if any(r.opens for r in reads) else "POST composite query/{locator}"
        body = {"allOrNone": False, "compositeRequest": [
            {"method": "GET", "url": r.url, "referenceId": r.ref, **({"httpHeaders": QUERY_OPTIONS} if r.opens else {})}
            for r in reads]}

        def call() -> list[tuple[_Read, dict[str, Any]]]:
            answer = self.client.sf.restful("composite", method="POST", json=body) or {}
            return self._pages_of(reads, answer, needed)

        answered = self.client.call(route, call)
        second = self.client.server_second()
        for read, page in answered:
            read.query._take(page, second)

    # ------------------------------------------------------------------------ planning
    def _plan(self, needed: Query) -> list[_Read]:
        plan: list[_Read] = []
        last: dict[int, str] = {}

        def add(query: Query, count: int) -> None:
            for _ in range(min(count, PAGES_PER_CALL - len(plan))):
                ref = f"page{len(plan)}"
                if id(query) in last:
                    url, opens = f"@{{{last[id(query)]}.nextRecordsUrl}}", False
                elif query.unread:
                    url, opens = self._first_url(query), True
                else:
                    url, opens = str(query.next_url), False
                plan.append(_Read(query, url, ref, opens))
                last[id(query)] = ref

        others = [q for q in self._queries if q is not needed and not q.failed]
        add(needed, 1)
        for query in others:
            if query.unread:
                add(query, 1)
        add(needed, (needed.pages_left() or 1) - 1)
        for query in others:
            if query.started and not query.unread and id(query) not in last:
                add(query, min(query.pages_left() or 0, PAGES_PER_CALL - len(query.waiting)))
        if len(plan) > 1 or not plan[0].opens:
            add(needed, PAGES_PER_CALL)
        return plan

    def _first_url(self, query: Query) -> str:
        return f"/services/data/v{self.client.settings.api_version}/query/?{urlencode({'q': query.text})}"

    # ------------------------------------------------------------------------- answers
    def _pages_of(self, reads: list[_Read], answer: dict[str, Any],
                  needed: Query) -> list[tuple[_Read, dict[str, Any]]]:
        """The pages each subrequest gave, in order; a query's pages stop at its first failed or
        halted subrequest (the later ones referred to it). Raises the needed page's failure."""
        by_ref = {r.get("referenceId"): r for r in answer.get("compositeResponse") or () if isinstance(r, dict)}
        pages: list[tuple[_Read, dict[str, Any]]] = []
        stopped: set[int] = set()
        got: set[int] = set()
        for read in reads:
            if id(read.query) in stopped:
                continue
            result = by_ref.get(read.ref) or {}
            status, page = result.get("httpStatusCode"), result.get("body")
            if isinstance(status, int) and status < 300 and isinstance(page, dict):
                pages.append((read, page))
                got.add(id(read.query))
                continue
            stopped.add(id(read.query))
            if id(read.query) in got:
                continue  # past its last page, or after a page that failed: nothing more of it here
            if read.query is needed:
                raise SalesforceError(f"{self.client.sf.base_url}composite", int(status or 500), "composite",
                                      page if page is not None else [{"errorCode": "NO_RESULT",
                                                                      "message": "no answer for this subrequest"}])
            read.query.failed = True
        return pages
