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
from typing import Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from sitegate import clock, ids, keys
from sitegate.data import store
from sitegate.data.aws import sns
from sitegate.models.events import EVENT_DATA, DomainEvent
from sitegate.settings import get_settings

logger = Logger(child=True)
ENTITY = "OutboxEvent"  # the outbox items' `entity`: the stream's filter matches on it


def new_event(kind: str, tenant_id: str, data: BaseModel) -> DomainEvent:
    if type(data) is not EVENT_DATA[kind]:
        raise TypeError(f"{kind} carries {EVENT_DATA[kind].__name__}, not {type(data).__name__}")
    return DomainEvent(event_id=ids.new_id(), type=kind, tenant_id=tenant_id,  # type: ignore[arg-type]
                       occurred_at=clock.now_iso(), data=data.model_dump(mode="json"))


def outbox_entry(event: DomainEvent) -> store.Create:
    """The event's outbox item, to write in the transaction of the change that raised it. No `ttl`:
    it stays until SNS took the event, however long that takes (its INSERT is in the stream)."""
    item = {**keys.outbox_event(event.tenant_id, event.occurred_at, event.event_id), "entity": ENTITY,
            "event": event.model_dump_json()}
    return store.Create(item, "event already recorded")


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
            store.remove_outbox_event(event.tenant_id, event.occurred_at, event.event_id)
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
    if not store.outbox_event_waiting(event.tenant_id, event.occurred_at, event.event_id):
        return "already published"
    _publish(event)
    store.remove_outbox_event(event.tenant_id, event.occurred_at, event.event_id)
    return "published"
