"""Typed domain errors. Routes and logic raise these; `sitegate.http` maps each
to its HTTP status once (docs/API.md: 404 also for what the caller may not see)."""

from __future__ import annotations

from typing import Any


class SiteGateError(Exception):
    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(SiteGateError):
    """No usable identity (the gateway normally answers this before us)."""

    status = 401


class Forbidden(SiteGateError):
    """The caller can see the resource but may not do this."""

    status = 403


class NotFound(SiteGateError):
    """It does not exist, or the caller may not see it."""

    status = 404


class Conflict(SiteGateError):
    """Duplicate, overlapping or wrong-state write."""

    status = 409


class InvalidInput(SiteGateError):
    """Input that passes the schema but breaks a domain rule."""

    status = 422


def invalid(field: str, message: str, *more: tuple[str, str]) -> InvalidInput:
    """The one way to refuse input: a 422 naming each offending field and why."""
    errors = [{"field": name, "message": text} for name, text in ((field, message), *more)]
    return InvalidInput(f"invalid input: {', '.join(e['field'] for e in errors)}", errors=errors)
