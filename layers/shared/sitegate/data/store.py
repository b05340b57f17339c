"""DynamoDB access for every entity. Creates are conditional; multi-item changes
are one TransactWriteItems; ClientError codes become domain errors here."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from sitegate import keys
from sitegate.data.aws import dynamodb_client, table
from sitegate.errors import Conflict, InvalidInput
from sitegate.models.stored import Account, Setting, Tenant, User, UserHistory, Vehicle

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
    sponsor = account.sponsor_account_id
    return _item(
        account,
        keys.account(account.tenant_id, account.account_id),
        keys.account_gsi1(account.tenant_id, account.kind, account.name, account.account_id),
        keys.account_gsi2(account.tenant_id, sponsor, account.name, account.account_id) if sponsor else {},
    )


def user_item(user: User) -> dict[str, Any]:
    return _item(
        user,
        keys.user(user.tenant_id, user.user_id),
        keys.user_indexes(user.tenant_id, user.account_id, user.status, user.name, user.user_id),
    )


def history_item(entry: UserHistory, seq: str) -> dict[str, Any]:
    return _item(entry, keys.user_history(entry.tenant_id, entry.user_id, entry.at, seq))


def email_marker_item(user: User) -> dict[str, Any]:
    return {**keys.user_email(user.tenant_id, user.email), "entity": "EmailMarker", "user_id": user.user_id}


def customer_code_item(tenant_id: str, code: str, account_id: str) -> dict[str, Any]:
    return {**keys.customer_code(tenant_id, code), "entity": "CustomerCode", "account_id": account_id}


def setting_item(setting: Setting) -> dict[str, Any]:
    return _item(setting, keys.setting(setting.tenant_id, setting.key))


def vehicle_item(vehicle: Vehicle) -> dict[str, Any]:
    return _item(vehicle, keys.vehicle(vehicle.tenant_id, vehicle.vehicle_id))


def registration_marker_item(vehicle: Vehicle) -> dict[str, Any]:
    return {**keys.vehicle_registration(vehicle.tenant_id, vehicle.registration), "entity": "RegistrationMarker",
            "vehicle_id": vehicle.vehicle_id}


def put_setting(setting: Setting) -> None:
    table().put_item(Item=setting_item(setting))


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


def get_user(tenant_id: str, user_id: str) -> User | None:
    return _model(User, table().get_item(Key=keys.user(tenant_id, user_id), ConsistentRead=True).get("Item"))


def get_account(tenant_id: str, account_id: str) -> Account | None:
    return _model(Account, table().get_item(Key=keys.account(tenant_id, account_id), ConsistentRead=True).get("Item"))


def get_user_and_account(tenant_id: str, user_id: str) -> tuple[User | None, Account | None]:
    user = get_user(tenant_id, user_id)
    return (None, None) if user is None else (user, get_account(tenant_id, user.account_id))


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


@dataclass(frozen=True)
class Replace:
    """An item rewritten only if nobody changed it since it was read (optimistic
    lock on `version`, which the new item must carry bumped by one)."""

    item: dict[str, Any]
    conflict: str = "changed by someone else meanwhile; read it again"


@dataclass(frozen=True)
class Remove:
    key: dict[str, str]


class IdempotencyReplay(Exception):
    """The transaction lost the race to an earlier request with the same Idempotency-Key."""


def write(creates: Sequence[Create] = (), replaces: Sequence[Replace] = (), removes: Sequence[Remove] = ()) -> None:
    """All or nothing, in one TransactWriteItems: creates only if new, replaces only if unchanged."""
    name = table().name
    operations: list[Create | Replace | Remove] = [*creates, *replaces, *removes]
    transact: list[dict[str, Any]] = []
    for op in operations:
        if isinstance(op, Create):
            transact.append({"Put": {"TableName": name, "Item": op.item, "ConditionExpression": "attribute_not_exists(PK)"}})
        elif isinstance(op, Replace):
            transact.append({"Put": {"TableName": name, "Item": op.item, "ConditionExpression": "version = :read",
                                     "ExpressionAttributeValues": {":read": op.item["version"] - 1}}})
        else:
            transact.append({"Delete": {"TableName": name, "Key": op.key}})
    try:
        dynamodb_client().transact_write_items(TransactItems=transact)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons", [])
        for op, reason in zip(operations, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                if isinstance(op, Create) and op.item.get("entity") == "Idempotency":
                    raise IdempotencyReplay() from exc
                raise Conflict(op.conflict if not isinstance(op, Remove) else "conflict") from exc
        raise


def create_all(creates: list[Create]) -> None:
    """Put every item, each only if new, all or nothing."""
    write(creates=creates)


# ------------------------------------------------------------------ lists
def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    return None if not key else base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid cursor", errors=[{"field": "cursor", "message": "not a cursor from this API"}]) from exc
    if not isinstance(key, dict) or not all(isinstance(v, str) for v in key.values()):
        raise InvalidInput("invalid cursor", errors=[{"field": "cursor", "message": "not a cursor from this API"}])
    return key


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def query_page(partition: str, *, index: str | None = None, sort_prefix: str | None = None,
               limit: int = 50, cursor: str | None = None) -> Page:
    """One page of a partition (table or GSI), optionally narrowed by a sort-key prefix."""
    pk, sk = ("PK", "SK") if index is None else (f"{index}PK", f"{index}SK")
    condition = Key(pk).eq(partition)
    if sort_prefix:
        condition = condition & Key(sk).begins_with(sort_prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Limit": limit}
    if index is not None:
        kwargs["IndexName"] = index
    start = _decode_cursor(cursor)
    if start is not None:
        if start.get(pk) != partition:
            raise InvalidInput("invalid cursor", errors=[{"field": "cursor", "message": "cursor of another list"}])
        kwargs["ExclusiveStartKey"] = start
    try:
        response = table().query(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationException":
            raise InvalidInput("invalid cursor", errors=[{"field": "cursor", "message": "cursor of another list"}]) from exc
        raise
    return Page(response.get("Items", []), _encode_cursor(response.get("LastEvaluatedKey")))


def models_of(cls: type[M], page: Page) -> list[M]:
    return [cls.model_validate(item) for item in page.items]
