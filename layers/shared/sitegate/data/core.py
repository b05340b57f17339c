"""The table's core: reads (get, batch, query, pages and cursors) and the one transaction engine.

Entity modules (`*_store.py`) own the access patterns and call these; logic modules hand models
to `Create`, `Replace`, `Remove` and `write`, never items (the codec turns models into items).
ClientError codes become domain errors here."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from sitegate import keys
from sitegate.data import codec
from sitegate.data.aws import dynamodb_client, table
from sitegate.errors import Conflict, invalid

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryOutputTableTypeDef

M = TypeVar("M", bound=BaseModel)
TableKey = dict[str, str]


# ------------------------------------------------------------------ reads
def model_of(cls: type[M], item: dict[str, Any] | None) -> M | None:
    return None if item is None else cls.model_validate(item)


def models_of(cls: type[M], items: Iterable[dict[str, Any]]) -> list[M]:
    return [cls.model_validate(item) for item in items]


def get_item(cls: type[M], key: TableKey, *, consistent: bool = True) -> M | None:
    return model_of(cls, table().get_item(Key=key, ConsistentRead=consistent).get("Item"))


def get_raw(key: TableKey, **kwargs: Any) -> dict[str, Any] | None:
    """One item as stored, for the entity modules' markers (never handed out of the data layer)."""
    item: dict[str, Any] | None = table().get_item(Key=key, **kwargs).get("Item")
    return item


Found = dict[tuple[str, str], dict[str, Any]]


def batch_get(wanted: Sequence[TableKey]) -> Found:
    """Strongly consistent BatchGetItem of up to 100 keys per call, retrying unprocessed keys."""
    name = table().name
    found: Found = {}
    unique = list({(k["PK"], k["SK"]): k for k in wanted}.values())
    for start in range(0, len(unique), 100):
        request: dict[str, Any] = {name: {"Keys": unique[start:start + 100], "ConsistentRead": True}}
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for item in response["Responses"].get(name, []):
                found[(item["PK"], item["SK"])] = item
            request = response.get("UnprocessedKeys") or {}
            if request:  # throttled: back off before asking again
                time.sleep(0.05 + random.random() * 0.05)  # noqa: S311 - jitter
    return found


def pick(cls: type[M], found: Found, key: TableKey) -> M | None:
    return model_of(cls, found.get((key["PK"], key["SK"])))


def get_many(cls: type[M], wanted: Sequence[TableKey]) -> list[M]:
    """The items of these keys that exist, in the order asked, in BatchGetItem calls of 100."""
    found = batch_get(wanted)
    picked = (pick(cls, found, key) for key in wanted)
    return [m for m in picked if m is not None]


# ------------------------------------------------------------------ lists
def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return None if not key else base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise invalid("cursor", "not a cursor from this API") from exc
    if not isinstance(key, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items()):
        raise invalid("cursor", "not a cursor from this API")
    return key


def decode_position(cursor: str | None) -> str:
    """A cursor of a list paged by our own position (`{"after": ...}`), not by a DynamoDB key."""
    key = decode_cursor(cursor)
    if key is not None and set(key) != {"after"}:
        raise invalid("cursor", "cursor of another list")
    return (key or {}).get("after", "")


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _key_names(index: str | None) -> tuple[str, str]:
    return ("PK", "SK") if index is None else (f"{index}PK", f"{index}SK")


def _query_kwargs(partition: str, *, index: str | None = None, sort_prefix: str | None = None,
                  sort_between: tuple[str, str] | None = None, where: Any = None) -> dict[str, Any]:
    """A Query of one partition (table or GSI), narrowed by a sort-key prefix or range and a filter."""
    pk, sk = _key_names(index)
    condition: ConditionBase = Key(pk).eq(partition)
    if sort_prefix:
        condition = condition & Key(sk).begins_with(sort_prefix)
    if sort_between is not None:
        condition = condition & Key(sk).between(*sort_between)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if index is not None:
        kwargs["IndexName"] = index
    if where is not None:
        kwargs["FilterExpression"] = where
    return kwargs


