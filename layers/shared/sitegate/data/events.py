"""Publishing domain events, with nothing lost when SNS fails.

An event is written to its tenant's outbox in the same transaction as the change that raised
it (`outbox_entry`), published to the SNS topic once that transaction has committed
(`publish`), and removed from the outbox when SNS has taken it. An event SNS did not take stays
in the outbox; `relay` publishes it again later. A repeat publication keeps the event id, and
the consumer sends once per (event, person, channel), so a repeat never reaches anyone twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from sitegate import clock, ids, keys
from sitegate.data import store
from sitegate.data.aws import sns
from sitegate.models.events import EVENT_DATA, DomainEvent
from sitegate.settings import get_settings

logger = Logger(child=True)
OUTBOX_TTL = timedelta(days=14)  # as long as the dead-letter queue keeps messages
RELAY_AFTER = timedelta(minutes=1)  # younger entries may still be in their first publication


def new_event(kind: str, tenant_id: str, data: BaseModel) -> DomainEvent:
    if type(data) is not EVENT_DATA[kind]:
        raise TypeError(f"{kind} carries {EVENT_DATA[kind].__name__}, not {type(data).__name__}")
    return DomainEvent(event_id=ids.new_id(), type=kind, tenant_id=tenant_id,  # type: ignore[arg-type]
                       occurred_at=clock.now_iso(), data=data.model_dump(mode="json"))


def outbox_entry(event: DomainEvent) -> store.Create:
    """The event's outbox item, to write in the transaction of the change that raised it."""
    item = {**keys.outbox_event(event.tenant_id, event.occurred_at, event.event_id), "entity": "OutboxEvent",
            "event": event.model_dump_json(), "ttl": int((clock.now() + OUTBOX_TTL).timestamp())}
    return store.Create(item, "event already recorded")


def publish(events: Iterable[DomainEvent]) -> int:
    """Publish committed events; each one SNS took leaves the outbox. Returns how many were taken.
    A failure is logged, not raised: the change stands, and `relay` publishes the event later."""
    taken = 0
    for event in events:
        try:
            sns().publish(TopicArn=get_settings().events_topic_arn, Message=event.model_dump_json(),
                          MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}})
            store.remove_outbox_event(event.tenant_id, event.occurred_at, event.event_id)
            taken += 1
        except (ClientError, BotoCoreError):
            logger.exception("domain event left in the outbox for the relay",
                             extra={"event_id": event.event_id, "event_type": event.type})
    return taken


def pending(tenant_id: str) -> list[DomainEvent]:
    """Events of a tenant still in its outbox and older than RELAY_AFTER (store.outbox_events)."""
    before = (clock.now() - RELAY_AFTER).isoformat(timespec="seconds")
    return [DomainEvent.model_validate_json(text) for text in store.outbox_events(tenant_id, before)]


def relay(tenant_id: str) -> int:
    """Publish again what a tenant's outbox still holds. Returns how many SNS took."""
    return publish(pending(tenant_id))
