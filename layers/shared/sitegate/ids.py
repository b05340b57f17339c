"""Opaque, server-made identifiers."""

import uuid


def new_id() -> str:
    return uuid.uuid4().hex


def derived_id(*parts: str) -> str:
    """An id that the same parts always make (racing creators of one thing make one item)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "sitegate:" + "\x1f".join(parts)).hex
