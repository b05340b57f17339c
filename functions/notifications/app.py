"""notifications: consumes the domain-event queue (SNS -> SQS, raw delivery).

No domain event is published yet; an event type without a handler fails its
record, so SQS retries it and then parks it in the dead-letter queue: nothing
is dropped silently while handlers arrive with their issues.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate.models.events import DomainEvent

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)

HANDLERS: dict[str, Any] = {}


def handle_record(record: SQSRecord) -> None:
    event = DomainEvent.model_validate_json(record.body)
    handler = HANDLERS.get(event.type)
    if handler is None:
        raise LookupError(f"no handler for domain event {event.type!r}")
    handler(event)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
