"""Access reviews: a reviewer keeps or revokes each account entry and project role of a job, as they stood
when the review opened; closing carries out the revocations and yields evidence an auditor can check.

Rules (`policy.decide_open_review`, `decide_reviewer`, `decide_on_review`, `decide_review_item`): staff with
job.edit open a review for a staff reviewer who can view the job; nobody decides a grant they made (the
reviewer's own grants go to the review's creator or a Super Admin); only the reviewer closes it, once every
item is decided. The scope is fixed at opening: the access report then, and the entries and roles then."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

from sitegate import access, audit, clock, explain, ids, policy
from sitegate.data import access_store, account_store, core, events, job_store, review_store, tenant_store, user_store
from sitegate.data.idempotency import Idempotency
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.access_reviews import (
    AccessReview,
    ItemDecision,
    ItemKind,
    ReviewClosed,
    ReviewCreate,
    ReviewEvidence,
    ReviewItem,
    ReviewItemDecision,
    ReviewItemOut,
    ReviewOut,
    ReviewStatus,
)
from sitegate.models.events import AccessRevoked
from sitegate.models.stored import Job, JobGrant, ProjectRole
from sitegate.on_job import JobContext, writable
from sitegate.policy import Caller, ReviewFacts


def _facts(review: AccessReview) -> ReviewFacts:
    return ReviewFacts(created_by=review.created_by, reviewer_user_id=review.reviewer_user_id)


def _today(review: AccessReview) -> str:
    return clock.now().astimezone(ZoneInfo(review.timezone)).date().isoformat()


def review_out(review: AccessReview, items: list[ReviewItem]) -> ReviewOut:
    open_ = review.status == ReviewStatus.OPEN.value
    return ReviewOut(review_id=review.review_id, job_id=review.job_id, job_number=review.job_number,
                     created_by=review.created_by, reviewer_user_id=review.reviewer_user_id, due=review.due,
                     overdue=open_ and _today(review) > review.due, status=review.status, opened_at=review.opened_at,
                     snapshot_at=review.snapshot_at, closed_at=review.closed_at, revoked=review.revoked,
                     evidence_sha256=review.evidence_sha256, undecided=sum(1 for i in items if i.decision is None),
                     items=[ReviewItemOut.of(i) for i in sorted(items, key=lambda i: i.item_id)])


# ------------------------------------------------------------------ opening
def _reviewer(caller: Caller, ctx: JobContext, user_id: str) -> None:
    """The reviewer named must be staff who can view the job (`policy.decide_reviewer`), else 422."""
    job = ctx.job
    if user_id == caller.user.user_id:
        raise invalid("reviewer_user_id", "the reviewer must be someone other than who opens the review")
    user = user_store.get_user(job.tenant_id, user_id)
    if user is None:
        raise invalid("reviewer_user_id", f"user {user_id} is not a user of this tenant")
    account = caller.account if user.account_id == caller.account.account_id else account_store.get_account(
        job.tenant_id, user.account_id)
    if account is None:
        raise invalid("reviewer_user_id", f"user {user_id} is not a user of this tenant")
    role = access_store.get_role(job.tenant_id, job.job_id, user_id)
    decision = policy.decide_reviewer(Caller(user, account), policy.JobFacts(job.job_id, project_role=role.role
                                                                              if role else None))
    if not decision:
        raise invalid("reviewer_user_id", f"cannot review this job: {decision.reason}")


def _entry_item(review_id: str, grant: JobGrant, name: str) -> ReviewItem:
    return ReviewItem(tenant_id=grant.tenant_id, review_id=review_id, job_id=grant.job_id,
                      item_id=f"entry-{grant.account_id}", kind=ItemKind.ENTRY, account_id=grant.account_id,
                      account_name=name, access_type=grant.access_type, expires_at=grant.expires_at,
                      granted_by=grant.granted_by, granted_at=grant.granted_at)


def _role_item(review_id: str, role: ProjectRole, account_id: str, account_name: str, user_name: str) -> ReviewItem:
    return ReviewItem(tenant_id=role.tenant_id, review_id=review_id, job_id=role.job_id, item_id=f"role-{role.user_id}",
                      kind=ItemKind.ROLE, account_id=account_id, account_name=account_name, user_id=role.user_id,
                      user_name=user_name, role=role.role, granted_by=role.set_by, granted_at=role.set_at)


def _items(job: Job, review_id: str) -> list[ReviewItem]:
    """Every entry on the job's access list and every project role on it, as they stand now."""
    grants = access_store.job_access_list(job)
    roles = access_store.job_roles(job.tenant_id, job.job_id)
    users = {u.user_id: u for u in user_store.get_users(job.tenant_id, [r.user_id for r in roles])}
    account_ids = {g.account_id for g in grants} | {u.account_id for u in users.values()}
    names = {a.account_id: a.name for a in account_store.get_accounts(job.tenant_id, list(account_ids))}
    items = [_entry_item(review_id, g, names.get(g.account_id, "")) for g in grants]
    for role in roles:
        user = users.get(role.user_id)
        if user is not None:  # a role of a user deleted since grants nothing: nothing to review
            items.append(_role_item(review_id, role, user.account_id, names.get(user.account_id, ""), user.name))
    return items


