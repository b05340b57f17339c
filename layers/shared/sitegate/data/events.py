"""Publishing domain events, with nothing lost when SNS fails.

An event is written to its tenant's outbox in the same transaction as the change that raised
it (`outbox_entry`). Two paths then take it to the SNS topic, and whichever publishes first
removes the item:

- the fast path, `publish`, right after the transaction committed, in the request that made
  the change (commit to SNS in milliseconds);
- the table's DynamoDB Stream: every new outbox item reaches `publish_from_stream` (the outbox
  publisher function, through an event-source mapping that filters on new outbox items), which
  publishes it if it is still in the outbox. That is what carries an event the fast path could
  not publish (SNS refused, the function died between commit and publish), with the mapping's
  retries, bisection and on-failure queue; no loop walks the tenants.

Outbox items have no TTL: one leaves the outbox only once SNS took it. A repeat publication keeps
the event id, and the consumer sends once per (event, person, channel), so a repeat (both paths
at once, a replayed stream record) never reaches anyone twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from aws_lambda_powertools import Logger
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from sitegate import clock, ids, keys
from sitegate.data import codec, core
from sitegate.data.aws import sns, table
from sitegate.models.events import EVENT_DATA, DomainEvent, EventKind
from sitegate.models.stored import Stored
from sitegate.settings import get_settings

logger = Logger(child=True)


class OutboxEvent(Stored):
    audited: ClassVar[bool] = False  # the change it goes with carries the entry
    """An event waiting in its tenant's outbox; `entity` is what the stream's filter matches on."""

    tenant_id: str
    occurred_at: str
    event_id: str
    event: str  # the DomainEvent as JSON text


ENTITY = OutboxEvent.__name__  # the outbox items' `entity`: the stream's filter matches on it
codec.register(OutboxEvent, lambda o: [keys.outbox_event(o.tenant_id, o.occurred_at, o.event_id)])


def new_event(kind: EventKind, tenant_id: str, data: BaseModel) -> DomainEvent:
    if type(data) is not EVENT_DATA[kind]:
        raise TypeError(f"{kind} carries {EVENT_DATA[kind].__name__}, not {type(data).__name__}")
    return DomainEvent(event_id=ids.new_id(), type=kind, tenant_id=tenant_id,
                       occurred_at=clock.now_iso(), data=data.model_dump(mode="json"))


def outbox_entry(event: DomainEvent) -> core.Create:
    """The event's outbox item, to write in the transaction of the change that raised it. No `ttl`:
    it stays until SNS took the event, however long that takes (its INSERT is in the stream)."""
    entry = OutboxEvent(tenant_id=event.tenant_id, occurred_at=event.occurred_at, event_id=event.event_id,
                        event=event.model_dump_json())
    return core.Create(entry, "event already recorded")


def remove_outbox_event(tenant_id: str, occurred_at: str, event_id: str) -> bool:
    """An event SNS took leaves the outbox: DeleteItem `T#t#OUTBOX` / `EVENT#{occurred_at}#{event_id}`, on
    condition that it is still there. False when it was already gone (the other path removed it first)."""
    try:
        table().delete_item(Key=keys.outbox_event(tenant_id, occurred_at, event_id),
                            ConditionExpression=Attr("PK").exists())
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def outbox_event_waiting(tenant_id: str, occurred_at: str, event_id: str) -> bool:
    """Is the event still in its tenant's outbox (not yet taken by SNS)? A consistent GetItem of
    `T#t#OUTBOX` / `EVENT#{occurred_at}#{event_id}`, its key only."""
    return core.get_raw(keys.outbox_event(tenant_id, occurred_at, event_id), ConsistentRead=True,
                        ProjectionExpression="PK") is not None


def _publish(event: DomainEvent) -> None:
    sns().publish(TopicArn=get_settings().events_topic_arn, Message=event.model_dump_json(),
                  MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}})


def publish(events: Iterable[DomainEvent]) -> int:
    """The fast path: publish committed events; each one SNS took leaves the outbox. Returns how many
    were taken. A failure is logged, not raised: the change stands, and the stream publishes the event."""
    taken = 0
    for event in events:
        try:
            _publish(event)
            remove_outbox_event(event.tenant_id, event.occurred_at, event.event_id)
            taken += 1
        except (ClientError, BotoCoreError):
            logger.exception("domain event left in the outbox: the stream publishes it",
                             extra={"event_id": event.event_id, "event_type": event.type})
    return taken


StreamOutcome = Literal["published", "already published"]


def publish_from_stream(event_json: str) -> StreamOutcome:
    """One new outbox item from the table's stream (its `event` attribute): published unless it has
    left the outbox already (the fast path took it, or an earlier delivery of this record did), then
    removed. Raises when SNS or DynamoDB fails, so the mapping retries the record; a retry of a record
    that was published but not removed publishes it again, which the consumer's send markers absorb."""
    event = DomainEvent.model_validate_json(event_json)
    if not outbox_event_waiting(event.tenant_id, event.occurred_at, event.event_id):
        return "already published"
    _publish(event)
    remove_outbox_event(event.tenant_id, event.occurred_at, event.event_id)
    return "published"
