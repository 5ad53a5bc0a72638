"""The HubSpot connection's settings: the install form, the CLI options and their validation."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .api import DEFAULT_BASE_URL


#: How far each incremental pull reaches back before the last one began: longer than the lag of
#: HubSpot's search index behind changes. HubSpot documents no bound; integrators report changes
#: taking "several seconds" to reach search, so a minute leaves a wide margin while re-reading
#: (and dropping) only the last minute's changes.
DEFAULT_SEARCH_OVERLAP_SECONDS = 60.0


class HubSpotSettings(BaseModel):
    """Settings of one HubSpot connection. Secrets are ``SecretStr``: never in reprs or errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(DEFAULT_BASE_URL, title="API base URL",
                          description="Leave as is for HubSpot; a sandbox URL for local testing.")
    access_token: SecretStr = Field(
        title="Access token",
        description="A private app token, or the OAuth access token from the install flow.")
    refresh_token: SecretStr | None = Field(
        None, title="Refresh token", description="OAuth only: lets the connector renew the access token.")
    client_id: str | None = Field(None, title="App client id")
    client_secret: SecretStr | None = Field(
        None, title="App client secret", description="OAuth only; also verifies webhook signatures.")
    expires_at: str | None = Field(None, title="Access token expiry (ISO 8601)")
    property_names: dict[str, str] | None = Field(None, json_schema_extra={"advanced": True})
    search_overlap_seconds: float = Field(
        DEFAULT_SEARCH_OVERLAP_SECONDS, ge=0, le=3600, title="Search overlap (seconds)",
        description="Each incremental pull reaches back this far: HubSpot's search index lags "
                    "behind changes.", json_schema_extra={"advanced": True})

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        return value.rstrip("/")
