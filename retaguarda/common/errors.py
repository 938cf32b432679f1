"""Domain errors raised by services; the web and API layers turn them into responses."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action. `code` is stable and machine-readable."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, details=None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        # Machine-readable facts about the refusal, e.g. each short line's requested and
        # available quantities; the API adds them to the error body as "details".
        self.details = list(details or [])


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409
