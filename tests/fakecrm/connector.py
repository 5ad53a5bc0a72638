"""The fake CRM's connector, built from the shared inner shape (paginator, batch sink,
authenticator) and its error table, as a new CRM's connector would be."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

import requests

from connectors.actions import ANY, Action, ErrorRule, ErrorTable
from connectors.base import (AccountIdentity, ApiUsage, CrmStage, FieldUpdate, Progress, ProvisionedField,
                             TaskResult, TaskSpec, WriteResult, error_for)
from connectors.rest import BatchSink, call_with_refresh, paginate
from mapping.records import WRITEBACK_FIELDS, CrmRecord, StageChange

from .sandbox import BATCH_LIMIT

ERROR_TABLE = ErrorTable((
    ErrorRule(401, "expired_token", Action.REFRESH_AUTH),
    ErrorRule(400, "invalid_grant", Action.REAUTHORIZE),
    ErrorRule(409, "exists", Action.FAIL),
    ErrorRule(ANY, "not_found", Action.FAIL_RECORD),
    ErrorRule(ANY, "unknown_field", Action.FAIL_RECORD),
))


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


class FakeConnector:
    """Tickets of one fake CRM account."""

    crm = "fakecrm"
    write_batch_size = BATCH_LIMIT

    def __init__(self, settings: Mapping[str, Any], on_tokens=None) -> None:
        self.base_url = settings["base_url"].rstrip("/")
        self.token = settings["api_token"]
        self.refresh_token = settings.get("refresh_token")
        self.on_tokens = on_tokens
        self.usage = ApiUsage()
        self.http = requests.Session()
        self.http.trust_env = False

    # ---------------------------------------------------------------------- authenticator
    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token)

    def refresh(self) -> None:
        self.token = self._once("POST", "/api/token", json={"refresh_token": self.refresh_token},
                                auth=False)["access_token"]
        if self.on_tokens:
            self.on_tokens({"api_token": self.token})

    def _once(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        self.usage.count(f"{method} {path}")
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        answer = self.http.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)
        if answer.status_code >= 400:
            code = (answer.json() if answer.content else {}).get("error", "")
            raise error_for(ERROR_TABLE.action(answer.status_code, code),
                            f"fake CRM {method} {path}: {answer.status_code} {code}",
                            code=code or f"HTTP_{answer.status_code}", status=answer.status_code)
        return answer.json()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return call_with_refresh(lambda: self._once(method, path, **kwargs), self)

    # ------------------------------------------------------------------------- contract
    def objects(self) -> Sequence[str]:
        return ["ticket"]

    def pull(self, since: datetime | None = None, *, ids: Mapping[str, Sequence[str]] | None = None,
             progress: Progress | None = None, cursor: Any = None,
             prior: Any = None) -> Iterator[CrmRecord]:
        """Tickets changed since ``since`` (the fake keeps no cursor and no prior records)."""
        params: dict[str, str] = {}
        if ids is not None:
            params["ids"] = ",".join(ids.get("ticket", ()))
        elif since is not None:
            params["since"] = since.isoformat()

        def fetch(cursor):
            return self._call("GET", "/api/tickets", params={**params, **({"cursor": cursor} if cursor else {})})

        for page in paginate(fetch, lambda page: page["next"], what="fake CRM tickets"):
            for item in page["items"]:
                yield CrmRecord(crm="fakecrm", object="ticket", id=item["id"], name=item["subject"],
                                stage_value=item["status"], created_at=_when(item["createdAt"]),
                                modified_at=_when(item["updatedAt"]),
                                history=tuple(StageChange(h["status"], _when(h["at"]))
                                              for h in item["history"]),
                                writeback={k: _from_plain(k, v) for k, v in item["journey"].items()})

    def stages(self) -> list[CrmStage]:
        return [CrmStage("ticket", s["value"], s["label"], s["order"], is_closed=s["closed"])
                for s in self._call("GET", "/api/statuses")]

    def provision(self, choices: Mapping[str, Sequence[tuple[str, str]]] | None = None
                  ) -> list[ProvisionedField]:
        # the fake CRM's fields are plain text: it has no option lists to keep in line
        made = []
        for name in WRITEBACK_FIELDS:
            try:
                self._call("POST", "/api/fields", json={"name": name})
                created = True
            except Exception as exc:  # 409: the field exists
                if getattr(exc, "status", None) != 409:
                    raise
                created = False
            made.append(ProvisionedField("ticket", name, name, created))
        return made

    def push(self, updates: Sequence[FieldUpdate], *, progress: Progress | None = None
             ) -> list[WriteResult]:
        def write_batch(batch: list[FieldUpdate]) -> list[WriteResult]:
            body = {"updates": [{"id": u.id, "fields": {k: _plain(v) for k, v in u.values.items()}}
                                for u in batch]}
            answer = {r["id"]: r for r in self._call("PATCH", "/api/tickets/batch", json=body)["results"]}
            return [WriteResult(u.object, u.id, True) if answer[u.id]["ok"] else
                    WriteResult(u.object, u.id, False, answer[u.id]["error"], "refused",
                                action=ERROR_TABLE.action(200, answer[u.id]["error"]))
                    for u in batch]

        sink = BatchSink(BATCH_LIMIT, write_batch,
                         failed=lambda u, exc: WriteResult(u.object, u.id, False, exc.code,
                                                           exc.message, action=exc.action))
        return [result for _, result in sink.write(updates, progress=progress)]

    def owner_names(self, ids: Sequence[str]) -> dict[str, str]:
        # the fake CRM has no users: owners stay ids, as the protocol allows
        return {}

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskResult]:
        return [TaskResult(t.key, False, error_code="UNSUPPORTED", message="the fake CRM has no tasks")
                for t in tasks]

    def find_tasks(self, keys: Sequence[str]) -> dict[str, str]:
        return {}

    def record_url(self, object: str, id: str) -> str | None:
        return f"{self.base_url}/tickets/{id}"

    def identify(self) -> AccountIdentity:
        account = self._call("GET", "/api/account")
        return AccountIdentity(str(account["id"]), account["name"])


#: Write-back fields holding instants (sent as ISO 8601 text).
INSTANTS = ("stage_entered_at", "stalls_at", "journey_updated_at")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _from_plain(name: str, value: Any) -> Any:
    return _when(value) if name in INSTANTS and value else value
