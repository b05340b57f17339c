"""Idempotency-Key markers: the first response to a create, kept a day, written in the create's
own transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import BaseModel

from sitegate import clock, keys
from sitegate.data import codec, core
from sitegate.errors import Conflict
from sitegate.models.stored import Stored

IDEMPOTENCY_TTL = timedelta(hours=24)  # as payment APIs keep keys: a day to retry, then the key is free again


class IdempotencyMarker(Stored):
    audited: ClassVar[bool] = False  # the change it goes with carries the entry
    entity: ClassVar[str] = codec.IDEMPOTENCY
    tenant_id: str
    scope: str
    key: str
    request_hash: str
    status: int
    body: str  # JSON text: no Decimal round-trip
    ttl: int  # DynamoDB TTL (epoch seconds)


codec.register(IdempotencyMarker, lambda m: [keys.idempotency(m.tenant_id, m.scope, m.key)])


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key in force for one create."""

    tenant_id: str
    scope: str
    key: str
    request_hash: str

    def create(self, response: BaseModel, status: int = 201) -> core.ReplaceExpired:
        """The marker, holding the first response, to write with the create. It expires
        (DynamoDB TTL) a day after it was written."""
        marker = IdempotencyMarker(tenant_id=self.tenant_id, scope=self.scope, key=self.key,
                                   request_hash=self.request_hash, status=status, body=response.model_dump_json(),
                                   ttl=int((clock.now() + IDEMPOTENCY_TTL).timestamp()))
        # An expired marker that DynamoDB has not swept yet may be taken over.
        return core.ReplaceExpired(marker, int(clock.now().timestamp()), "Idempotency-Key already used",
                                   attribute="ttl")


def find_idempotent_response(tenant_id: str, scope: str, key: str, request_hash: str) -> IdempotentResponse | None:
    """The first response to this Idempotency-Key, or None. A reused key with another body is a conflict.
    A marker past its expiry counts as gone even before DynamoDB's TTL sweep removes it."""
    item = core.get_raw(keys.idempotency(tenant_id, scope, key), ConsistentRead=True)
    if item is None or int(item.get("ttl", 0)) <= clock.now().timestamp():
        return None
    if item["request_hash"] != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request body")
    return IdempotentResponse(status=int(item["status"]), body=json.loads(item["body"]))


def create_once(creates: Sequence[core.Create | core.ReplaceExpired], response: BaseModel,
                idempotency: Idempotency | None, *, replaces: Sequence[core.Replace] = (),
                removes: Sequence[core.Remove] = ()) -> None:
    """The one way to write a create: its items (and any replaces/removes that go with it) and,
    under an Idempotency-Key, the first response, all in one transaction."""
    marker = [idempotency.create(response)] if idempotency is not None else []
    core.write(creates=[*creates, *marker], replaces=replaces, removes=removes)
