"""One exception root and one error shape for everything the plugin reports.

Every error a client, an admin or a CLI user sees is an `EnricherError`: a stable
`key` they can search for, a readable `message`, `details` (null when there are none),
and the HTTP status the web layer answers with. Messages never contain secrets.
"""
from __future__ import annotations

from typing import Any


class EnricherError(Exception):
    status = 400
    key = "error"

    def __init__(self, message: str, *, key: str | None = None, status: int | None = None,
                 details: Any = None):
        super().__init__(message)
        self.message = message
        if key:
            self.key = key
        if status:
            self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        # `details` is always there (null when there is nothing more to say), so a client
        # reads one shape whatever went wrong.
        return error_body(self.key, self.message, self.details)


def error_body(key: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape: `{"error", "message", "details"}`."""
    return {"error": key, "message": message, "details": details}


class SettingsError(EnricherError):
    key = "invalid_settings"


class BadSignature(EnricherError):
    status = 401
    key = "bad_signature"


class Unauthorized(EnricherError):
    """An admin page asked for without its token."""
    status = 401
    key = "unauthorized"


class Forbidden(EnricherError):
    """An admin page asked for with a wrong token or session."""
    status = 403
    key = "forbidden"


class BadPayload(EnricherError):
    status = 400
    key = "bad_payload"


class PayloadTooLarge(EnricherError):
    status = 413
    key = "payload_too_large"


class NotFound(EnricherError):
    status = 404
    key = "not_found"


class InputError(EnricherError):
    """Bad input to a command (a CSV, a model file, a template)."""
    key = "bad_input"


class PlatformError(EnricherError):
    """A platform REST call failed; `retryable` says whether trying later may help."""

    status = 502
    key = "platform_error"

    def __init__(self, message: str, *, key: str | None = None, retryable: bool = False,
                 retry_after: float | None = None, http_status: int | None = None,
                 details: Any = None):
        super().__init__(message, key=key, details=details)
        self.retryable = retryable
        self.retry_after = retry_after
        self.http_status = http_status
