"""The outbox publisher: the table's DynamoDB Stream, new outbox items only, to the SNS topic.

Deployed as its own function (OutboxPublisherFunction in template.yaml) from this folder: its
event-source mapping passes only INSERTs of outbox items (FilterCriteria), in batches; each item
still in the outbox is published and removed (`events.publish_from_stream`); one the fast path took
already is skipped. Any record that fails fails the invocation, after the others were done: the
mapping bisects the batch and retries (the done ones are then skipped, their items being gone),
and sends what still fails to its on-failure queue, whose alarm calls an operator; the item itself
stays in the outbox, nothing expires it.
"""

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate.data import events

logger = Logger()


class OutboxNotPublished(Exception):
    """Some records of the batch were not published: the mapping retries the batch (bisected)."""


def _event_json(record: dict[str, Any]) -> str | None:
    """The outbox item's event, if the record is the INSERT of an outbox item (the mapping's filter)."""
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or (image.get("entity") or {}).get("S") != events.ENTITY:
        return None
    found = (image.get("event") or {}).get("S")
    return found if isinstance(found, str) else None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcomes: Counter[str] = Counter()
    failed: list[str] = []
    for record in event.get("Records") or []:
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber"))
        event_json = _event_json(record)
        if event_json is None:  # the filter keeps these out; a wider one must not fail the batch
            outcomes["not an outbox item"] += 1
            continue
        try:
            outcomes[events.publish_from_stream(event_json)] += 1
        except Exception:
            logger.exception("outbox item not published: the mapping retries it, then sends it to the on-failure "
                             "queue; the item stays in the outbox", extra={"sequence_number": sequence})
            failed.append(sequence)
    logger.info("outbox stream batch", extra={**outcomes, "failed": len(failed)})
    if failed:
        raise OutboxNotPublished(f"{len(failed)} outbox item(s) not published: {', '.join(failed[:5])}")
    return {"published": outcomes["published"], "already_published": outcomes["already published"],
            "skipped": outcomes["not an outbox item"]}
