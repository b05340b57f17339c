"""Jobsite alerts and their acknowledgments (the roll-call after an evacuation).

A GC lead or staff with job.edit sends an alert to everyone with a role on the job that receives
alerts (lead, member, alerts_only), by each one's preferences. The recipients are fixed when it is
sent: that is the roll-call, on which each recipient acknowledges once (the first time stands).
Sending writes the alert and its `alert.sent` event in one transaction; the notifications queue
delivers it (retries, and once per person and channel, as for every domain event).
"""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import alert_store, core, events
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import NotFound
from sitegate.models.events import AlertSent
from sitegate.models.requests import AlertCreate
from sitegate.models.responses import AckOut, AlertAccepted, AlertOut, AlertPage, AlertRecipientOut, AlertSummary
from sitegate.models.stored import Alert, AlertRecipient
from sitegate.notifications import alert_audience, channels
from sitegate.on_job import JobContext, writable
from sitegate.policy import Caller


def new_alert_id() -> str:
    """Opaque but time-ordered (milliseconds, then randomness), so a job's alerts list newest first."""
    return f"{int(clock.now().timestamp() * 1000):013d}{ids.new_id()[:19]}"


def send_alert(caller: Caller, ctx: JobContext, request: AlertCreate,
               idempotency: Idempotency | None) -> AlertAccepted:
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.send"))
    job = writable(ctx.job)
    people = alert_audience(job.tenant_id, job.job_id)
    people.sort(key=lambda p: (p.user.name.lower(), p.user.user_id))
    alert = Alert(tenant_id=job.tenant_id, job_id=job.job_id, alert_id=new_alert_id(), message=request.message,
                  sent_by=caller.user.user_id, sender_name=caller.user.name, sent_at=clock.now_iso(),
                  recipients=[AlertRecipient(user_id=p.user.user_id, name=p.user.name) for p in people])
    out = AlertAccepted(alert_id=alert.alert_id, recipients=len(people),
                        unreachable=sum(1 for p in people if not channels(p.user)))
    event = events.new_event("alert.sent", job.tenant_id, AlertSent(
        job_id=job.job_id, job_name=job.name, alert_id=alert.alert_id, message=alert.message,
        sent_by=alert.sent_by, sender_name=alert.sender_name))
    create_once([core.Create(alert, "alert already sent"), events.outbox_entry(event),
                 audit.change("alert.send", None, alert)], out, idempotency)
    events.publish([event])
    return out


def _alert(ctx: JobContext, alert_id: str) -> Alert:
    alert = alert_store.get_alert(ctx.job.tenant_id, ctx.job.job_id, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def _summary(alert: Alert) -> AlertSummary:
    return AlertSummary(alert_id=alert.alert_id, message=alert.message, sent_by=alert.sent_by,
                        sender_name=alert.sender_name, sent_at=alert.sent_at, recipient_count=len(alert.recipients),
                        acknowledged=sum(1 for r in alert.recipients if r.user_id in alert.acks))


def list_alerts(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> AlertPage:
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.view"))
    page = alert_store.job_alerts_page(ctx.job.tenant_id, ctx.job.job_id, limit, cursor)
    return AlertPage(items=[_summary(a) for a in page.items], next_cursor=page.next_cursor)


def get_alert(caller: Caller, ctx: JobContext, alert_id: str) -> AlertOut:
    """The roll-call: every recipient and when (or whether) they acknowledged."""
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.view"))
    alert = _alert(ctx, alert_id)
    summary = _summary(alert)
    return AlertOut(alert_id=alert.alert_id, message=alert.message, sent_by=alert.sent_by,
                    sender_name=alert.sender_name, sent_at=alert.sent_at, acknowledged=summary.acknowledged,
                    recipients=[AlertRecipientOut(user_id=r.user_id, name=r.name, acknowledged_at=alert.acks.get(r.user_id))
                                for r in alert.recipients])


def acknowledge(caller: Caller, ctx: JobContext, alert_id: str) -> AckOut:
    """A recipient acknowledges; repeating it keeps the first time. To whoever may not see the job's
    alerts, an alert they did not receive does not exist (404); a sender-side viewer who is not on
    the roll-call is refused (403)."""
    alert = alert_store.get_alert(ctx.job.tenant_id, ctx.job.job_id, alert_id)
    recipients = frozenset(r.user_id for r in alert.recipients) if alert else frozenset()
    decision = policy.decide_on_alerts(caller, ctx.facts, "alert.ack", recipients)
    if alert is None or (not decision and not policy.decide_on_alerts(caller, ctx.facts, "alert.view")):
        raise NotFound(f"alert {alert_id} not found")
    policy.require(decision)
    writable(ctx.job)
    if caller.user.user_id in alert.acks:  # the first acknowledgment stands; a repeat changes nothing
        return AckOut(alert_id=alert.alert_id, acknowledged_at=alert.acks[caller.user.user_id])
    at = clock.now_iso()
    entry = audit.entry("alert.acknowledge", audit.target("alert", alert.alert_id, alert.job_id),
                        after={"user_id": caller.user.user_id, "acknowledged_at": at})
    return AckOut(alert_id=alert.alert_id,
                  acknowledged_at=alert_store.acknowledge_alert(alert, caller.user.user_id, at, entry))
