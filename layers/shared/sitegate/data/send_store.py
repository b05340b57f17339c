"""Send markers: each (event, person, channel) is sent exactly once."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from sitegate import clock, keys
from sitegate.data.aws import dynamodb_client, table
from sitegate.data.core import CONFLICT_RETRIES, TRANSACTION_ITEMS
from sitegate.errors import Conflict

# Exactly once per (event, person, channel): a marker `T#t#SENT#{event_id}` / `{user_id}#{channel}` is
# claimed ('pending') with a conditional write before sending, completed ('sent') after, and released
# (deleted) when the send failed, so that a retry sends it then.
SENT_TTL = timedelta(days=14)  # as long as the dead-letter queue keeps the event


def _marker(tenant_id: str, event_id: str, target: tuple[str, str], state: str) -> dict[str, Any]:
    user_id, channel = target
    return {**keys.sent_marker(tenant_id, event_id, user_id, channel), "entity": "SentMarker", "state": state,
            "at": clock.now_iso(), "ttl": int((clock.now() + SENT_TTL).timestamp())}


def claim_sends(tenant_id: str, event_id: str, targets: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Claim each (user_id, channel) of an event: TransactWriteItems of up to 100 conditional puts
    (`attribute_not_exists(PK)`). Returns the targets found claimed already, with their state
    ('pending' or 'sent'); every other target is now claimed by this caller. A transaction cancelled
    because some markers exist is written again without them (their old state comes back with the
    cancellation), so a redelivered event costs one cancelled transaction per 100 targets."""
    name = table().name
    taken: dict[tuple[str, str], str] = {}
    remaining = list(dict.fromkeys(targets))
    for attempt in range(len(remaining) + CONFLICT_RETRIES + 1):
        chunk = remaining[:TRANSACTION_ITEMS]
        if not chunk:
            return taken
        transact = [{"Put": {"TableName": name, "Item": _marker(tenant_id, event_id, t, "pending"),
                             "ConditionExpression": "attribute_not_exists(PK)",
                             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for t in chunk]
        try:
            dynamodb_client().transact_write_items(TransactItems=transact)
            remaining = remaining[len(chunk):]
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
        for target, reason in zip(chunk, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                # An error's old item comes back in DynamoDB's own typed form ({"S": ...}): no resource parses it.
                state = (reason.get("Item") or {}).get("state", {"S": "pending"})
                taken[target] = str(state.get("S", "pending") if isinstance(state, dict) else state)
        if not any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            time.sleep(0.02 * 2 ** min(attempt, 5) + random.random() * 0.02)  # noqa: S311 - a concurrent claim: jitter
        remaining = [t for t in remaining if t not in taken]
    raise Conflict(f"could not claim the sends of event {event_id}: too many concurrent claims")


def complete_sends(tenant_id: str, event_id: str, targets: Sequence[tuple[str, str]]) -> None:
    """Mark claimed targets 'sent': BatchWriteItem puts of 25, retrying unprocessed items."""
    name = table().name
    puts = [{"PutRequest": {"Item": _marker(tenant_id, event_id, t, "sent")}} for t in dict.fromkeys(targets)]
    for start in range(0, len(puts), 25):
        pending: dict[str, Any] = {name: puts[start:start + 25]}
        attempt = 0
        while pending:
            pending = dynamodb_client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:  # throttled: back off before asking again, as DynamoDB advises
                time.sleep(min(0.05 * 2 ** attempt, 1.0) + random.random() * 0.05)  # noqa: S311 - jitter
                attempt += 1


def release_send(tenant_id: str, event_id: str, target: tuple[str, str]) -> None:
    """Give a claim back after a failed send, so the event's retry sends it: DeleteItem while 'pending'."""
    user_id, channel = target
    try:
        # The client, not the table resource: this runs on the sending threads, and only clients are thread-safe.
        dynamodb_client().delete_item(TableName=table().name, Key=keys.sent_marker(tenant_id, event_id, user_id, channel),
                            ConditionExpression="#s = :pending", ExpressionAttributeNames={"#s": "state"},
                            ExpressionAttributeValues={":pending": "pending"})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
