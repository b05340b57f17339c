"""Delivering domain events to people, by email and SMS, exactly once per (event, person, channel).

Who hears of what (docs/DOMAIN.md "Notifications and acknowledgments"):

| event | who is told |
| --- | --- |
| delivery.requested | the leads whose approval is pending (`awaiting`: GC leads, the booked trade's leads) |
| delivery.approved, nothing awaiting | the requester |
| delivery.approved, approvals still awaiting | nobody: those leads were asked when it was requested |
| delivery.rejected | the requester |
| delivery.cancelled | the GC leads, the booked trade's leads, and the requester (who cancelled is not told) |
| access.granted, access.revoked | the account's users with access.view_own (its administrators); not who granted or revoked it |
| invoice.issued, invoice.finalized, credit_note.issued | the owner account's users with financial.view (Invoicing, Super Admin) |
| alert.sent | the alert's roll-call (everyone with a role on the job that receives alerts), in batches of alerts.BATCH_SIZE |

The policy decides each audience from its tables (`policy.decide_notice`, `approvals_given_by`,
`decide_directory_member`, `decide_alert_recipient`); this module only reads the candidates. Only
active users are told, and nobody is told of their own action. Each person gets the message by email
and/or SMS as their preferences say (SMS only with a phone). Recipients are read with Query and
BatchGetItem, never one call per person.

Exactly once: before sending, each (event, person, channel) is claimed with a conditional write
('pending'); after sending it is marked 'sent'; a send SES or SNS refused releases its claim and
fails the event, so the queue's retry sends it (and only it) again. A claim found 'pending' on a
retry is a send in flight elsewhere or one whose outcome a crash hid: it is not sent again (no
duplicate), the event fails, and after the queue's retries it rests in the dead-letter queue for
an operator (nothing silently lost).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from sitegate import policy, sms
from sitegate.data import access_store, account_store, alert_store, messaging, queues, send_store, tenant_store, user_store
from sitegate.models.events import (
    AccessGranted,
    AccessRevoked,
    AlertBatch,
    AlertSent,
    CreditNoteIssued,
    DeliveryEvent,
    DomainEvent,
    InvoiceFinalized,
    InvoiceIssued,
)
from sitegate.models.requests import refused_character
from sitegate.models.stored import Account, User, UserStatus
from sitegate.policy import Caller, JobFacts
from sitegate.settings import get_settings

logger = Logger(child=True)

EMAIL, SMS = "email", "sms"
CLAIM_EVERY = 100  # targets claimed (one TransactWriteItems), sent, then marked 'sent' (BatchWriteItems of 25) at a time
SEND_CONCURRENCY = 8  # sends in flight at once: 400 messages in seconds, within the function's timeout


class DeliveryIncomplete(Exception):
    """Some sends of an event failed or are in doubt; the queue retries the event."""


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    sms: str


@dataclass(frozen=True)
class Outcome:
    sent: int
    duplicates: int
    failed: int


# ---------------------------------------------------------------- recipients
@dataclass(frozen=True)
class OnJob:
    """A person holding a role on a job, with what the policy needs to know of them there."""

    user: User
    account: Account
    role: str
    facts: JobFacts

    @property
    def caller(self) -> Caller:
        return Caller(self.user, self.account)


def _holding(tenant_id: str, job_id: str, roles: Iterable[str]) -> list[OnJob]:
    """Active people holding one of `roles` on the job, with their account's entry and a guest's sponsor:
    one Query of the job's roles, a BatchGetItem of the users, one of their accounts and entries, and one
    more of guests' sponsors only when a guest holds a role. Who of them is told is the policy's to say."""
    wanted = set(roles)
    held = {r.user_id: r.role for r in access_store.job_roles(tenant_id, job_id) if r.role in wanted}
    if not held:
        return []
    users = [u for u in user_store.get_users(tenant_id, list(held)) if u.status == UserStatus.ACTIVE.value]
    accounts, grants = access_store.accounts_on_job(tenant_id, job_id, [u.account_id for u in users])
    sponsor_ids = {s for a in accounts.values() if (s := policy.guest_sponsor_id(a, grants.get(a.account_id)))}
    sponsors, sponsor_grants = access_store.accounts_on_job(tenant_id, job_id, sorted(sponsor_ids)) if sponsor_ids else ({}, {})
    people = []
    for user in users:
        account = accounts.get(user.account_id)
        if account is None:
            continue
        grant = grants.get(account.account_id)
        sponsor_id = policy.guest_sponsor_id(account, grant) or ""
        facts = JobFacts(job_id, grant, project_role=held[user.user_id], sponsor=sponsors.get(sponsor_id),
                         sponsor_grant=sponsor_grants.get(sponsor_id))
        people.append(OnJob(user, account, held[user.user_id], facts))
    return people


def alert_audience(tenant_id: str, job_id: str) -> list[OnJob]:
    """Who receives the job's alerts (policy.decide_alert_recipient): people who can still reach the
    job with a role that receives alerts. Only the roles the roles table gives alerts.receive are read."""
    return [p for p in _holding(tenant_id, job_id, policy.roles_with("alerts.receive"))
            if policy.decide_alert_recipient(p.caller, p.facts)]


def _approvers(event: DomainEvent, data: DeliveryEvent, approvals: Iterable[str]) -> list[User]:
    """The people who give one of `approvals` of the delivery (policy.approvals_given_by: the approvals
    table's GC leads and leads of the trade booked for)."""
    wanted = set(approvals)
    if not wanted:
        return []
    return [p.user for p in _holding(event.tenant_id, data.job_id, policy.APPROVER_ROLES)
            if wanted.intersection(policy.approvals_given_by(p.caller, p.facts, data.for_account_id))]


def _active(users: Iterable[User]) -> list[User]:
    return [u for u in users if u.status == UserStatus.ACTIVE.value]


def _requester(event: DomainEvent, data: DeliveryEvent) -> list[User]:
    """The requester, while it can still reach the job (its company not removed from it nor archived)."""
    users = _active(user_store.get_users(event.tenant_id, [data.requested_by]))
    if not users:
        return []
    accounts, grants = access_store.accounts_on_job(event.tenant_id, data.job_id, [u.account_id for u in users])
    return [u for u in users if u.account_id in accounts and policy.decide_directory_member(
        Caller(u, accounts[u.account_id]), JobFacts(data.job_id, grants.get(u.account_id)))]


def _delivery_recipients(event: DomainEvent) -> list[User]:
    data: DeliveryEvent = event.payload()
    if event.type == "delivery.requested":
        people = _approvers(event, data, data.awaiting)
    elif event.type == "delivery.approved":
        # Partly approved: the leads still awaited were asked with the request; asking again is noise.
        people = [] if data.awaiting else _requester(event, data)
    elif event.type == "delivery.rejected":
        people = _requester(event, data)
    else:  # delivery.cancelled: whoever gives any of its approvals (the gate: GC leads; the trade's leads), and the requester
        people = [*_approvers(event, data, policy.APPROVERS), *_requester(event, data)]
    actor = data.by or (data.requested_by if event.type == "delivery.requested" else None)
    return [u for u in people if u.user_id != actor]


def _told_in_account(event: DomainEvent, account_id: str) -> list[User]:
    """The account's active users the policy tells of `event` (policy.decide_notice)."""
    account = account_store.get_account(event.tenant_id, account_id)
    if account is None:
        return []
    return [u for u in user_store.active_users_of_account(event.tenant_id, account_id)
            if policy.decide_notice(Caller(u, account), event.type)]


def _access_recipients(event: DomainEvent) -> list[User]:
    data: AccessGranted = event.payload()
    return [u for u in _told_in_account(event, data.account_id) if u.user_id != data.granted_by]


def _revoked_recipients(event: DomainEvent) -> list[User]:
    data: AccessRevoked = event.payload()
    return [u for u in _told_in_account(event, data.account_id) if u.user_id != data.revoked_by]


def _invoice_recipients(event: DomainEvent) -> list[User]:
    tenant = tenant_store.get_tenant(event.tenant_id)
    if tenant is None:
        return []
    return _told_in_account(event, tenant.owner_account_id)


RECIPIENTS: dict[str, Callable[[DomainEvent], list[User]]] = {
    "delivery.requested": _delivery_recipients, "delivery.approved": _delivery_recipients,
    "delivery.rejected": _delivery_recipients, "delivery.cancelled": _delivery_recipients,
    "access.granted": _access_recipients, "access.revoked": _revoked_recipients,
    "invoice.issued": _invoice_recipients, "invoice.finalized": _invoice_recipients,
    "credit_note.issued": _invoice_recipients,
}  # alert.sent goes to its roll-call, in batches (deliver_alert_batch)


def recipients(event: DomainEvent) -> list[User]:
    """Who is told of `event`, each person once."""
    return list({u.user_id: u for u in RECIPIENTS[event.type](event)}.values())


def channels(user: User) -> list[str]:
    """The channels a person's preferences allow: email, and SMS only with a phone."""
    wanted = []
    if user.notifications.email and user.email:
        wanted.append(EMAIL)
    if user.notifications.sms and user.phone:
        wanted.append(SMS)
    return wanted


# ---------------------------------------------------------------- messages
# What a user typed never changes a message's structure (docs/DOMAIN.md "Text"): every name, reason
# or other typed value goes into its one-line slot through `one_line`, and multi-line text (an alert's
# message) through `block`, each of whose lines starts with "| ". Requests refuse such characters
# already; this is for what was stored before that rule, or written by a path it does not cover.
def one_line(text: str, limit: int | None = None) -> str:
    """Text for a one-line slot (a subject, a `Company:` line, an SMS): line breaks, control characters
    and bidirectional controls (a job called "North\nwharf") become single spaces, so they can add no
    line or header; cut at `limit` characters with an ellipsis."""
    line = " ".join("".join(" " if refused_character(c) else c for c in text).split())
    return line if limit is None or len(line) <= limit else line[:limit - 1] + "…"


def block(text: str) -> str:
    """Multi-line text a user wrote, set apart: each of its lines starts with "| ", so none of them
    can pass for a line of the message's own."""
    return "\n".join(f"| {one_line(line)}".rstrip() for line in text.splitlines() or [""])


def window(start: str, end: str) -> str:
    """`Mon 23 Nov 2026 10:00-12:30 (+13:00)`; a window over midnight names both days."""
    try:
        s, e = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return f"{start} to {end}"

    def label(value: datetime) -> str:
        offset = value.strftime("%z")
        return f"{offset[:3]}:{offset[3:]}" if offset else "UTC"

    zone = label(s) if label(s) == label(e) else f"{label(s)} to {label(e)}"  # a window across a DST change
    if s.date() == e.date():
        return f"{s:%a %d %b %Y %H:%M}-{e:%H:%M} ({zone})"
    return f"{s:%a %d %b %Y %H:%M} to {e:%a %d %b %Y %H:%M} ({zone})"


def sms_text(text: str) -> str:
    """At most two SMS segments, counted as the network counts them (`sitegate.sms`)."""
    return sms.fit(text)


APPROVALS = {"gc": "the GC", "trade": "the trade"}
DELIVERY_WORDS = {"delivery.requested": ("needs your approval", "Delivery to approve"),
                  "delivery.approved": ("is approved", "Delivery approved"),
                  "delivery.rejected": ("is rejected", "Delivery rejected"),
                  "delivery.cancelled": ("is cancelled", "Delivery cancelled")}


def _delivery_message(event: DomainEvent) -> Message:
    data: DeliveryEvent = event.payload()
    state, title = DELIVERY_WORDS[event.type]
    job, company, place = (one_line(name) for name in (data.job_name, data.company_name, data.location_name))
    when, reason = one_line(window(data.start, data.end)), one_line(data.reason or "")
    lines = [f"Job: {job}", f"Company: {company}", f"Location: {place}", f"Window: {when}"]
    if data.awaiting:
        lines.append("Still awaiting approval of: " + ", ".join(APPROVALS[a] for a in data.awaiting))
    if reason:
        lines.append(f"Reason: {reason}")
    body = f"The delivery for {company} on {job} {state}.\n\n" + "\n".join(lines) + "\n"
    # Names are shortened so that what happened and when always fit in the SMS, however long they are.
    tail = f" Reason: {reason}" if reason else ""
    text = sms.compose(lambda n: f"SiteGate {sms.short(job, n)}: delivery for {sms.short(company, n)} at "
                                 f"{sms.short(place, n)}, {when} {state}.{tail}")
    return Message(f"{title}: {company}, {job}, {when}", body, text)


def _access_message(event: DomainEvent) -> Message:
    data: AccessGranted = event.payload()
    job, company = one_line(data.job_name), one_line(data.account_name)
    body = f"{company} now has access to the job {job}.\n\nJob: {job}\nCompany: {company}\n"
    return Message(f"Job access granted: {job}", body,
                   sms.compose(lambda n: f"SiteGate {sms.short(job, n)}: {sms.short(company, n)} now has access "
                                         "to this job."))


def _revoked_message(event: DomainEvent) -> Message:
    data: AccessRevoked = event.payload()
    job, company = one_line(data.job_name), one_line(data.account_name)
    if data.user_id is None:
        body = (f"An access review took {company} off the job {job}: its users no longer reach it.\n\n"
                f"Job: {job}\nCompany: {company}\n")
        return Message(f"Job access removed: {job}", body,
                       sms.compose(lambda n: f"SiteGate {sms.short(job, n)}: an access review removed "
                                             f"{sms.short(company, n)} from this job."))
    body = (f"An access review removed a {data.role} role of {company} on the job {job}.\n\n"
            f"Job: {job}\nCompany: {company}\n")
    return Message(f"Project role removed: {job}", body,
                   sms.compose(lambda n: f"SiteGate {sms.short(job, n)}: an access review removed a {data.role} "
                                         f"role of {sms.short(company, n)}."))


def _invoice_message(event: DomainEvent) -> Message:
    data: InvoiceIssued = event.payload()
    body = (f"The SiteGate invoice for {data.period} is issued: {data.total} {data.currency}. It is a draft until "
            "it is finalized as a tax invoice.\n")
    return Message(f"SiteGate invoice {data.period}: {data.total} {data.currency}", body,
                   sms_text(f"SiteGate: the invoice for {data.period} is issued, {data.total} {data.currency}."))


def _finalized_message(event: DomainEvent) -> Message:
    data: InvoiceFinalized = event.payload()
    body = f"SiteGate tax invoice {data.number} for {data.period} is final: {data.total} {data.currency}.\n"
    return Message(f"SiteGate tax invoice {data.number}: {data.total} {data.currency}", body,
                   sms_text(f"SiteGate: tax invoice {data.number} for {data.period} is final, {data.total} "
                            f"{data.currency}."))


def _credit_message(event: DomainEvent) -> Message:
    data: CreditNoteIssued = event.payload()
    what = "voided by" if data.kind == "void" else "credited by"
    body = f"SiteGate invoice {data.invoice_number} ({data.period}) is {what} credit note {data.number}: " \
           f"{data.total} {data.currency}.\n"
    return Message(f"SiteGate credit note {data.number}: {data.total} {data.currency}", body,
                   sms_text(f"SiteGate: invoice {data.invoice_number} {what} {data.number}, {data.total} "
                            f"{data.currency}."))


def _alert_message(event: DomainEvent) -> Message:
    data: AlertSent = event.payload()
    job, sender = one_line(data.job_name), one_line(data.sender_name)
    body = (f"Jobsite alert on {job} from {sender}, {event.occurred_at}:\n\n{block(data.message)}\n\n"
            "Please acknowledge it in SiteGate.\n")
    return Message(f"Jobsite alert: {job}", body,
                   # the job first: a long message's tail (and its sender) is what a cut takes
                   sms.fit(f"SiteGate ALERT {sms.short(job, 40)}: {one_line(data.message)} ({sms.short(sender, 24)})"))


MESSAGES: dict[str, Callable[[DomainEvent], Message]] = {
    "delivery.requested": _delivery_message, "delivery.approved": _delivery_message,
    "delivery.rejected": _delivery_message, "delivery.cancelled": _delivery_message,
    "access.granted": _access_message, "access.revoked": _revoked_message,
    "invoice.issued": _invoice_message, "invoice.finalized": _finalized_message,
    "credit_note.issued": _credit_message, "alert.sent": _alert_message,
}


# ---------------------------------------------------------------- sending, once
SUBJECT_LIMIT = 200


def _body_text(text: str) -> str:
    """The last guard of an email's body: no character the text rule refuses but the body's own "\n"."""
    return "".join(c if c == "\n" or refused_character(c) is None else " " for c in text)


def _send(channel: str, user: User, message: Message) -> None:
    if channel == EMAIL:  # a subject is one line whatever made it: SES refuses CR and LF in a header
        messaging.send_email(user.email, one_line(message.subject, SUBJECT_LIMIT), _body_text(message.body))
    else:
        messaging.send_sms(str(user.phone), sms_text(one_line(message.sms, 10 * messaging.SMS_LIMIT)))


Record = Callable[[tuple[str, str], str, "str | None"], None]  # (target, state, reason): a send's outcome, kept


def _send_once(event: DomainEvent, target: tuple[str, str], user: User, message: Message,
               record: Record | None = None) -> bool:
    """Send one claimed target; a refused send releases its claim (the retry sends it). True if sent."""
    user_id, channel = target
    log = {"event_id": event.event_id, "event_type": event.type, "user_id": user_id, "channel": channel}
    try:
        _send(channel, user, message)
    except messaging.SendFailed as exc:
        logger.exception("send failed: claim released for the retry", extra=log)
        send_store.release_send(event.tenant_id, event.event_id, target)
        if record is not None:
            record(target, "failed", str(exc) or type(exc).__name__)
        return False
    logger.info("sent", extra=log)
    if record is not None:
        record(target, "sent", None)
    return True


def deliver(event: DomainEvent) -> Outcome:
    """Tell everyone `event` concerns, once per person and channel. Raises DeliveryIncomplete when
    a send failed (its claim released, so the retry sends it) or is in doubt.

    Targets are claimed CLAIM_EVERY at a time, just before they are sent (SEND_CONCURRENCY at once),
    and the chunk's sends are marked 'sent' as soon as it is done: if the function dies or times out,
    only the chunk in hand is in doubt, and every send already made is recorded."""
    if event.type == "alert.sent":
        return deliver_alert_batch(event, 0)
    log = {"event_id": event.event_id, "event_type": event.type, "tenant_id": event.tenant_id}
    people = recipients(event)
    message = MESSAGES[event.type](event)
    by_id = {u.user_id: u for u in people}
    targets = [(u.user_id, channel) for u in people for channel in channels(u)]
    messaging.ready()  # the clients exist before the threads that share them start
    sent, duplicates, failed = 0, 0, 0
    for start in range(0, len(targets), CLAIM_EVERY):
        done = _deliver_chunk(event, targets[start:start + CLAIM_EVERY], by_id, message, log)
        sent, duplicates, failed = sent + done.sent, duplicates + done.duplicates, failed + done.failed
    outcome = Outcome(sent=sent, duplicates=duplicates, failed=failed)
    logger.info("event delivered" if not failed else "event delivered in part",
                extra={**log, "recipients": len(people), "sent": sent, "duplicates": duplicates, "failed": failed})
    if failed:
        raise DeliveryIncomplete(f"event {event.event_id}: {failed} of {len(targets)} sends failed or are in doubt")
    return outcome


def deliver_alert_batch(event: DomainEvent, batch: int) -> Outcome:
    """Send one batch of an alert's roll-call (alerts.BATCH_SIZE recipients, one Query), once per
    person and channel as any event is, recording each channel's state on the roll-call. Batch 0 is
    the alert.sent event's own delivery: it first puts the alert's other batches on the queue, so
    they go out beside it, each retried on its own."""
    data: AlertSent = event.payload()
    log = {"event_id": event.event_id, "event_type": event.type, "tenant_id": event.tenant_id,
           "alert_id": data.alert_id, "batch": str(batch)}
    alert = alert_store.get_alert(event.tenant_id, data.job_id, data.alert_id)
    if alert is None or batch >= len(alert.batch_starts):  # the job was deleted since, or nobody to tell
        logger.warning("alert gone or empty before delivery", extra=log)
        return Outcome(sent=0, duplicates=0, failed=0)
    if batch == 0 and len(alert.batch_starts) > 1:
        queues.send_all(get_settings().notifications_queue_url,
                        [AlertBatch(alert_batch=b, event=event).model_dump_json() for b in range(1, len(alert.batch_starts))])
    roll = {r.user_id: r for r in alert_store.batch_of(alert, batch)}
    people = {u.user_id: u for u in _active(user_store.get_users(event.tenant_id, list(roll)))}
    for gone in roll.keys() - people.keys():  # disabled or removed since the alert was sent
        for channel, state in roll[gone].channels.items():
            if state == "queued":
                alert_store.set_delivery(roll[gone], channel, "failed", "the user was disabled or removed")
    targets = [(user_id, channel) for user_id, r in roll.items() if user_id in people
               for channel, state in r.channels.items() if state in ("queued", "failed")]

    def record(target: tuple[str, str], state: str, reason: str | None) -> None:
        alert_store.set_delivery(roll[target[0]], target[1], state, reason)

    message = MESSAGES[event.type](event)
    messaging.ready()
    sent, duplicates, failed = 0, 0, 0
    for start in range(0, len(targets), CLAIM_EVERY):
        done = _deliver_chunk(event, targets[start:start + CLAIM_EVERY], people, message, log, record)
        sent, duplicates, failed = sent + done.sent, duplicates + done.duplicates, failed + done.failed
    logger.info("alert batch delivered" if not failed else "alert batch delivered in part",
                extra={**log, "recipients": len(roll), "sent": sent, "duplicates": duplicates, "failed": failed})
    if failed:
        raise DeliveryIncomplete(f"alert {data.alert_id} batch {batch}: {failed} of {len(targets)} sends failed "
                                 "or are in doubt")
    return Outcome(sent=sent, duplicates=duplicates, failed=failed)


def _deliver_chunk(event: DomainEvent, targets: list[tuple[str, str]], by_id: dict[str, User], message: Message,
                   log: dict[str, str], record: Record | None = None) -> Outcome:
    claimed_before = send_store.claim_sends(event.tenant_id, event.event_id, targets)
    duplicates, failed = 0, 0
    to_send = []
    for target in targets:
        state = claimed_before.get(target)
        extra = {**log, "user_id": target[0], "channel": target[1]}
        if state == "sent":
            duplicates += 1
            logger.info("already sent: not sent again", extra=extra)
            if record is not None:  # sent before the state was kept (a retry after a crash): keep it now
                record(target, "sent", None)
        elif state is not None:
            failed += 1
            logger.warning("a send of this event is in flight or its outcome is unknown: not sent again", extra=extra)
        else:
            to_send.append(target)
    sent: list[tuple[str, str]] = []
    try:
        with ThreadPoolExecutor(max_workers=SEND_CONCURRENCY) as pool:
            futures = {pool.submit(_send_once, event, t, by_id[t[0]], message, record): t for t in to_send}
            for future in as_completed(futures):
                target = futures[future]
                try:
                    done = future.result()
                except Exception:  # not a refusal we understand: whether it went out is unknown, so its claim stays
                    logger.exception("send raised: left pending (in doubt), not sent again",
                                     extra={**log, "user_id": target[0], "channel": target[1]})
                    done = False
                if done:
                    sent.append(target)
                else:
                    failed += 1
    finally:
        send_store.complete_sends(event.tenant_id, event.event_id, sent)  # whatever else happened, record what went out
    return Outcome(sent=len(sent), duplicates=duplicates, failed=failed)
