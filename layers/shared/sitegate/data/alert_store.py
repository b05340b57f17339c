"""Jobsite alerts and their roll-calls."""

from __future__ import annotations

from sitegate import keys
from sitegate.data import core
from sitegate.errors import Conflict, NotFound
from sitegate.models.stored import Alert


def get_alert(tenant_id: str, job_id: str, alert_id: str) -> Alert | None:
    """One alert of a job with its roll-call: table key `T#t#JOB#j` / `ALERT#{alert_id}`."""
    return core.get_item(Alert, keys.alert(tenant_id, job_id, alert_id))


def job_alerts_page(tenant_id: str, job_id: str, limit: int, cursor: str | None) -> core.Page[Alert]:
    """A job's alerts, newest first: table partition `T#t#JOB#j`, sort prefix `ALERT#` (ids are time-ordered),
    read backwards."""
    return core.query_page(Alert, keys.job_partition(tenant_id, job_id), sort_prefix=keys.ALERT_PREFIX, limit=limit,
                      cursor=cursor, forward=False)


def acknowledge_alert(alert: Alert, user_id: str, at: str, entry: core.Create) -> str:
    """Record a recipient's first acknowledgment with its audit entry: one transaction of
    `SET acks.#u = :at` (only while the alert exists and the recipient has not acknowledged) and
    the entry. A repeat that lost the race changes nothing: the time that stands is read back."""
    update = core.Update(keys.alert(alert.tenant_id, alert.job_id, alert.alert_id), "SET acks.#u = :at",
                         "attribute_exists(PK) AND attribute_not_exists(acks.#u)", {"#u": user_id}, {":at": at},
                         conflict="acknowledged meanwhile")
    try:
        core.write(creates=[entry], updates=[update])
    except Conflict:
        now = get_alert(alert.tenant_id, alert.job_id, alert.alert_id)
        if now is None:
            raise NotFound(f"alert {alert.alert_id} not found") from None
        if user_id in now.acks:
            return now.acks[user_id]
        raise
    return at
