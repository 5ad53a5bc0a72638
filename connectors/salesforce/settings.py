"""The Salesforce connector's settings, validated once when the connector is built."""
from __future__ import annotations

import json
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.base import ConfigError
from connectors.seedfile import format_validation_error
from mapping.records import WRITEBACK_FIELDS

#: Default API names of the write-back fields, by canonical name.
DEFAULT_FIELD_NAMES: dict[str, str] = {
    "journey_stage": "Journey_Stage__c",
    "persona": "Journey_Persona__c",
    "next_best_action": "Next_Best_Action__c",
    "stalled": "Journey_Stalled__c",
    "stage_entered_at": "Journey_Stage_Entered_At__c",
    "journey_updated_at": "Journey_Updated_At__c",
}


#: Winter '27, the current release since October 2026 (Salesforce retires old versions, never new ones).
DEFAULT_API_VERSION = "68.0"


class SalesforceSettings(BaseModel):
    """Connection settings. Secrets are ``SecretStr`` so they never show in reprs or errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_url: str
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    login_url: str = "https://login.salesforce.com"
    ca_file: str | None = None
    api_version: str = Field(DEFAULT_API_VERSION, pattern=r"^\d{2}\.0$")
    quota_share: float = Field(0.5, gt=0, le=1)
    field_names: dict[str, str] = Field(default_factory=dict)
    contact_stage_field: str | None = None
    permission_set: str = "Journey_Sync_Integration"
    max_refreshes: int = Field(2, ge=0, le=5)
    retry_attempts: int = Field(5, ge=1, le=10)
    retry_wait_seconds: float = Field(0.5, ge=0)
    retry_max_wait_seconds: float = Field(8.0, ge=0)
    timeout_seconds: float = Field(60.0, gt=0)

    @field_validator("instance_url", "login_url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @field_validator("field_names", mode="before")
    @classmethod
    def _field_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(WRITEBACK_FIELDS))
            if unknown:
                raise ValueError(f"unknown write-back field(s) {', '.join(unknown)}; known: {', '.join(WRITEBACK_FIELDS)}")
            bad = sorted(v for v in value.values() if not (isinstance(v, str) and v.endswith("__c")))
            if bad:
                raise ValueError(f"custom field API names must end in __c: {', '.join(map(str, bad))}")
        return value

    @property
    def api_names(self) -> dict[str, str]:
        """Canonical write-back name -> API name, defaults filled in."""
        return {**DEFAULT_FIELD_NAMES, **self.field_names}


def parse_settings(settings: Mapping[str, Any]) -> SalesforceSettings:
    """Validate connector settings (keys starting with ``_`` belong to the host and are ignored)."""
    values = {k: v for k, v in settings.items() if not k.startswith("_") and v not in (None, "")}
    try:
        return SalesforceSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(format_validation_error("salesforce settings", exc), code="INVALID_SETTINGS") from None