def all_of(*terms: Any) -> Any:
    """The filter that every given term (None: none) must pass, or None when there is none."""
    where = None
    for term in terms:
        if term is not None:
            where = term if where is None else where & term
    return where


def _responses(kwargs: dict[str, Any]) -> Iterator[QueryOutputTableTypeDef]:
    """Every page of a Query, following LastEvaluatedKey."""
    while True:
        response = table().query(**kwargs)
        yield response
        if "LastEvaluatedKey" not in response:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def _query_items(partition: str, *, index: str | None = None, sort_prefix: str | None = None,
                 sort_between: tuple[str, str] | None = None, where: Any = None, limit: int = 50,
                 cursor: str | None = None, forward: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix, sort_between=sort_between, where=where),
              "Limit": limit, "ScanIndexForward": forward}
    pk, sk = _key_names(index)
    start = decode_cursor(cursor)
    if start is not None:
        # A cursor is the last key of this list's page: the table key, plus the index key when paging an index.
        wanted = {"PK", "SK"} | ({pk, sk} if index is not None else set())
        if start.get(pk) != partition or set(start) != wanted:
            raise invalid("cursor", "cursor of another list")
        kwargs["ExclusiveStartKey"] = start
    try:
        response = table().query(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationException":  # a start key DynamoDB refuses
            raise invalid("cursor", "cursor of another list") from exc
        raise
    return response.get("Items", []), encode_cursor(response.get("LastEvaluatedKey"))


def query_range(partition: str, sort_between: tuple[str, str], *, index: str | None = None, where: Any = None,
                limit: int, forward: bool = True, consistent: bool = False,
                start: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a sort-key range (inclusive) from a start key this layer kept: the items and the
    LastEvaluatedKey (None at the range's end). For lists merged over partitions (the audit trail)."""
    kwargs = {**_query_kwargs(partition, index=index, sort_between=sort_between, where=where),
              "Limit": limit, "ScanIndexForward": forward}
    if consistent:
        kwargs["ConsistentRead"] = True
    if start is not None:
        kwargs["ExclusiveStartKey"] = start
    response = table().query(**kwargs)
    return response.get("Items", []), response.get("LastEvaluatedKey")


def query_page(model: type[M], partition: str, *, index: str | None = None, sort_prefix: str | None = None,
               limit: int = 50, cursor: str | None = None, forward: bool = True) -> Page[M]:
    """One page of a partition (table or GSI), optionally narrowed by a sort-key prefix; `forward=False`
    walks the sort key from its end."""
    items, next_cursor = _query_items(partition, index=index, sort_prefix=sort_prefix, limit=limit, cursor=cursor,
                                      forward=forward)
    return Page(models_of(model, items), next_cursor)


FILTERED_PAGE_READS = 20  # Queries one filtered page may take (about 1,000 to 4,000 items read at most)


def filtered_page(model: type[M], partition: str, *, index: str, sort_prefix: str | None = None,
                  sort_between: tuple[str, str] | None = None, where: Any = None, limit: int,
                  cursor: str | None) -> Page[M]:
    """One page of a partition under a filter. DynamoDB applies `Limit` before the filter, so one call
    can return an empty page while more items follow: query on until `limit` items passed (or the list
    ends); the cursor is then the last item kept, so a page is never empty while its list goes on.
    A rare filter over a long list stops after FILTERED_PAGE_READS Queries with a short page and its cursor."""
    items: list[dict[str, Any]] = []
    for _ in range(FILTERED_PAGE_READS):
        page, cursor = _query_items(partition, index=index, sort_prefix=sort_prefix, sort_between=sort_between,
                                    where=where, limit=max(limit, 50), cursor=cursor)
        items += page
        if len(items) >= limit:
            more = len(items) > limit or cursor is not None
            items = items[:limit]
            kept = {name: items[-1][name] for name in ("PK", "SK", *_key_names(index))}
            return Page(models_of(model, items), encode_cursor(kept) if more else None)
        if cursor is None:
            break
    return Page(models_of(model, items), cursor)


def projection(attributes: Sequence[str]) -> dict[str, Any]:
    """Only these attributes of each item: less to transfer and, above all, less for botocore to parse
    (most of a bulk read's time). Placeholders, since `name`, `status`, `level` and `at` are reserved words."""
    names = {f"#a{n}": attribute for n, attribute in enumerate(attributes)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def query_all_items(partition: str, sort_prefix: str = "", *, index: str | None = None,
                    sort_between: tuple[str, str] | None = None, where: Any = None, page_size: int = 200,
                    consistent: bool = False, attributes: Sequence[str] = ()) -> list[dict[str, Any]]:
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix or None, sort_between=sort_between,
                              where=where), "Limit": page_size}
    if consistent:
        kwargs["ConsistentRead"] = True
    if attributes:
        kwargs |= projection(attributes)
    return [item for response in _responses(kwargs) for item in response.get("Items", [])]


def query_all(model: type[M], partition: str, sort_prefix: str = "", *, index: str | None = None,
              sort_between: tuple[str, str] | None = None, where: Any = None) -> list[M]:
    """Every item of one partition under a sort-key prefix or range (bounded sets: a job's access list, roles)."""
    return models_of(model, query_all_items(partition, sort_prefix, index=index, sort_between=sort_between,
                                            where=where))


def count(partition: str, *, index: str | None = None, sort_prefix: str | None = None, **equals: str) -> int:
    """How many items of a partition (under a sort-key prefix) have these attribute values (dashboard counters)."""
    where = all_of(*(Attr(name).eq(value) for name, value in equals.items()))
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix, where=where), "Select": "COUNT"}
    return sum(int(response["Count"]) for response in _responses(kwargs))


