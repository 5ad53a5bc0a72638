"""The contract between the sync service and a CRM connector.

The service never names a CRM: it asks the registry for a connector by name, and talks to it only
through :class:`Connector`. Errors are a small family the service can act on without knowing which
CRM raised them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence, runtime_checkable

from connectors.actions import Action
from mapping import default_map, writeback_choices
from mapping.records import CrmRecord, CrmStage


# --------------------------------------------------------------------------------------- errors
class CrmError(Exception):
    """A CRM call failed. ``code`` is the CRM's own error code (``INVALID_SESSION_ID``, ``RATE_LIMIT``);
    ``action`` is what the connector's error table says to do about it (see
    :mod:`connectors.actions`); ``retry_after`` is the CRM's hint in seconds (0 when it gave none).
    ``status`` is the HTTP status of the CRM's answer: None (or 0) when the call got none, unless
    ``unsent`` says the connector refused it before it went out (the quota ceiling).

    The subclasses name the common kinds and only set a default action; callers act on ``action``.
    Messages never carry credentials.
    """

    default_action: Action = Action.FAIL

    def __init__(self, message: str, *, code: str = "CRM_ERROR", status: int | None = None,
                 details: Any = None, action: Action | None = None, retry_after: float = 0.0,
                 unsent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.unsent = unsent
        self.details = details
        self.action = action or self.default_action
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed if made again later (the action says so)."""
        return self.action.retryable

    @property
    def unanswered(self) -> bool:
        """Whether the call went out and no answer came back (a timeout, a dropped connection, a
        Bulk job given up on): what it carried may land in the CRM yet, so a write is settled
        against the CRM afterwards, never sent again blind (that could apply it twice)."""
        return not self.status and not self.unsent


class AuthExpired(CrmError):
    """The access token is no longer valid: refresh it (and reconnect if that is impossible)."""

    default_action = Action.REFRESH_AUTH


class AuthFailed(CrmError):
    """The credentials were rejected (bad client id/secret, revoked refresh token): reconnect."""

    default_action = Action.REAUTHORIZE


class RateLimited(CrmError):
    """The CRM asked us to slow down; ``retry_after`` seconds is its hint (0 when it gave none)."""

    default_action = Action.BACKOFF