def open_review(caller: Caller, ctx: JobContext, request: ReviewCreate, idempotency: Idempotency | None) -> ReviewOut:
    policy.require(policy.decide_open_review(caller, ctx.facts))
    job = writable(ctx.job)
    _reviewer(caller, ctx, request.reviewer_user_id)
    tenant = tenant_store.get_tenant(job.tenant_id)
    assert tenant is not None
    today = clock.now().astimezone(ZoneInfo(tenant.timezone)).date()
    if request.due < today:
        raise invalid("due", f"must be today ({today.isoformat()}) or later")
    review_id, now = ids.new_id(), clock.now()
    rows = [row.model_dump(mode="json") for row in explain.report_rows(job, now)]
    items = _items(job, review_id)
    snapshot = review_store.chunk_snapshot(job.tenant_id, review_id, rows)
    review = AccessReview(tenant_id=job.tenant_id, review_id=review_id, job_id=job.job_id, job_number=job.job_number,
                          created_by=caller.user.user_id, reviewer_user_id=request.reviewer_user_id,
                          due=request.due.isoformat(), timezone=tenant.timezone, opened_at=clock.now_iso(),
                          snapshot_at=now.isoformat(timespec="seconds"), item_count=len(items),
                          snapshot_chunks=len(snapshot))
    out = review_out(review, items)
    marker = [idempotency.create(out)] if idempotency is not None else []
    review_store.open_review(review, items, snapshot, [audit.change("review.open", None, review), *marker])
    return out


# ------------------------------------------------------------------ reading and deciding
def _visible(caller: Caller, review: AccessReview | None, review_id: str) -> AccessReview:
    """A review only its parties see: to anyone else it does not exist (404)."""
    if review is None or not policy.decide_on_review(caller, _facts(review), "review.view"):
        raise NotFound(f"access review {review_id} not found")
    return review


def get_review(caller: Caller, review_id: str) -> ReviewOut:
    read = review_store.read_review(caller.user.tenant_id, review_id)
    review = _visible(caller, read.review, review_id)
    return review_out(review, read.items)


def decide(caller: Caller, review_id: str, request: ReviewItemDecision) -> ReviewItemOut:
    review, item = review_store.get_review_and_item(caller.user.tenant_id, review_id, request.item_id)
    review = _visible(caller, review, review_id)
    if item is None:
        raise NotFound(f"item {request.item_id} is not in this review")
    policy.require(policy.decide_review_item(caller, _facts(review), item.granted_by, item.user_id))
    _still_reviewer(caller, review)
    if review.status != ReviewStatus.OPEN.value:
        raise Conflict("the review is closed")
    decided = item.changed(decision=request.decision, note=request.note, decided_by=caller.user.user_id,
                           decided_at=clock.now_iso(), version=item.version + 1)
    review_store.decide_item(decided, review, audit.change("review.decide", item, decided))
    return ReviewItemOut.of(decided)


# ------------------------------------------------------------------ closing
def _revoked_event(job: Job, item: ReviewItem, by: str) -> events.DomainEvent:
    return events.new_event("access.revoked", job.tenant_id, AccessRevoked(
        job_id=job.job_id, job_name=job.name, account_id=item.account_id, account_name=item.account_name,
        user_id=item.user_id, role=item.role, revoked_by=by, review_id=item.review_id))


def _carry_out(job: Job, item: ReviewItem, grants: dict[str, JobGrant], roles: dict[str, ProjectRole],
               by: str) -> tuple[ReviewItem, events.DomainEvent | None]:
    """Revoke one item in a transaction of its own (the removal, its audit entry, its event, the item's outcome);
    an entry or role removed or granted again since the review opened is left as it is now ("gone")."""
    done = item.version + 1
    if item.kind == ItemKind.ENTRY.value:
        grant = grants.get(item.account_id)
        if grant is None or grant.granted_at != item.granted_at:
            gone = item.changed(outcome="gone", version=done)
            core.write_versioned(replaces=[core.Replace(gone)])
            return gone, None
        early, removal = access.revocation(grant, by, beside=2)
        core.write_in_chunks(early)
    else:
        role = roles.get(item.user_id or "")
        if role is None or role.set_at != item.granted_at:
            gone = item.changed(outcome="gone", version=done)
            core.write_versioned(replaces=[core.Replace(gone)])
            return gone, None
        removal = [core.Remove(role), audit.change("role.remove", role, None, about_account_id=item.account_id)]
    revoked = item.changed(outcome="revoked", version=done)
    event = _revoked_event(job, item, by)
    core.write_all([*removal, events.outbox_entry(event), core.Replace(revoked, "the review is being closed")],
                   versioned=True)
    return revoked, event


