"""Jobsite alerts and their roll-calls."""

from __future__ import annotations

from botocore.exceptions import ClientError

from sitegate import keys
from sitegate.data import core
from sitegate.data.aws import table
from sitegate.errors import NotFound
from sitegate.models.stored import Alert


def get_alert(tenant_id: str, job_id: str, alert_id: str) -> Alert | None:
    """One alert of a job with its roll-call: table key `T#t#JOB#j` / `ALERT#{alert_id}`."""
    return core.get_item(Alert, keys.alert(tenant_id, job_id, alert_id))


def job_alerts_page(tenant_id: str, job_id: str, limit: int, cursor: str | None) -> core.Page[Alert]:
    """A job's alerts, newest first: table partition `T#t#JOB#j`, sort prefix `ALERT#` (ids are time-ordered),
    read backwards."""
    return core.query_page(Alert, keys.job_partition(tenant_id, job_id), sort_prefix=keys.ALERT_PREFIX, limit=limit,
                      cursor=cursor, forward=False)


def acknowledge_alert(alert: Alert, user_id: str, at: str) -> str:
    """Record a recipient's acknowledgment, keeping the first: one UpdateItem on the alert,
    `SET acks.#u = if_not_exists(acks.#u, :at)`; returns the time that stands."""
    try:
        response = table().update_item(
            Key=keys.alert(alert.tenant_id, alert.job_id, alert.alert_id),
            UpdateExpression="SET acks.#u = if_not_exists(acks.#u, :at)",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#u": user_id}, ExpressionAttributeValues={":at": at},
            ReturnValues="UPDATED_NEW")
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise NotFound(f"alert {alert.alert_id} not found") from exc
        raise
    acks = response["Attributes"]["acks"]
    assert isinstance(acks, dict)  # a map attribute; narrows the stubs' union of every attribute type
    return str(acks[user_id])