PER_JOB_COUNTS = 10  # up to this many jobs, one COUNT Query per job; beyond, one walk of the whole list


def count_of_jobs(partition: str, index: str, job_ids: Sequence[str]) -> int:
    """How many entries of a sparse tenant-level list (sort key `{job}#...`) belong to these jobs.
    A few jobs: one Select=COUNT Query per job. Many: one walk of the list reading only its sort
    key, so a user on 500 jobs costs the list's pages (pending work, never history), not 500 Queries."""
    wanted = set(job_ids)
    if len(wanted) <= PER_JOB_COUNTS:
        return sum(count(partition, index=index, sort_prefix=keys.by_job(j)) for j in wanted)
    _, sk = _key_names(index)
    kwargs = {**_query_kwargs(partition, index=index), "ProjectionExpression": "#sk",
              "ExpressionAttributeNames": {"#sk": sk}}
    return sum(str(item[sk]).split("#", 1)[0] in wanted for response in _responses(kwargs)
               for item in response.get("Items", []))


# ------------------------------------------------------------------ writes
@dataclass(frozen=True)
class Create:
    """One model stored only if its key is new; `conflict` names the clash for the caller."""

    model: BaseModel
    conflict: str


@dataclass(frozen=True)
class Replace:
    """A model rewritten only if nobody changed it since it was read (optimistic lock on `version`,
    which the new model must carry bumped by one)."""

    model: BaseModel
    conflict: str = "changed by someone else meanwhile; read it again"


@dataclass(frozen=True)
class ReplaceExpired:
    """An entry rewritten only if the one it replaces is gone or has expired by `now`
    (an expired Idempotency-Key marker, an expired access entry)."""

    model: BaseModel
    now: str | int
    conflict: str
    attribute: str = "expires_at"


@dataclass(frozen=True)
class Upsert:
    """A model stored whatever was there: a marker whose latest state is all that counts."""

    model: BaseModel
    conflict: str = "conflict"


@dataclass(frozen=True)
class Remove:
    """The removal of a model's item (`Remove(model)`), or of a key the entity modules name."""

    target: BaseModel | TableKey

    @property
    def key(self) -> TableKey:
        return self.target if isinstance(self.target, dict) else codec.key_of(self.target)


