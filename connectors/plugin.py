"""The plug-in contract: everything the service knows about a CRM, declared in one place.

A CRM is one :class:`ConnectorSpec`: its settings (one pydantic model that drives the CLI options,
the install form and validation), how to build its connector, its OAuth flow, its change
notification receiver, its card, its local sandbox, its error table and its map defaults. The
service (``integration/``) reads only these declarations and never names a CRM: it serves one
generic route per kind (``/webhooks/<crm>/...``, ``/cards/<crm>/<object>/<id>``,
``/install/<crm>/...``) and hands the CRM's part of each request to the hooks declared here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import PydanticUndefined

from connectors.actions import ErrorTable
from connectors.base import Connector
from connectors.ratelimit import RateWindow
from mapping.unmapped import StageHint


# ------------------------------------------------------------------------------------- settings
@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting as the install form and the CLI show it, read off the settings model."""

    name: str
    label: str
    secret: bool = False
    required: bool = True
    default: str | None = None
    help: str = ""


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def setting_fields(model: type[BaseModel]) -> tuple[SettingField, ...]:
    """The model's fields that people set: every field not marked ``advanced`` in its
    ``json_schema_extra``. ``title`` is the label, ``description`` the help, ``SecretStr`` a secret."""
    fields = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("advanced"):
            continue
        default = None if info.is_required() or info.default in (None, PydanticUndefined) else info.default
        fields.append(SettingField(name=name, label=info.title or name.replace("_", " ").capitalize(),
                                   secret=_is_secret(info.annotation), required=info.is_required(),
                                   default=None if default is None else str(default),
                                   help=info.description or ""))
    return tuple(fields)


def settings_problems(model: type[BaseModel], values: Mapping[str, Any]) -> dict[str, str]:
    """Every problem of ``values`` against ``model``, by setting name (empty when they are valid)."""
    try:
        model.model_validate(dict(values))
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "settings"
            message = "unknown setting" if error["type"] == "extra_forbidden" else \
                "required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
            problems.setdefault(name, message)
        return problems
    return {}


# ---------------------------------------------------------------------------------------- OAuth
@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """How a CRM's OAuth install flow runs, for the service's install pages.

    ``app`` holds the OAuth app's settings (client_id, client_secret, login or base URL...) from the
    service's configuration. ``authorize_url(app, redirect_uri, state)`` is where to send the admin;
    ``exchange(app, code, redirect_uri)`` trades the returned code for connection settings (the
    settings model's names, tokens included) plus ``account_id``.
    """

    app_settings: tuple[str, ...]
    authorize_url: Callable[[Mapping[str, Any], str, str], str]
    exchange: Callable[[Mapping[str, Any], str, str], dict[str, Any]]


# ------------------------------------------------------------------- requests the CRM sends us
@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A request a CRM sent the service, as the CRM's hooks see it (no web framework in sight).

    ``url`` is the URL the CRM called (the public URL when the service runs behind a proxy), which
    is what signatures cover; ``subpath`` is whatever follows ``/webhooks/<crm>/`` (empty for
    ``/webhooks/<crm>``).
    """

    method: str
    url: str
    subpath: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer the service sends back to the CRM, in the CRM's own format."""

    status: int
    body: bytes
    content_type: str = "application/json"


class Refused(Exception):
    """A CRM request the service must refuse: ``status`` (4xx), a short ``code`` and a message
    saying where and why. The receiver's ``refuse`` hook renders it in the CRM's format."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Notice:
    """One record a CRM says has changed. ``delivery_key`` identifies this delivery so a retried
    or duplicated delivery is queued once (what the CRM documents as identifying a delivery)."""

    object: str
    id: str
    delivery_key: str
    kind: str = "change"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one notification request carries: the CRM account it is about and its notices."""

    account_id: str | None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiverSpec:
    """A CRM's change-notification receiver (webhooks, outbound messages).

    ``parse(request)`` reads the account and the changed records, raising :class:`Refused` for a
    malformed request. ``verify(request, config)`` says whether the request really comes from the
    CRM for the connection whose decrypted settings are ``config`` (a signature, an org id).
    ``unverified`` is the refusal for a request no connection verifies. ``ack(queued,
    duplicates)`` is the answer that stops the CRM from retrying; ``refuse(error)`` renders a
    refusal. Both default to JSON.

    ``per_connection_url`` gives each connection its own unguessable endpoint
    ``/webhooks/<crm>/<token>`` and refuses requests anywhere else: for CRMs whose notifications
    carry nothing secret. ``setup_steps`` tell an admin how to point the CRM at that endpoint
    (shown on the connection's setup page).
    """

    parse: Callable[[InboundRequest], Delivery]
    verify: Callable[[InboundRequest, Mapping[str, Any]], bool]
    unverified: Refused
    ack: Callable[[int, int], Reply] | None = None
    refuse: Callable[[Refused], Reply] | None = None
    per_connection_url: bool = False
    setup_steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CardSpec:
    """The record card or record page a CRM shows reps, served at ``/cards/<crm>/<object>/<id>``.

    ``objects`` are the object kinds it serves. ``account(request)`` reads the CRM account the
    request is for (raising :class:`Refused` when it cannot); ``verify(request, config)`` checks the
    request against a connection's decrypted settings, as for a receiver; ``unverified`` is the
    refusal when no connection of the account verifies it.
    """

    objects: tuple[str, ...]
    account: Callable[[InboundRequest], str]
    verify: Callable[[InboundRequest, Mapping[str, Any]], bool]
    unverified: Refused


