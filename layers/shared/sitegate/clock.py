"""The one clock. Everything that needs "now" asks here, so tests and the local
stack's test clock (`POST /local/clock`) can move time for every function."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def now_iso() -> str:
    return now().isoformat(timespec="seconds")


def freeze(at: datetime) -> None:
    """Pin the clock (test clocks only; never called by deployed code)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the test clock needs a time with an offset")
    _frozen = at.astimezone(UTC)


def unfreeze() -> None:
    global _frozen
    _frozen = None