@dataclass(frozen=True)
class Update:
    """An update expression on one item, applied only if `condition` holds (a first acknowledgment)."""

    key: TableKey
    expression: str
    condition: str
    names: dict[str, str]
    values: dict[str, Any]
    conflict: str = "conflict"
    audited: bool = True


Operation = Create | ReplaceExpired | Replace | Upsert | Remove | Update


class Unaudited(Exception):
    """A change of an audited object was about to be written without its audit entry (a bug, never input)."""


def _is_audited(op: Operation) -> bool:
    if isinstance(op, Update):
        return op.audited
    if isinstance(op, Remove):  # a key alone (a marker's) names no audited object
        return not isinstance(op.target, dict) and bool(getattr(op.target, "audited", False))
    return bool(getattr(op.model, "audited", False))


def _is_entry(op: Operation) -> bool:
    return isinstance(op, Create) and codec.entity_of(op.model) == codec.AUDIT_ENTRY


def check_audited(operations: Sequence[Operation]) -> int:
    """Every changed audited object has its entry in the same transaction; returns the entries."""
    entries = sum(1 for op in operations if _is_entry(op))
    changed = sum(1 for op in operations if _is_audited(op))
    if changed > entries:
        names = sorted({type(getattr(op, "model", getattr(op, "target", op))).__name__
                        for op in operations if _is_audited(op)})
        raise Unaudited(f"{changed} audited change(s) of {names} with {entries} audit entries")
    return entries


class IdempotencyReplay(Exception):
    """The transaction lost the race to an earlier request with the same Idempotency-Key."""


class Stale(Exception):
    """A versioned item this write depends on changed since it was read (or a concurrent
    transaction held it): read again, decide again, write again."""


TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems
CONFLICT_RETRIES = 4  # transactions cancelled by a concurrent transaction on the same items are retried


