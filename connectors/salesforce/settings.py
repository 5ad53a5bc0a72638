"""The Salesforce connector's settings, validated once when the connector is built."""
from __future__ import annotations

import json
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.base import DEFAULT_TIMEOUTS, ConfigError
from connectors.seedfile import format_validation_error
from mapping.records import WRITEBACK_FIELDS

#: Default API names of the write-back fields, by canonical name.
DEFAULT_FIELD_NAMES: dict[str, str] = {
    "journey_stage": "Journey_Stage__c",
    "persona": "Journey_Persona__c",
    "next_best_action": "Next_Best_Action__c",
    "stalled": "Journey_Stalled__c",
    "stage_entered_at": "Journey_Stage_Entered_At__c",
    "stalls_at": "Journey_Stalls_At__c",
    "journey_updated_at": "Journey_Updated_At__c",
}


#: Winter '27, the current release since October 2026 (Salesforce retires old versions, never new ones).
DEFAULT_API_VERSION = "68.0"
#: Marks a setting the install form and the CLI leave out (see ``connectors.plugin.setting_fields``).
ADVANCED = {"advanced": True}


class SalesforceSettings(BaseModel):
    """Connection settings. Secrets are ``SecretStr`` so they never show in reprs or errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_url: str = Field(title="Instance URL", description="https://yourdomain.my.salesforce.com")
    access_token: SecretStr = Field(title="Access token")
    refresh_token: SecretStr | None = Field(None, title="Refresh token")
    client_id: str | None = Field(None, title="Connected app consumer key")
    client_secret: SecretStr | None = Field(None, title="Connected app consumer secret")
    login_url: str = Field("https://login.salesforce.com", title="Login URL")
    ca_file: str | None = Field(None, title="CA bundle file",
                                description="Only for a local sandbox or a TLS proxy")
    api_version: str = Field(DEFAULT_API_VERSION, pattern=r"^\d{2}\.0$", title="API version")
    quota_share: float = Field(0.5, gt=0, le=1, title="Share of the daily API quota to use")
    field_names: dict[str, str] = Field(default_factory=dict,
                                        title="Write-back field names (JSON: canonical -> API name)")
    contact_stage_field: str | None = Field(None, title="Contact field holding a journey stage",
                                            description="Leave empty: contacts follow their latest opportunity")
    bulk_threshold: int = Field(50_000, ge=0, title="Bulk API 2.0 from this many records",
                                description="Pulls and write-backs of at least this many records use "
                                            "Bulk API 2.0 instead of REST; 0 never uses it")
    # Tuning that only tests and benchmarks change: not on the install form or the CLI.
    bulk_poll_seconds: float = Field(2.0, gt=0, le=60, json_schema_extra=ADVANCED)
    bulk_wait_seconds: float = Field(3600.0, gt=0, json_schema_extra=ADVANCED)
    permission_set: str = Field("Journey_Sync_Integration", json_schema_extra=ADVANCED)
    max_refreshes: int = Field(2, ge=0, le=5, json_schema_extra=ADVANCED)
    retry_attempts: int = Field(5, ge=1, le=10, json_schema_extra=ADVANCED)
    retry_wait_seconds: float = Field(0.5, ge=0, json_schema_extra=ADVANCED)
    retry_max_wait_seconds: float = Field(8.0, ge=0, json_schema_extra=ADVANCED)
    # Set by the host (never on the form): the org id the CRM reported, and the timeouts.
    account_id: str | None = Field(None, json_schema_extra=ADVANCED)
    connect_timeout_seconds: float = Field(DEFAULT_TIMEOUTS[0], gt=0, json_schema_extra=ADVANCED)
    read_timeout_seconds: float = Field(DEFAULT_TIMEOUTS[1], gt=0, json_schema_extra=ADVANCED)

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
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds for every HTTP call."""
        return (self.connect_timeout_seconds, self.read_timeout_seconds)

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
