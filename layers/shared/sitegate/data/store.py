"""DynamoDB access for every entity. Creates are conditional; multi-item changes
are one TransactWriteItems; ClientError codes become domain errors here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from sitegate import keys
from sitegate.data.aws import dynamodb_client, table
from sitegate.errors import Conflict
from sitegate.models.stored import Account, Tenant, User, UserHistory

M = TypeVar("M", bound=BaseModel)


def _item(model: BaseModel, *key_parts: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    item["entity"] = type(model).__name__
    for part in key_parts:
        item.update(part)
    return item


def _model(cls: type[M], item: dict[str, Any] | None) -> M | None:
    return None if item is None else cls.model_validate(item)


def tenant_item(tenant: Tenant) -> dict[str, Any]:
    return _item(tenant, keys.tenant(tenant.tenant_id))


def account_item(account: Account) -> dict[str, Any]:
    return _item(
        account,
        keys.account(account.tenant_id, account.account_id),
        keys.account_gsi1(account.tenant_id, account.kind, account.name, account.account_id),
    )


def user_item(user: User) -> dict[str, Any]:
    return _item(
        user,
        keys.user(user.tenant_id, user.user_id),
        keys.user_gsi1(user.tenant_id, user.account_id, user.name, user.user_id),
    )


def history_item(entry: UserHistory, seq: str) -> dict[str, Any]:
    return _item(entry, keys.user_history(entry.tenant_id, entry.user_id, entry.at, seq))


def email_marker_item(user: User) -> dict[str, Any]:
    return {**keys.user_email(user.tenant_id, user.email), "entity": "EmailMarker", "user_id": user.user_id}


# ------------------------------------------------------------------ reads
def get_caller(tenant_id: str, user_id: str, account_id: str) -> tuple[User | None, Account | None]:
    """The caller's user and account records in one BatchGetItem call."""
    name = table().name
    wanted = [keys.user(tenant_id, user_id), keys.account(tenant_id, account_id)]
    response = dynamodb_client().batch_get_item(
        RequestItems={name: {"Keys": wanted, "ConsistentRead": True}}
    )
    found = {(item["PK"], item["SK"]): item for item in response["Responses"].get(name, [])}
    # A batch may leave keys unprocessed under throttling; read those one by one.
    for key in response.get("UnprocessedKeys", {}).get(name, {}).get("Keys", []):
        item = table().get_item(Key=key, ConsistentRead=True).get("Item")
        if item:
            found[(item["PK"], item["SK"])] = item
    user = _model(User, found.get((wanted[0]["PK"], wanted[0]["SK"])))
    account = _model(Account, found.get((wanted[1]["PK"], wanted[1]["SK"])))
    return user, account


def get_tenant(tenant_id: str) -> Tenant | None:
    return _model(Tenant, table().get_item(Key=keys.tenant(tenant_id)).get("Item"))


# --------------------------------------------------------------- idempotency
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

    def create(self, response: BaseModel, status: int = 201) -> Create:
        """The marker item, holding the first response, to write with the create."""
        item = {
            **keys.idempotency(self.tenant_id, self.scope, self.key),
            "entity": "Idempotency",
            "request_hash": self.request_hash,
            "status": status,
            "body": response.model_dump_json(),  # JSON text: no Decimal round-trip
        }
        return Create(item, "Idempotency-Key already used")


def find_idempotent_response(tenant_id: str, scope: str, key: str, request_hash: str) -> IdempotentResponse | None:
    """The first response to this Idempotency-Key, or None. A reused key with another body is a conflict."""
    item = table().get_item(Key=keys.idempotency(tenant_id, scope, key), ConsistentRead=True).get("Item")
    if item is None:
        return None
    if item["request_hash"] != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request body")
    return IdempotentResponse(status=int(item["status"]), body=json.loads(item["body"]))


# ------------------------------------------------------------------ writes
@dataclass(frozen=True)
class Create:
    """One item put only if its key is new; `conflict` names the clash for the caller."""

    item: dict[str, Any]
    conflict: str


class IdempotencyReplay(Exception):
    """The transaction lost the race to an earlier request with the same Idempotency-Key."""


def create_all(creates: list[Create]) -> None:
    """Put every item, each only if new, all or nothing."""
    name = table().name
    try:
        dynamodb_client().transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": c.item, "ConditionExpression": "attribute_not_exists(PK)"}}
                for c in creates
            ]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons", [])
        for create, reason in zip(creates, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                if create.item.get("entity") == "Idempotency":
                    raise IdempotencyReplay() from exc
                raise Conflict(create.conflict) from exc
        raise