def _transact_item(name: str, op: Operation) -> dict[str, Any]:
    if isinstance(op, Update):
        update: dict[str, Any] = {"TableName": name, "Key": op.key, "UpdateExpression": op.expression,
                                  "ExpressionAttributeValues": op.values}
        if op.condition:
            update["ConditionExpression"] = op.condition
        if op.names:  # DynamoDB refuses an empty map
            update["ExpressionAttributeNames"] = op.names
        return {"Update": update}
    if isinstance(op, Remove):
        return {"Delete": {"TableName": name, "Key": op.key}}
    item = codec.item_of(op.model)
    if isinstance(op, Upsert):
        return {"Put": {"TableName": name, "Item": item}}
    if isinstance(op, Create):
        return {"Put": {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
    if isinstance(op, ReplaceExpired):
        return {"Put": {"TableName": name, "Item": item,
                        "ConditionExpression": "attribute_not_exists(PK) OR #expiry <= :now",
                        "ExpressionAttributeNames": {"#expiry": op.attribute},
                        "ExpressionAttributeValues": {":now": op.now}}}
    return {"Put": {"TableName": name, "Item": item, "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": item["version"] - 1}}}


def _entity(op: Operation) -> str | None:
    return None if isinstance(op, Remove | Update) else codec.entity_of(op.model)


class Clashed(Conflict):
    """A transaction still cancelled by concurrent ones on the same items after its retries (a 409)."""


def write(creates: Sequence[Create | ReplaceExpired | Upsert] = (), replaces: Sequence[Replace] = (),
          removes: Sequence[Remove] = (), updates: Sequence[Update] = (), *,
          conflict_retries: int = CONFLICT_RETRIES) -> None:
    """All or nothing, in one TransactWriteItems: creates only if new, replaces only if unchanged.

    Every changed audited object needs its audit entry among the creates (`check_audited`), and
    the entries count in the 100-item limit: a change of more than 100 items, entries included, is
    refused before anything is written (callers split what can be split). A transaction cancelled
    only because a concurrent one held the same items is retried; conditions, not timing, decide who wins."""
    name = table().name
    operations: list[Operation] = [*creates, *replaces, *removes, *updates]
    if not operations:
        return
    check_audited(operations)
    if len(operations) > TRANSACTION_ITEMS:
        raise invalid("body", f"the change is too large to make at once: more than {TRANSACTION_ITEMS} items")
    transact = [_transact_item(name, op) for op in operations]
    for attempt in range(conflict_retries + 1):
        try:
            dynamodb_client().transact_write_items(TransactItems=transact)
            return
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ValidationException" and "size" in exc.response["Error"].get("Message", "").lower():
                raise invalid("body", "too large to store: the item would exceed 400 KB") from exc
            if code != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            failed = [op for op, reason in zip(operations, reasons, strict=False) if reason == "ConditionalCheckFailed"]
            # A repeat of an Idempotency-Key lost the race: the first response stands, whatever else clashed.
            if any(_entity(op) == codec.IDEMPOTENCY for op in failed):
                raise IdempotencyReplay() from exc
            if failed:
                # An item changed since it was read explains the rest: say that, not a clash it caused.
                first = next((op for op in failed if isinstance(op, Replace)), failed[0])
                raise Conflict(getattr(first, "conflict", "conflict")) from exc
            if "TransactionConflict" in reasons and attempt < conflict_retries:
                time.sleep(0.02 * 2 ** attempt + random.random() * 0.02)  # noqa: S311 - jitter, not secrecy
                continue
            if "TransactionConflict" in reasons:
                raise Clashed("changed by someone else at the same moment; try again") from exc
            raise


VERSIONED = frozenset({"BookingDay", "Delivery", "JobRequest", "JobGrant", "Account", "Invoice", "NumberSequence",
                       "AccessReview", "ReviewItem"})


def write_versioned(creates: Sequence[Create | ReplaceExpired | Upsert] = (), replaces: Sequence[Replace] = (),
                    removes: Sequence[Remove] = ()) -> None:
    """`write`, but a versioned item (a day item, the delivery, the request) changed since it was read,
    or held by a concurrent transaction, raises Stale: the caller reads again and retries."""
    try:
        write(creates=creates, replaces=replaces, removes=removes)
    except Conflict as exc:
        cause = exc.__cause__
        if not isinstance(cause, ClientError):
            raise
        operations = [*creates, *replaces, *removes]
        reasons = [r.get("Code") for r in cause.response.get("CancellationReasons", [])]
        if "TransactionConflict" in reasons or any(
                reason == "ConditionalCheckFailed" and _entity(op) in VERSIONED
                for op, reason in zip(operations, reasons, strict=False)):
            raise Stale() from exc
        raise


Change = Sequence[Operation]  # what must be written together: an object's write and its audit entry


def chunks_of(changes: Sequence[Change]) -> list[list[Operation]]:
    """Changes packed in order into transactions of at most 100 items, none split across two."""
    chunks: list[list[Operation]] = []
    for change in changes:
        if not chunks or len(chunks[-1]) + len(change) > TRANSACTION_ITEMS:
            chunks.append([])
        chunks[-1].extend(change)
    return chunks


def write_all(operations: Sequence[Operation], *, versioned: bool = False) -> None:
    """`write` of operations of any kind, in the order given (`versioned`: `write_versioned`, no updates)."""
    if versioned:
        write_versioned(creates=[op for op in operations if isinstance(op, Create | ReplaceExpired | Upsert)],
                        replaces=[op for op in operations if isinstance(op, Replace)],
                        removes=[op for op in operations if isinstance(op, Remove)])
        return
    write(creates=[op for op in operations if isinstance(op, Create | ReplaceExpired | Upsert)],
          replaces=[op for op in operations if isinstance(op, Replace)],
          removes=[op for op in operations if isinstance(op, Remove)],
          updates=[op for op in operations if isinstance(op, Update)])


def write_in_chunks(changes: Sequence[Change], *, backwards: bool = False) -> None:
    """Many independent changes (each an object's write with its audit entry), up to 100 items per
    transaction; `backwards` writes the last chunk first (so what leads the list is written last)."""
    chunks = chunks_of(changes)
    for chunk in (reversed(chunks) if backwards else chunks):
        write_all(chunk)
