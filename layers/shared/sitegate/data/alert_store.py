"""Jobsite alerts: the head in the job's partition, the roll-call in the alert's own partition."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from sitegate import keys
from sitegate.data import core
from sitegate.data.aws import table
from sitegate.errors import Conflict, NotFound
from sitegate.models.stored import Alert, AlertAckCount, AlertRecipient

ROLL_CALL_CHUNK = core.TRANSACTION_ITEMS  # recipients per transaction when an alert is accepted
ACK_ATTEMPTS = 12  # an acknowledgment meeting another on its counter shard tries another shard


def get_alert(tenant_id: str, job_id: str, alert_id: str) -> Alert | None:
    """One alert's head: table key `T#t#JOB#j` / `ALERT#{alert_id}`."""
    return core.get_item(Alert, keys.alert(tenant_id, job_id, alert_id))


def job_alerts_page(tenant_id: str, job_id: str, limit: int, cursor: str | None) -> core.Page[Alert]:
    """A job's alerts, newest first: table partition `T#t#JOB#j`, sort prefix `ALERT#` (ids are time-ordered),
    read backwards."""
    return core.query_page(Alert, keys.job_partition(tenant_id, job_id), sort_prefix=keys.ALERT_PREFIX, limit=limit,
                           cursor=cursor, forward=False)


def write_roll_call(recipients: Sequence[AlertRecipient]) -> int:
    """The roll-call, before its alert's head: transactions of ROLL_CALL_CHUNK conditional puts into the
    alert's partition `T#t#ALERT#a` / `R#{user_id}`. Returns the transactions written. If the accept
    fails part way, the items written stay unreachable: no head names them."""
    calls = 0
    for start in range(0, len(recipients), ROLL_CALL_CHUNK):
        core.write(creates=[core.Create(r, "already on the roll-call") for r in recipients[start:start + ROLL_CALL_CHUNK]])
        calls += 1
    return calls


def get_recipient(tenant_id: str, alert_id: str, user_id: str) -> AlertRecipient | None:
    """One person's roll-call entry: `T#t#ALERT#a` / `R#{user_id}`."""
    return core.get_item(AlertRecipient, keys.alert_recipient(tenant_id, alert_id, user_id))


def recipients_page(tenant_id: str, alert_id: str, limit: int, cursor: str | None) -> core.Page[AlertRecipient]:
    """The roll-call a page at a time, in user-id order: partition `T#t#ALERT#a`, sort prefix `R#`."""
    return core.query_page(AlertRecipient, keys.alert_partition(tenant_id, alert_id),
                           sort_prefix=keys.ALERT_RECIPIENT_PREFIX, limit=limit, cursor=cursor)


def batch_of(alert: Alert, index: int) -> list[AlertRecipient]:
    """Sending batch `index`: the recipients from its first user id to the next batch's, in one Query
    (`SK BETWEEN`, both ends known from the head)."""
    first = keys.alert_recipient(alert.tenant_id, alert.alert_id, alert.batch_starts[index])["SK"]
    following = alert.batch_starts[index + 1] if index + 1 < len(alert.batch_starts) else None
    # The last batch runs to the end of the R# range ("$" sorts after "#"); any other ends before the next start.
    last = (keys.alert_recipient(alert.tenant_id, alert.alert_id, following)["SK"][:-1] + "\x00"
            if following is not None else keys.ALERT_RECIPIENT_PREFIX[:-1] + "$")
    items = core.query_all_items(keys.alert_partition(alert.tenant_id, alert.alert_id), sort_between=(first, last),
                                 consistent=True)
    return [r for r in core.models_of(AlertRecipient, items) if following is None or r.user_id < following]


def acknowledged_count(tenant_id: str, alert_id: str) -> int:
    """The acknowledgments so far: the sum of the count shards (one Query of at most ALERT_COUNT_SHARDS small items)."""
    items = core.query_all_items(keys.alert_partition(tenant_id, alert_id), keys.ALERT_COUNT_PREFIX, consistent=True)
    return sum(int(c.acknowledged) for c in core.models_of(AlertAckCount, items))


