"""Jobsite alerts and their acknowledgments (the roll-call after an evacuation).

A GC lead or staff with job.edit sends an alert to everyone with a role on the job that receives
alerts (lead, member, alerts_only), by each one's preferences. The recipients are fixed when it is
sent: that is the roll-call, one item per recipient in the alert's own partition, written before
the alert's head (with its `alert.sent` event and audit entry), so a readable alert always has its
whole roll-call. Each recipient acknowledges once (the first time stands), or a GC lead does on
their behalf; counts are kept in shards moved by each acknowledgment's transaction. The
notifications queue sends the alert in batches (`alert_sending`).
"""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import alert_store, core, events
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.events import AlertSent
from sitegate.models.requests import AlertAck, AlertCreate
from sitegate.models.responses import AckOut, AlertAccepted, AlertOut, AlertPage, AlertRecipientOut, AlertSummary
from sitegate.models.stored import Alert, AlertRecipient, AlertSeverity
from sitegate.notifications import alert_audience, channels
from sitegate.on_job import JobContext, writable
from sitegate.policy import Caller

BATCH_SIZE = 50  # recipients per sending batch: at most 100 sends a message, 1,000 for a queue batch of 10


def new_alert_id() -> str:
    """Opaque but time-ordered (milliseconds, then randomness), so a job's alerts list newest first."""
    return f"{int(clock.now().timestamp() * 1000):013d}{ids.new_id()[:19]}"


def send_alert(caller: Caller, ctx: JobContext, request: AlertCreate,
               idempotency: Idempotency | None) -> AlertAccepted:
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.send"))
    job = writable(ctx.job)
    people = sorted(alert_audience(job.tenant_id, job.job_id), key=lambda p: p.user.user_id)  # the roll-call's order
    alert_id = new_alert_id()
    roll = [AlertRecipient(tenant_id=job.tenant_id, alert_id=alert_id, job_id=job.job_id, user_id=p.user.user_id,
                           name=p.user.name, account_id=p.user.account_id,
                           channels={channel: "queued" for channel in channels(p.user)}) for p in people]
    alert = Alert(tenant_id=job.tenant_id, job_id=job.job_id, alert_id=alert_id, message=request.message,
                  severity=AlertSeverity(request.severity), escalate_after_minutes=request.escalate_after_minutes,
                  sent_by=caller.user.user_id, sender_name=caller.user.name, sent_at=clock.now_iso(),
                  recipient_count=len(roll), batch_starts=[r.user_id for r in roll[::BATCH_SIZE]])
    out = AlertAccepted(alert_id=alert.alert_id, recipients=len(roll), unreachable=sum(1 for r in roll if not r.channels))
    event = events.new_event("alert.sent", job.tenant_id, AlertSent(
        job_id=job.job_id, job_name=job.name, alert_id=alert.alert_id, message=alert.message,
        sent_by=alert.sent_by, sender_name=alert.sender_name))
    alert_store.write_roll_call(roll)
    create_once([core.Create(alert, "alert already sent"), events.outbox_entry(event),
                 audit.change("alert.send", None, alert)], out, idempotency)
    events.publish([event])
    return out


