"""The inner shape every connector shares, after Meltano's Singer SDK (``RESTStream``'s paginator
and authenticator hooks, ``BatchSink``): a paginator with a loop guard, a batch sink sized by the
CRM's limit, and bounded token refresh driven by the error table's actions.

A connector supplies only what is its own: how to fetch one page and find the next page's token,
how to write one batch and how big a batch may be, how to refresh its token.
"""
from __future__ import annotations

from typing import Callable, Generic, Hashable, Iterable, Iterator, Protocol, Sequence, TypeVar

from connectors.actions import Action
from connectors.base import CrmError, Progress, batched

P = TypeVar("P")
T = TypeVar("T")
R = TypeVar("R")


def paginate(fetch: Callable[[Hashable | None], P], next_token: Callable[[P], Hashable | None],
             *, what: str, first: Hashable | None = None) -> Iterator[P]:
    """Yield ``fetch(token)`` for the first token and every next one until ``next_token`` gives
    None. A token handed back twice would loop forever: it stops the run instead (FAIL)."""
    seen: set[Hashable] = set()
    token = first
    while True:
        page = fetch(token)
        yield page
        token = next_token(page)
        if token is None:
            return
        if token in seen:
            raise CrmError(f"{what}: the CRM handed back the page token {token!r} twice; stopped "
                           "instead of reading the same pages forever", code="PAGINATION_LOOP",
                           action=Action.FAIL)
        seen.add(token)


class BatchSink(Generic[T, R]):
    """Writes items in batches no larger than the CRM's limit, one result per item.

    ``write_batch(batch)`` sends one batch and returns its results in the batch's order;
    ``split(items, size)`` makes the batches (plain slices unless the CRM needs more, such as no
    repeated id in one batch). When a call the CRM answered fails after some batches went through
    and the action says a later try may succeed (BACKOFF, RETRY, PAUSE_QUOTA), the items not sent
    get ``failed(item, error)`` results, so what was written is kept. A failure before anything was
    written, one that trying again cannot fix, and one without an answer (a timeout, a dropped
    connection: that batch may still land, so failing its items would send them again) is raised.
    """

    def __init__(self, max_size: int, write_batch: Callable[[list[T]], Sequence[R]],
                 failed: Callable[[T, CrmError], R],
                 split: Callable[[list[T], int], Iterator[list[T]]] = batched) -> None:
        if max_size < 1:
            raise ValueError("a batch holds at least one item")
        self.max_size = max_size
        self.write_batch = write_batch
        self.failed = failed
        self.split = split

    def write(self, items: Iterable[T], *, progress: Progress | None = None,
              what: str = "write") -> list[tuple[T, R]]:
        """Write every item; (item, result) pairs in the order sent. ``progress(what, done,
        total)`` after each batch."""
        items = list(items)
        done: list[tuple[T, R]] = []
        batches = self.split(items, self.max_size)
        for batch in batches:
            try:
                done.extend(zip(batch, self.write_batch(batch)))
            except CrmError as exc:
                if not done or exc.unanswered or not (exc.retryable
                                                      or exc.action is Action.PAUSE_QUOTA):
                    raise
                for rest in (batch, *batches):
                    done.extend((item, self.failed(item, exc)) for item in rest)
                break
            if progress is not None:
                progress(what, len(done), len(items))
        return done


class Authenticator(Protocol):
    """What a connector's credentials can do: say whether a refresh is possible, and refresh."""

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh token (and the client credentials it needs) is at hand."""

    def refresh(self) -> None:
        """Get a new access token and start using it."""


def call_with_refresh(call: Callable[[], R], authenticator: Authenticator, *,
                      max_refreshes: int = 1) -> R:
    """``call()``, refreshing the token and calling again when the error table says REFRESH_AUTH,
    at most ``max_refreshes`` times. When no refresh is possible or they are spent, the error's
    action becomes REAUTHORIZE: the connection needs reconnecting."""
    refreshes = 0
    while True:
        try:
            return call()
        except CrmError as exc:
            if exc.action is not Action.REFRESH_AUTH:
                raise
            if refreshes >= max_refreshes or not authenticator.can_refresh:
                exc.action = Action.REAUTHORIZE
                raise
        refreshes += 1
        authenticator.refresh()