# --------------------------------------------------------------------------------------- sandbox
class Sandbox(Protocol):
    """A running local fake of a CRM speaking its real wire protocol.

    Every sandbox serves the shared control API of :mod:`connectors.sandbox_control` under
    ``{url}/__sandbox__/``. ``info()`` holds ``account_id``, the connector settings that reach
    it (matched by setting name) and, for TLS sandboxes, ``ca_file``.
    """

    url: str

    def start(self) -> "Sandbox":
        """Start serving; returns self."""

    def stop(self) -> None:
        """Stop serving."""

    def info(self) -> dict[str, Any]:
        """What a client needs to reach the sandbox."""


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """How to run the CRM's sandbox: ``make(seed_part, **options)`` builds a (not yet started)
    :class:`Sandbox` from the CRM's part of a seed file (the key named like the CRM);
    ``make_many(seed_part, portals=N, **options)``, when the sandbox can, one server holding N
    separate accounts, each a copy of the seed."""

    make: Callable[..., Sandbox]
    make_many: Callable[..., Sandbox] | None = None


# ------------------------------------------------------------------------------------ the spec
class SharedResources(Protocol):
    """What the service shares between connectors of one CRM account (a portal's rate budget).

    ``get(key, make)`` returns the object kept under ``key`` in this process, made by ``make()`` on
    first use. ``rate_window(key, ...)`` returns the request window every holder of ``key`` shares:
    within the process by default, across every worker process and machine when the service runs
    on a task queue, so N workers together stay inside one account's limit.
    """

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        """The shared object under ``key``."""

    def rate_window(self, key: str, limit: int, window_seconds: float,
                    margin_seconds: float = 0.0) -> RateWindow:
        """At most ``limit`` requests in any rolling ``window_seconds`` (+ ``margin_seconds``)
        for every holder of ``key``."""


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A CRM plug-in: the one complete declaration of a CRM.

    ``settings_model`` validates a connection's settings and yields the install form's and the
    CLI's fields (:attr:`settings`). ``factory(settings, on_tokens, resources=None, cache=None)``
    returns a :class:`~connectors.base.Connector`; ``cache`` (:class:`~connectors.base.MetadataCache`)
    keeps the connection's CRM metadata between syncs; ``on_tokens`` is called with the new token settings
    whenever the connector refreshes its access token, so the service can store them;
    ``resources`` lets connectors of the same CRM account share what must be shared in a process
    (a rate budget). ``errors`` is the CRM's error table (its errors carry the action it picks).
    ``map_sources()`` gives the default map's ``sources.<crm>`` part (object -> source entry as in
    a map file). ``stage_hints`` explain a record that holds no stage value, keyed by
    ``<object>/<object its stage follows>`` or by ``<object>`` (the first found applies).
    ``day_counts`` says the CRM keeps the day counts (``mapping.records.DAY_COUNT_FIELDS``) in
    fields the service writes (HubSpot's number properties; Salesforce derives them in formula
    fields). The optional hooks are None when the CRM lacks that part.
    """

    name: str
    label: str
    settings_model: type[BaseModel]
    factory: Callable[..., Connector]
    errors: ErrorTable
    map_sources: Callable[[], Mapping[str, Any]] = dict
    stage_hints: Mapping[str, StageHint] = field(default_factory=dict)
    day_counts: bool = False
    oauth: OAuthSpec | None = None
    receiver: ReceiverSpec | None = None
    card: CardSpec | None = None
    sandbox: SandboxSpec | None = None

    @property
    def settings(self) -> tuple[SettingField, ...]:
        """The settings people set, in the model's order."""
        return setting_fields(self.settings_model)

    @property
    def secret_settings(self) -> frozenset[str]:
        """Names of the settings kept encrypted (``SecretStr`` fields, advanced ones included)."""
        return frozenset(name for name, info in self.settings_model.model_fields.items()
                         if _is_secret(info.annotation))

    def stage_hint(self, object: str, source_object: str) -> StageHint | None:
        """Why a record of ``object`` whose stage follows ``source_object`` has no stage value."""
        return self.stage_hints.get(f"{object}/{source_object}") or self.stage_hints.get(object)

    def settings_problems(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Every problem of ``values`` (empty values left out) by setting name; empty when valid."""
        return settings_problems(self.settings_model,
                                 {k: v for k, v in values.items() if v not in (None, "")})