def _alert(ctx: JobContext, alert_id: str) -> Alert:
    alert = alert_store.get_alert(ctx.job.tenant_id, ctx.job.job_id, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def _summary(alert: Alert, acknowledged: int) -> AlertSummary:
    return AlertSummary(alert_id=alert.alert_id, message=alert.message, severity=alert.severity, status=alert.status,
                        sent_by=alert.sent_by, sender_name=alert.sender_name, sent_at=alert.sent_at,
                        recipient_count=alert.recipient_count, acknowledged=acknowledged)


def list_alerts(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> AlertPage:
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.view"))
    page = alert_store.job_alerts_page(ctx.job.tenant_id, ctx.job.job_id, limit, cursor)
    counts = alert_store.acknowledged_counts(page.items)
    return AlertPage(items=[_summary(a, counts[a.alert_id]) for a in page.items], next_cursor=page.next_cursor)


def _recipient_out(r: AlertRecipient) -> AlertRecipientOut:
    return AlertRecipientOut(user_id=r.user_id, name=r.name, acknowledged_at=r.acknowledged_at,
                             acknowledged_by=r.acknowledged_by, note=r.note, channels=r.channels, reasons=r.reasons,
                             escalated_at=r.escalated_at)


def _alert_out(alert: Alert, limit: int, cursor: str | None) -> AlertOut:
    page = alert_store.recipients_page(alert.tenant_id, alert.alert_id, limit, cursor)
    return AlertOut(alert_id=alert.alert_id, message=alert.message, severity=alert.severity,
                    escalate_after_minutes=alert.escalate_after_minutes, status=alert.status, sent_by=alert.sent_by,
                    sender_name=alert.sender_name, sent_at=alert.sent_at, closed_at=alert.closed_at,
                    closed_by=alert.closed_by, recipient_count=alert.recipient_count,
                    acknowledged=alert_store.acknowledged_count(alert.tenant_id, alert.alert_id),
                    recipients=[_recipient_out(r) for r in page.items], next_cursor=page.next_cursor)


def get_alert(caller: Caller, ctx: JobContext, alert_id: str, limit: int = 50, cursor: str | None = None) -> AlertOut:
    """The roll-call, a page at a time: each recipient, when (or whether) and by whom acknowledged,
    and each channel's delivery state. Three reads: the head, the count shards, the page."""
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.view"))
    return _alert_out(_alert(ctx, alert_id), limit, cursor)


def close_alert(caller: Caller, ctx: JobContext, alert_id: str) -> AlertOut:
    """Close an open alert: escalation stops. Closing a closed alert changes nothing (409)."""
    policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.close"))
    writable(ctx.job)
    alert = _alert(ctx, alert_id)
    if alert.status != "open":
        raise Conflict(f"alert {alert_id} is closed already")
    at = clock.now_iso()
    closed = alert.changed(status="closed", closed_at=at, closed_by=caller.user.user_id)
    alert_store.close(alert, at, caller.user.user_id, audit.change("alert.close", alert, closed))
    return _alert_out(closed, 50, None)


def acknowledge(caller: Caller, ctx: JobContext, alert_id: str, request: AlertAck | None = None) -> AckOut:
    """A recipient acknowledges, or a GC lead on a recipient's behalf; repeating it keeps the first time.
    To whoever may not see the job's alerts, an alert they did not receive does not exist (404); a
    sender-side viewer who is not on the roll-call is refused (403)."""
    request = request or AlertAck()
    alert = alert_store.get_alert(ctx.job.tenant_id, ctx.job.job_id, alert_id)
    for_user = request.on_behalf_of_user_id
    if for_user is not None and for_user != caller.user.user_id:
        if alert is None or not policy.decide_on_alerts(caller, ctx.facts, "alert.view"):
            raise NotFound(f"alert {alert_id} not found")
        policy.require(policy.decide_on_alerts(caller, ctx.facts, "alert.ack_for"))
        if request.note is None:
            raise invalid("note", "say how you know, when acknowledging for someone (\"seen at the muster point\")")
        recipient = alert_store.get_recipient(alert.tenant_id, alert.alert_id, for_user)
        if recipient is None:
            raise invalid("on_behalf_of_user_id", "not on this alert's roll-call")
    else:
        recipient = alert_store.get_recipient(ctx.job.tenant_id, alert_id, caller.user.user_id) if alert else None
        on_roll = frozenset({recipient.user_id}) if recipient else frozenset()
        decision = policy.decide_on_alerts(caller, ctx.facts, "alert.ack", on_roll)
        if alert is None or (not decision and not policy.decide_on_alerts(caller, ctx.facts, "alert.view")):
            raise NotFound(f"alert {alert_id} not found")
        policy.require(decision)
    assert recipient is not None  # the decisions above refuse anyone without one
    writable(ctx.job)
    if recipient.acknowledged_at is None:
        at, by = clock.now_iso(), caller.user.user_id
        entry = audit.entry("alert.acknowledge", audit.target("alert", alert_id, ctx.job.job_id),
                            after={"user_id": recipient.user_id, "acknowledged_at": at, "acknowledged_by": by,
                                   **({"note": request.note} if request.note else {})})
        recipient = alert_store.acknowledge(recipient, at, by, request.note, entry)
    return AckOut(alert_id=alert_id, user_id=recipient.user_id, acknowledged_at=str(recipient.acknowledged_at),
                  acknowledged_by=str(recipient.acknowledged_by or recipient.user_id))