def _document(review: AccessReview, items: list[ReviewItem], snapshot: list[dict[str, Any]]) -> dict[str, Any]:
    """The evidence: the review, the access report it opened with, every decision with who and when, and what
    was revoked. Built from what is stored, so reading it again gives the same bytes."""
    ordered = sorted(items, key=lambda i: i.item_id)
    decision_fields = ["item_id", "kind", "account_id", "account_name", "user_id", "user_name", "role",
                       "access_type", "expires_at", "granted_by", "granted_at", "decision", "note", "decided_by",
                       "decided_at", "outcome"]
    revoked = [i for i in ordered if i.decision == ItemDecision.REVOKE.value]
    return {
        "review": {k: getattr(review, k) for k in ("review_id", "job_id", "job_number", "created_by",
                                                    "reviewer_user_id", "due", "opened_at", "closed_at", "closed_by")},
        "snapshot": {"at": review.snapshot_at, "items": snapshot},
        "decisions": [{k: getattr(i, k) for k in decision_fields} for i in ordered],
        "revoked": [{"item_id": i.item_id, "kind": i.kind, "account_id": i.account_id, "user_id": i.user_id,
                     "role": i.role, "outcome": i.outcome} for i in revoked],
        "counts": {"items": len(ordered), "kept": len(ordered) - len(revoked),
                   "revoked": sum(1 for i in revoked if i.outcome == "revoked"),
                   "gone": sum(1 for i in revoked if i.outcome == "gone")},
    }


def _sha256(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


ATTEMPTS = 5  # a close racing decisions reads the review again and goes on from where it stood


def _still_reviewer(caller: Caller, review: AccessReview) -> None:
    """The reviewer judges only while it can view the job (`policy.decide_reviewer`): 403 once it cannot."""
    if caller.user.user_id == review.reviewer_user_id:
        policy.require(policy.decide_reviewer(caller, policy.JobFacts(review.job_id)))


def _close_once(caller: Caller, review_id: str) -> ReviewClosed:
    tenant_id = caller.user.tenant_id
    read = review_store.read_review(tenant_id, review_id)
    review = _visible(caller, read.review, review_id)
    policy.require(policy.decide_on_review(caller, _facts(review), "review.close"))
    _still_reviewer(caller, review)
    if review.status != ReviewStatus.OPEN.value:
        raise Conflict("the review is closed already")
    undecided = [i.item_id for i in read.items if i.decision is None]
    if undecided:
        raise Conflict(f"{len(undecided)} item(s) are undecided: {', '.join(sorted(undecided)[:10])}")
    job = job_store.get_job(tenant_id, review.job_id)
    items = {i.item_id: i for i in read.items}
    published: list[events.DomainEvent] = []
    to_carry = [i for i in read.items if i.decision == ItemDecision.REVOKE.value and i.outcome is None]
    if to_carry:
        if job is None:
            raise Conflict("the job was deleted: there is nothing left to revoke")
        writable(job)
        grants = {g.account_id: g for g in access_store.job_access_list(job)}
        # Entries first: an account taken off the job takes its users' roles with it (those items are "gone").
        for kind in (ItemKind.ENTRY.value, ItemKind.ROLE.value):
            roles = {r.user_id: r for r in access_store.job_roles(tenant_id, job.job_id)} if kind == "role" else {}
            for item in (i for i in to_carry if i.kind == kind):
                items[item.item_id], event = _carry_out(job, item, grants, roles, caller.user.user_id)
                published += [event] if event is not None else []
    closed = review.changed(status=ReviewStatus.CLOSED, closed_at=clock.now_iso(), closed_by=caller.user.user_id,
                            version=review.version + 1)
    document = _document(closed, list(items.values()), read.snapshot)
    closed = closed.changed(revoked=document["counts"]["revoked"], evidence_sha256=_sha256(document))
    # Versioned: a decision made since the read moved the review's version, so this fails and the close reads again.
    core.write_versioned(creates=[audit.change("review.close", review, closed)],
                         replaces=[core.Replace(closed, "the review was closed meanwhile")])
    events.publish(published)
    return ReviewClosed(review_id=review_id, status=ReviewStatus.CLOSED, revoked=closed.revoked or 0,
                        evidence_sha256=closed.evidence_sha256 or "")


def close(caller: Caller, review_id: str) -> ReviewClosed:
    """Close a review once every item is decided: its revocations carried out (each once, even when the close
    is repeated or races decisions), then the review closed with its evidence's digest."""
    for _ in range(ATTEMPTS):
        try:
            return _close_once(caller, review_id)
        except core.Stale:
            continue
    raise Conflict("the review is being decided; try closing it again")


def evidence(caller: Caller, review_id: str) -> ReviewEvidence:
    read = review_store.read_review(caller.user.tenant_id, review_id)
    review = _visible(caller, read.review, review_id)
    if review.status != ReviewStatus.CLOSED.value:
        raise Conflict("the review is still open: its evidence exists once it is closed")
    document = _document(review, read.items, read.snapshot)
    return ReviewEvidence(review_id=review_id, sha256=_sha256(document), document=document)


