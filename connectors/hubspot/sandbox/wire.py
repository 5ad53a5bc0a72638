"""HubSpot's wire formats: timestamps, error bodies and the HTTP errors the sandbox raises."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any


def iso_ms(moment: datetime) -> str:
    """HubSpot's datetime text: UTC, millisecond precision, ``Z`` suffix."""
    # isoformat, not strftime: a search page renders thousands of these.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_datetime_value(text: str) -> datetime:
    """Parse a datetime property value as HubSpot accepts it: epoch milliseconds or ISO 8601."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(stripped) / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def now_utc() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(timezone.utc)


def correlation_id() -> str:
    """A fresh correlation id, as HubSpot puts in every error body."""
    return str(uuid.uuid4())


class HubSpotHttpError(Exception):
    """An error response in HubSpot's shape: ``{status, message, correlationId, category, ...}``."""

    def __init__(self, status: int, category: str, message: str, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body HubSpot sends for this error."""
        return {"status": "error", "message": self.message, "correlationId": correlation_id(),
                "category": self.category, **self.extra}


def validation_error(message: str, **extra: Any) -> HubSpotHttpError:
    """A 400 VALIDATION_ERROR."""
    return HubSpotHttpError(400, "VALIDATION_ERROR", message, extra=extra)


def not_found(message: str = "Resource not found") -> HubSpotHttpError:
    """A 404 OBJECT_NOT_FOUND."""
    return HubSpotHttpError(404, "OBJECT_NOT_FOUND", message)