def acknowledged_counts(alerts: Sequence[Alert]) -> dict[str, int]:
    """The acknowledgment counts of a page of alerts: their count shards in BatchGetItem calls of 100 keys."""
    wanted = [keys.alert_count(a.tenant_id, a.alert_id, s) for a in alerts for s in range(keys.ALERT_COUNT_SHARDS)]
    found = core.batch_get(wanted) if wanted else {}
    counts = {a.alert_id: 0 for a in alerts}
    for a in alerts:
        for s in range(keys.ALERT_COUNT_SHARDS):
            shard = core.pick(AlertAckCount, found, keys.alert_count(a.tenant_id, a.alert_id, s))
            counts[a.alert_id] += shard.acknowledged if shard else 0
    return counts


def acknowledge(recipient: AlertRecipient, at: str, by: str, note: str | None, entry: core.Create) -> AlertRecipient:
    """Record a recipient's first acknowledgment in one transaction: the recipient's item
    (`SET acknowledged_at` only while it has none), one count shard `ADD acknowledged 1`, and the audit
    entry. The count moves only with the acknowledgment, so it is exact however many race. Two
    acknowledgments meeting on one shard: the one cancelled tries another shard. A repeat that lost
    the race changes nothing: the acknowledgment that stands is read back."""
    key = keys.alert_recipient(recipient.tenant_id, recipient.alert_id, recipient.user_id)
    values: dict[str, Any] = {":at": at, ":by": by}
    expression = "SET acknowledged_at = :at, acknowledged_by = :by"
    if note is not None:
        expression, values[":note"] = expression + ", note = :note", note
    mark = core.Update(key, expression, "attribute_exists(PK) AND attribute_not_exists(acknowledged_at)", {}, values,
                       conflict="acknowledged meanwhile", audited=False)
    for attempt in range(ACK_ATTEMPTS):
        shard = random.randrange(keys.ALERT_COUNT_SHARDS)  # noqa: S311 - spreading writes, not secrecy
        count = core.Update(keys.alert_count(recipient.tenant_id, recipient.alert_id, shard),
                            "SET entity = :entity, tenant_id = :t, alert_id = :a, #shard = :s ADD acknowledged :one",
                            "", {"#shard": "shard"}, {":entity": "AlertAckCount", ":t": recipient.tenant_id,
                                                      ":a": recipient.alert_id, ":s": shard, ":one": 1}, audited=False)
        try:
            core.write(creates=[entry], updates=[mark, count], conflict_retries=0)
            return recipient.changed(acknowledged_at=at, acknowledged_by=by, note=note)
        except core.Clashed:  # another transaction held the shard (or the item) at that moment
            time.sleep(random.random() * 0.01 * attempt)  # noqa: S311 - jitter, not secrecy
            continue
        except Conflict:
            now = get_recipient(recipient.tenant_id, recipient.alert_id, recipient.user_id)
            if now is None:
                raise NotFound(f"alert {recipient.alert_id} not found") from None
            if now.acknowledged_at is not None:
                return now
            raise
    raise Conflict("too many acknowledgments at the same moment; try again")


def set_delivery(recipient: AlertRecipient, channel: str, state: str, reason: str | None = None) -> None:
    """A send's outcome on the roll-call: one UpdateItem of `channels.#c` (and `reasons.#c` when it
    failed), while the item exists. The notifications' own bookkeeping: no audit entry."""
    names = {"#c": channel}
    values: dict[str, Any] = {":state": state}
    expression = "SET channels.#c = :state"
    if reason is not None:
        expression, values[":reason"] = expression + ", reasons.#c = :reason", reason[:300]
    try:
        table().update_item(Key=keys.alert_recipient(recipient.tenant_id, recipient.alert_id, recipient.user_id),
                            UpdateExpression=expression, ConditionExpression="attribute_exists(PK)",
                            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def close(alert: Alert, at: str, by: str, entry: core.Create) -> Alert:
    """Close an open alert with its audit entry: the head's status, only while open (else Conflict)."""
    update = core.Update(keys.alert(alert.tenant_id, alert.job_id, alert.alert_id),
                         "SET #s = :closed, closed_at = :at, closed_by = :by", "#s = :open", {"#s": "status"},
                         {":closed": "closed", ":open": "open", ":at": at, ":by": by}, conflict="already closed")
    core.write(creates=[entry], updates=[update])
    return alert.changed(status="closed", closed_at=at, closed_by=by)