class QuotaReached(CrmError):
    """The configured share of the CRM's daily API quota is used up: stop and resume later."""

    default_action = Action.PAUSE_QUOTA

    def __init__(self, message: str, *, used: int | None = None, limit: int | None = None,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.used = used
        self.limit = limit


class TransientError(CrmError):
    """A failure worth retrying after a pause (503, lock contention, connection reset)."""

    default_action = Action.BACKOFF


class ConfigError(CrmError):
    """The connection is set up wrongly (unknown object, missing field, bad settings)."""

    default_action = Action.FAIL


#: The error kind that names each action, for :func:`error_for`.
_KIND_OF_ACTION: dict[Action, type[CrmError]] = {
    Action.REFRESH_AUTH: AuthExpired, Action.REAUTHORIZE: AuthFailed,
    Action.PAUSE_QUOTA: QuotaReached, Action.BACKOFF: TransientError, Action.RETRY: TransientError,
}


def error_for(action: Action, message: str, *, status: int | None = None, **kw: Any) -> CrmError:
    """The connector error for an answer its error table judged ``action`` (429s are RateLimited)."""
    kind = RateLimited if status == 429 and action is Action.BACKOFF else _KIND_OF_ACTION.get(action, CrmError)
    return kind(message, status=status, action=action, **kw)


# ------------------------------------------------------------------------------------ data types
@dataclass(frozen=True, slots=True)
class FieldUpdate:
    """Write-back values for one record, keyed by the canonical names in ``WRITEBACK_FIELDS`` (and
    ``DAY_COUNT_FIELDS`` for a CRM that reports holding them).

    Values are ``str`` (stage, persona, action), ``bool`` (stalled), ``datetime`` (dates) or None
    (clear the field). The connector converts them to the CRM's types and field names.
    """

    object: str
    id: str
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The CRM's verdict on one :class:`FieldUpdate`."""

    object: str
    id: str
    ok: bool
    error_code: str | None = None
    message: str | None = None
    #: For a refused record, what to do about it (BACKOFF: try again later; FAIL_RECORD: it will
    #: not pass as it is).
    action: Action | None = None

    @property
    def retryable(self) -> bool:
        """Whether a later attempt may succeed."""
        return self.action is not None and self.action.retryable


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """The CRM account a connector's credentials reach, as the CRM itself names it.

    ``account_id`` is the CRM's id (Salesforce org id, HubSpot portal id); ``label`` a name an admin
    recognises.
    """

    account_id: str
    label: str


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task to create for a record's owner. ``key`` identifies it: the connector stores it in
    the CRM task, so :meth:`Connector.find_tasks` can tell whether a task was already created."""

    object: str
    record_id: str
    key: str
    subject: str
    body: str
    due_at: datetime
    owner_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The CRM's verdict on one :class:`TaskSpec`: the new task's id, or the error."""

    key: str
    ok: bool
    crm_id: str | None = None
    error_code: str | None = None
    message: str | None = None
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class ProvisionedField:
    """One write-back field the connector made sure exists; ``created`` is False if it was there."""

    object: str
    name: str
    label: str
    created: bool


@dataclass(slots=True)
class ApiUsage:
    """API calls this connector instance has made, and the CRM's quota where it reports one."""

    calls: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    quota_used: int | None = None
    quota_limit: int | None = None

    def count(self, route: str) -> None:
        self.calls += 1
        self.by_route[route] = self.by_route.get(route, 0) + 1


# ------------------------------------------------------------------------------------- protocol
#: Called during long work with (what, done, total-or-None), e.g. ("opportunity", 4000, 10000).
Progress = Callable[[str, int, int | None], None]


class MetadataCache(Protocol):
    """Metadata a connector keeps for its connection between syncs (object describes, pipelines).

    The host stores it, so it survives processes, and expires entries after a while; ``get``
    returns None for a missing or expired key. Values are JSON-serialisable.
    """

    def get(self, key: str) -> Any | None:
        """The value kept under ``key``, or None."""

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""

    def clear(self) -> None:
        """Forget everything (the CRM's metadata changed, e.g. after provisioning)."""


class MemoryCache:
    """A :class:`MetadataCache` that lives as long as the connector (when the host gives none)."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str) -> Any | None:
        """The value kept under ``key``, or None."""
        return self._values.get(key)

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""
        self._values[key] = value

    def clear(self) -> None:
        """Forget everything."""
        self._values.clear()


class PriorRecords(Protocol):
    """What the service stored about records at the last sync, for connectors to skip re-reading
    parts that cannot have changed (a stage history when the stage and its date are the same)."""

    def get(self, object: str, ids: Sequence[str]) -> Mapping[str, CrmRecord]:
        """The stored records among ``ids`` of kind ``object``, by id (unknown ids are absent)."""


class Pulled(Iterator[CrmRecord]):
    """The records of a pull, then (once exhausted) ``cursor``: where the next incremental pull
    starts, a JSON-serialisable value the connector alone reads (None: use the newest stamp)."""

    def __init__(self, records: Iterator[CrmRecord], cursor: Callable[[], Any] | None = None) -> None:
        self._records = records
        self._cursor = cursor
        self.cursor: Any = None

    def __iter__(self) -> "Pulled":
        return self

    def __next__(self) -> CrmRecord:
        try:
            return next(self._records)
        except StopIteration:
            if self._cursor is not None:
                self.cursor = self._cursor()
            raise


@runtime_checkable
class Connector(Protocol):
    """What the sync service needs of a CRM."""

    crm: str
    #: The largest number of records one write call may carry.
    write_batch_size: int
    usage: ApiUsage

    def objects(self) -> Sequence[str]:
        """The object kinds this connector pulls, in the order it pulls them."""

    def pull(self, since: datetime | None = None, *, ids: Mapping[str, Sequence[str]] | None = None,
             progress: Progress | None = None, cursor: Any = None,
             prior: PriorRecords | None = None) -> Iterator[CrmRecord]:
        """Records modified at or after ``since`` (all when None), or only ``ids`` per object kind.

        ``cursor`` is the :attr:`Pulled.cursor` of the last complete pull: when given, the pull
        starts exactly after what that pull read. ``prior`` lets the connector reuse what was
        stored instead of re-reading it. Yields records as pages arrive, so memory stays flat on
        large orgs; may return a :class:`Pulled` to hand back the next cursor.
        """

    def stages(self) -> list[CrmStage]:
        """Every real stage value of every object the connector classifies, in CRM order."""

    def provision(self, choices: Mapping[str, Sequence[tuple[str, str]]] | None = None
                  ) -> list[ProvisionedField]:
        """Create the write-back fields (and grant access to them); a second run changes nothing.

        ``choices`` holds the (value, label) options of each choice field (``CHOICE_FIELDS``) in
        order, None for the default map's. Options a field has but ``choices`` lacks are kept
        while a record still holds them.
        """

    def push(self, updates: Sequence[FieldUpdate], *, progress: Progress | None = None
             ) -> list[WriteResult]:
        """Write ``updates`` in the largest batches the API allows; one result per update.

        A connector whose CRM has a bulk API may also define ``write_claim_size(pending) -> int``:
        how many of ``pending`` due updates the host hands one push (the host defaults to a few
        batches of ``write_batch_size``)."""

    def owner_names(self, ids: Sequence[str]) -> dict[str, str]:
        """The names of the record owners ``ids``, for those the CRM knows."""

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskResult]:
        """Create tasks for record owners, linked to their records, in the largest batches the
        API allows; one result per task, in order."""

    def find_tasks(self, keys: Sequence[str]) -> dict[str, str]:
        """The CRM ids of tasks created earlier with these keys (those that exist)."""

    def record_url(self, object: str, id: str) -> str | None:
        """Where a person opens this record in the CRM."""

    def identify(self) -> AccountIdentity:
        """Which account the credentials reach, with one cheap call. Raises the CrmError family
        (AuthFailed/AuthExpired for refused credentials) like any other call."""


#: Settings every connector honours and the host (never the install form) sets: seconds to connect
#: and to wait for each answer, on every CRM call including token calls.
TIMEOUT_SETTINGS = ("connect_timeout_seconds", "read_timeout_seconds")
#: The host passes the account id the CRM reported (:meth:`Connector.identify`) under this key.
ACCOUNT_SETTING = "account_id"
#: How many times a connector tries one call that fails transiently; the host sets 1 when an admin
#: is waiting for the answer (checking credentials before saving them).
ATTEMPTS_SETTING = "retry_attempts"
DEFAULT_TIMEOUTS = (10.0, 60.0)


def timeouts_from(settings: Mapping[str, Any]) -> tuple[float, float]:
    """(connect, read) seconds from a connector's settings, defaults filled in."""
    return tuple(float(settings.get(name) or default)  # type: ignore[return-value]
                 for name, default in zip(TIMEOUT_SETTINGS, DEFAULT_TIMEOUTS))


def default_choices() -> dict[str, list[tuple[str, str]]]:
    """The choice-field options of the default map, for provisioning without a map."""
    return writeback_choices(default_map())


def batched(items: Sequence[Any] | Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split ``items`` into lists of at most ``size``."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
