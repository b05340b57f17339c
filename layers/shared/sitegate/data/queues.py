"""SQS sends: the only code that puts messages on a queue (the billing fan-out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from sitegate.data.aws import sqs

BATCH = 10  # SendMessageBatch's limit
ATTEMPTS = 3  # per batch, for entries SQS failed on its side (botocore already retries throttled calls)


class QueueSendFailed(Exception):
    """SQS did not take every message; the caller's retry sends them (and perhaps some already sent) again."""


def send_all(queue_url: str, bodies: Sequence[str]) -> int:
    """Send every body, ten per SendMessageBatch; returns the number of calls made."""
    calls = 0
    for start in range(0, len(bodies), BATCH):
        pending = {str(i): body for i, body in enumerate(bodies[start:start + BATCH])}
        for _ in range(ATTEMPTS):
            calls += 1
            try:
                reply = sqs().send_message_batch(QueueUrl=queue_url, Entries=[
                    {"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()])
            except (ClientError, BotoCoreError) as exc:
                raise QueueSendFailed(f"SQS refused a batch: {exc}") from exc
            failed = reply.get("Failed") or []
            if any(f.get("SenderFault") for f in failed):  # a message SQS will never take as it is
                raise QueueSendFailed(f"SQS refused messages: {[f.get('Code') for f in failed][:3]}")
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                break
        if pending:
            raise QueueSendFailed(f"SQS did not take {len(pending)} message(s) after {ATTEMPTS} attempts")
    return calls


def send_per_tenant(queue_url: str, body_of: Callable[[str], str], page_size: int = 100) -> int:
    """One message per tenant (`body_of(tenant_id)`), a page of tenant ids at a time: the schedules' only loop
    over tenants, which does no tenant's work itself. Returns the messages sent."""
    from sitegate.data import tenant_store

    cursor, sent = None, 0
    while True:
        page = tenant_store.tenants_page(page_size, cursor)
        bodies = [body_of(t.tenant_id) for t in page.items]
        send_all(queue_url, bodies)
        sent += len(bodies)
        cursor = page.next_cursor
        if cursor is None:
            return sent
