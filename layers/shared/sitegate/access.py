"""A job's access list (the e-ticketing "Job Access" screen): which accounts reach the job, and how."""

from __future__ import annotations

from datetime import UTC

from sitegate import audit, clock, policy
from sitegate.data import access_store, account_store, core, events, user_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.events import AccessGranted
from sitegate.models.requests import AccessGrant
from sitegate.models.responses import AccessEntry, AccessList
from sitegate.models.stored import AccessEnded, Account, AccountKind, AccountStatus, JobGrant
from sitegate.on_job import JobContext, writable
from sitegate.policy import Caller

PANELS = {"customer": "customers", "inspection_firm": "inspection_firms", "project_owner": "project_owners",
          "trade_contractor": "trade_contractors", "vendor": "vendors", "guest_contractor": "guest_contractors"}


def access_list(caller: Caller, ctx: JobContext) -> AccessList:
    """The job's access list: all of it for staff with job.edit and GC leads; an account administrator's
    own entry and its guests' for that administrator (`policy.decide_access_list`)."""
    job = ctx.job
    reach = policy.require(policy.decide_access_list(caller, ctx.facts))
    grants = policy.entries_in_sight(caller, reach, access_store.job_access_list(job))
    names = {a.account_id: a.name for a in account_store.get_accounts(job.tenant_id, [g.account_id for g in grants])}
    panels: dict[str, list[AccessEntry]] = {panel: [] for panel in PANELS.values()}
    for g in sorted(grants, key=lambda g: names.get(g.account_id, "").lower()):
        panels[PANELS[g.account_kind]].append(AccessEntry(
            account_id=g.account_id, name=names.get(g.account_id, ""), access_type=g.access_type, source=g.source,
            granted_by=g.granted_by, granted_at=g.granted_at, expires_at=g.expires_at))
    return AccessList(**panels)


def _grantee(caller: Caller, ctx: JobContext, account_id: str) -> tuple[Account, JobGrant | None]:
    """The account to add to or remove from the job, with its current entry, once the caller
    may manage that entry. Whoever may manage it may name the account; to anyone else an
    account neither on the job's list nor in sight is 404."""
    account = account_store.get_account(caller.user.tenant_id, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    entry = access_store.get_grant(ctx.job.tenant_id, ctx.job.job_id, account_id)
    decision = policy.decide_on_grant(caller, ctx.facts, account)
    if not decision and entry is None and not policy.decide_on_account(caller, "account.view", account):
        raise NotFound(f"account {account_id} not found")
    policy.require(decision)
    return account, entry


def grant_access(caller: Caller, ctx: JobContext, request: AccessGrant,
                 idempotency: Idempotency | None) -> AccessEntry:
    account, entry = _grantee(caller, ctx, request.account_id)
    job = writable(ctx.job)
    if account.kind == AccountKind.OWNER.value:
        raise invalid("account_id", "the owner account is on every job already")
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"account {account.account_id} is archived")
    needs_type = account.kind in policy.KINDS_NEEDING_ACCESS_TYPE
    if needs_type and request.access_type is None:
        raise invalid("access_type", f"{account.kind} accounts need an access type: {', '.join(policy.ACCESS_TYPES)}")
    if not needs_type and request.access_type is not None:
        raise invalid("access_type", f"{account.kind} accounts are added without an access type")
    grant = JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number, account_id=account.account_id,
                     account_kind=account.kind, access_type=request.access_type, source="manual",
                     granted_by=caller.user.user_id, granted_at=clock.now_iso(),
                     expires_at=request.expires_at.astimezone(UTC).isoformat(timespec="seconds")
                     if request.expires_at else None,
                     sponsor_account_id=account.sponsor_account_id
                     if account.kind == AccountKind.GUEST_CONTRACTOR.value else None)
    if not policy.grant_live(grant):  # as stored (to the second): an entry already over is refused
        raise invalid("expires_at", "must be at least a second in the future")
    out = AccessEntry(account_id=account.account_id, name=account.name, access_type=grant.access_type,
                      source=grant.source, granted_by=grant.granted_by, granted_at=grant.granted_at,
                      expires_at=grant.expires_at)
    conflict = f"{account.name} is already on this job's access list"
    # An entry that has expired may be granted again; a live one is a conflict.
    expired = entry is not None and not policy.grant_live(entry)
    put = core.ReplaceExpired(grant, clock.now_iso(), conflict) if expired else core.Create(grant, conflict)
    # Its administrators hear of it (notifications): the event is written with the entry, published after.
    event = events.new_event("access.granted", job.tenant_id, AccessGranted(
        job_id=job.job_id, job_name=job.name, account_id=account.account_id, account_name=account.name,
        granted_by=caller.user.user_id))
    create_once([put, events.outbox_entry(event), audit.change("access.grant", entry, grant)], out, idempotency,
                removes=[access_store.forget_access_ended(job.tenant_id, job.job_id, account.account_id)])
    events.publish([event])
    return out


def revoke_access(caller: Caller, ctx: JobContext, account_id: str) -> None:
    """Remove an account from the job: all its users (and the guests it sponsors there) lose
    access on their next request, and its users' project roles on the job are cleared."""
    _, entry = _grantee(caller, ctx, account_id)
    writable(ctx.job)
    if entry is None:
        raise NotFound(f"account {account_id} is not on this job's access list")
    early, removal = revocation(entry, caller.user.user_id)
    core.write_in_chunks(early)  # rare: more roles than fit beside the entry go first, safe to repeat
    core.write_all(removal)


def revocation(entry: JobGrant, by: str, beside: int = 0) -> tuple[list[core.Change], list[core.Operation]]:
    """Taking an account off a job: (the changes that go first, when its users have more roles on the job than
    fit in one transaction; the removal's own transaction: the entry removed with its audit entry, the marker
    that the removal stands, the rest of the roles). `beside` leaves room for the caller's own items."""
    # The removal stands: a booking that names the account later does not put it back.
    ended = AccessEnded(tenant_id=entry.tenant_id, job_id=entry.job_id, account_id=entry.account_id,
                        ended_by=by, ended_at=clock.now_iso())
    # Its users' project roles on the job go with it: granted again, the account starts from nothing.
    users = {u.user_id for u in user_store.users_of_account(entry.tenant_id, entry.account_id)}
    roles = [(core.Remove(r), audit.change("role.remove", r, None, about_account_id=entry.account_id))
             for r in access_store.job_roles(entry.tenant_id, entry.job_id) if r.user_id in users]
    room = (core.TRANSACTION_ITEMS - 3 - beside) // 2  # beside the entry, its marker and its audit entry
    removal: list[core.Operation] = [core.Upsert(ended), audit.change("access.revoke", entry, None), core.Remove(entry)]
    for remove, audited in roles[:room]:
        removal += [remove, audited]
    return [list(change) for change in roles[room:]], removal
