"""Jobs, job search and the access list (seeds 000/001: SOP "Job Access").

A request against a job reads the job, the caller's account's entry on its access
list and the caller's project role in one call (`job_context`); a job the caller
may not see is 404 everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sitegate import clock, ids, keys, policy
from sitegate.data import store
from sitegate.errors import Conflict, InvalidInput, NotFound
from sitegate.models.requests import AccessGrant, JobCreate, JobUpdate
from sitegate.models.responses import AccessEntry, AccessList, Dashboard, JobOut, JobPage
from sitegate.models.stored import Account, AccountKind, AccountStatus, Job, JobGrant, JobStatus, User
from sitegate.policy import Caller, JobFacts

PANELS = {"customer": "customers", "inspection_firm": "inspection_firms", "project_owner": "project_owners",
          "trade_contractor": "trade_contractors", "vendor": "vendors", "guest_contractor": "guest_contractors"}
SYSTEM = "system"  # granted_by of customer-code connections


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"invalid input: {field}", errors=[{"field": field, "message": message}])


def job_context(caller: Caller, job_id: str) -> tuple[Job, JobFacts]:
    """The job and what the policy needs to know about it, or 404 if the caller may not see it."""
    job, grant, role = store.get_job_context(caller.user.tenant_id, job_id, caller.account.account_id,
                                             caller.user.user_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    facts = JobFacts(job_id=job.job_id, grant=grant, project_role=role.role if role else None)
    if not policy.decide(caller, "job.view", job=facts):
        raise NotFound(f"job {job_id} not found")
    return job, facts


def require_on_job(caller: Caller, action: str, facts: JobFacts) -> policy.Decision:
    return policy.require(policy.decide(caller, action, job=facts))


def _out(caller: Caller, job: Job) -> JobOut:
    return JobOut.of(job, financial=bool(policy.decide(caller, "financial.view")))


def _writable(job: Job) -> None:
    if job.status != JobStatus.ACTIVE.value:
        raise Conflict(f"job {job.job_number} is archived")


def _customer_grant(job: Job, account_id: str, at: str) -> JobGrant:
    return JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number, account_id=account_id,
                    account_kind=AccountKind.CUSTOMER, source="customer_code", granted_by=SYSTEM, granted_at=at)


def _customer_of(tenant_id: str, code: str | None) -> str | None:
    """The customer account carrying this code, if any."""
    return store.customer_with_code(tenant_id, code) if code else None


# ------------------------------------------------------------------ jobs
def create_job(caller: Caller, request: JobCreate, idempotency: store.Idempotency | None) -> JobOut:
    policy.require(policy.decide(caller, "job.add"))
    if request.cost_price is not None or request.charge_price is not None:
        policy.require(policy.decide(caller, "financial.view"))  # who may not see prices may not set them
    now = clock.now_iso()
    job = Job(tenant_id=caller.user.tenant_id, job_id=ids.new_id(), created_by=caller.user.user_id, created_at=now,
              **request.model_dump())
    out = _out(caller, job)
    creates = [store.Create(store.job_item(job), "job already exists"),
               store.Create(store.job_number_item(job), f"job number {job.job_number} already exists")]
    customer = _customer_of(job.tenant_id, job.customer_code)
    if customer is not None:  # a new job finds its customer
        creates.append(store.Create(store.grant_item(_customer_grant(job, customer, now)), "already connected"))
    replaces = []
    if policy.decide(caller, "job.view").scope is policy.Scope.ALLOCATED:  # a TMP Designer is allocated to its job
        me = caller.user
        allocated = me.changed(job_ids=[*me.job_ids, job.job_id], version=me.version + 1)
        replaces.append(store.Replace(store.user_item(allocated)))
    if idempotency is not None:
        creates.append(idempotency.create(out))
    store.write(creates=creates, replaces=replaces)
    return out


def get_job(caller: Caller, job_id: str) -> JobOut:
    return _out(caller, job_context(caller, job_id)[0])


def list_jobs(caller: Caller, prefix: str, status: JobStatus | None, limit: int, cursor: str | None) -> JobPage:
    """Visible jobs whose number starts with `prefix`, in job-number order."""
    tenant_id, me = caller.user.tenant_id, caller.user
    reach = policy.decide(caller, "job.view")
    wanted = status.value if status else None
    if not reach:
        return JobPage(items=[], next_cursor=None)
    if reach.scope is policy.Scope.ALL:  # every job of the tenant, by number
        page = store.query_page(Job, keys.tenant_jobs(tenant_id), index="GSI1", sort_prefix=prefix or None, limit=limit,
                                cursor=cursor)
        jobs = [j for j in page.items if wanted in (None, j.status)]
        return JobPage(items=[_out(caller, j) for j in jobs], next_cursor=page.next_cursor)
    grants: list[JobGrant] = []
    next_cursor: str | None = None
    if reach.scope is policy.Scope.ACCOUNT:  # an administrator: its account's entries, by number
        grant_page = store.query_page(JobGrant, keys.account_jobs(tenant_id, me.account_id), index="GSI1",
                                      sort_prefix=prefix or None, limit=limit, cursor=cursor)
        grants, next_cursor = grant_page.items, grant_page.next_cursor
        job_ids = [g.job_id for g in grants]
    elif reach.scope is policy.Scope.ASSIGNED:  # managers and basic users: their assigned jobs
        grants = store.get_grants(tenant_id, me.account_id, me.job_ids)
        job_ids = [g.job_id for g in grants]
    else:  # staff allocated to a few jobs
        job_ids = list(me.job_ids)
    jobs = sorted(store.get_jobs(tenant_id, job_ids), key=lambda j: j.job_number)
    visible = [j for j in jobs if j.job_number.startswith(prefix) and wanted in (None, j.status)
               and _sees(caller, j, grants)]
    if reach.scope is not policy.Scope.ACCOUNT:  # a short list of its own: page it by job number
        after = (store.decode_cursor(cursor) or {}).get("after", "")
        visible = [j for j in visible if j.job_number > after]
        more = len(visible) > limit
        visible = visible[:limit]
        next_cursor = store.encode_cursor({"after": visible[-1].job_number}) if more else None
    return JobPage(items=[_out(caller, j) for j in visible], next_cursor=next_cursor)


def _sees(caller: Caller, job: Job, grants: Iterable[JobGrant]) -> bool:
    grant = next((g for g in grants if g.job_id == job.job_id), None)
    return bool(policy.decide(caller, "job.view", job=JobFacts(job.job_id, grant)))


def update_job(caller: Caller, job_id: str, request: JobUpdate) -> JobOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.edit", facts)
    _writable(job)
    changes = request.model_dump(exclude_unset=True)
    if {"cost_price", "charge_price"} & set(changes):
        policy.require(policy.decide(caller, "financial.view"))
    if not changes:
        return _out(caller, job)
    new = job.changed(**changes, version=job.version + 1)
    creates, removes = [], []
    if new.customer_code != job.customer_code:  # the customer connection follows the code
        old_customer = _customer_of(job.tenant_id, job.customer_code)
        if old_customer is not None:
            old = store.get_item(JobGrant, keys.job_grant(job.tenant_id, job.job_id, old_customer))
            if old is not None and old.source == "customer_code":
                removes.append(store.Remove(keys.job_grant(job.tenant_id, job.job_id, old_customer)))
        new_customer = _customer_of(job.tenant_id, new.customer_code)
        if new_customer is not None and store.get_item(
                JobGrant, keys.job_grant(job.tenant_id, job.job_id, new_customer)) is None:
            creates.append(store.Create(store.grant_item(_customer_grant(new, new_customer, clock.now_iso())),
                                        "already connected"))
    store.write(creates=creates, replaces=[store.Replace(store.job_item(new))], removes=removes)
    return _out(caller, new)


def archive_job(caller: Caller, job_id: str) -> JobOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.archive", facts)
    if job.status == JobStatus.ARCHIVED.value:
        return _out(caller, job)
    new = job.changed(status=JobStatus.ARCHIVED.value, version=job.version + 1)
    store.write(replaces=[store.Replace(store.job_item(new))])
    return _out(caller, new)


def delete_job(caller: Caller, job_id: str) -> None:
    """Delete the job, its number and its access list (so no account reaches it any more)."""
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.delete", facts)
    store.delete_job(job)


# ----------------------------------------------------------- access list
def _grants(job: Job) -> list[JobGrant]:
    return store.query_all(JobGrant, keys.job_partition(job.tenant_id, job.job_id), "ACCESS#")


def access_list(caller: Caller, job_id: str) -> AccessList:
    job, _ = job_context(caller, job_id)
    grants = _grants(job)
    names = {a.account_id: a.name for a in store.get_accounts(job.tenant_id, [g.account_id for g in grants])}
    panels: dict[str, list[AccessEntry]] = {panel: [] for panel in PANELS.values()}
    for g in sorted(grants, key=lambda g: names.get(g.account_id, "").lower()):
        panels[PANELS[g.account_kind]].append(AccessEntry(
            account_id=g.account_id, name=names.get(g.account_id, ""), access_type=g.access_type, source=g.source,
            granted_by=g.granted_by, granted_at=g.granted_at, expires_at=g.expires_at))
    return AccessList(**panels)


def _grantee(caller: Caller, job: Job, facts: JobFacts, account_id: str) -> tuple[Account, JobGrant | None]:
    """The account to add to or remove from the job, with its current entry, once the caller
    may manage that entry. Whoever may manage it may name the account; to anyone else an
    account neither on the job's list nor in sight is 404."""
    account = store.get_account(caller.user.tenant_id, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    entry = store.get_item(JobGrant, keys.job_grant(job.tenant_id, job.job_id, account_id))
    decision = policy.decide_on_grant(caller, facts, account)
    if not decision and entry is None and not policy.decide_on_account(caller, "account.view", account):
        raise NotFound(f"account {account_id} not found")
    policy.require(decision)
    return account, entry


def grant_access(caller: Caller, job_id: str, request: AccessGrant, idempotency: store.Idempotency | None) -> AccessEntry:
    job, facts = job_context(caller, job_id)
    account, entry = _grantee(caller, job, facts, request.account_id)
    _writable(job)
    if account.kind == AccountKind.OWNER.value:
        raise _invalid("account_id", "the owner account is on every job already")
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"account {account.account_id} is archived")
    needs_type = account.kind in policy.KINDS_NEEDING_ACCESS_TYPE
    if needs_type and request.access_type is None:
        raise _invalid("access_type", f"{account.kind} accounts need an access type: {', '.join(policy.ACCESS_TYPES)}")
    if not needs_type and request.access_type is not None:
        raise _invalid("access_type", f"{account.kind} accounts are added without an access type")
    if request.expires_at is not None and request.expires_at <= clock.now():
        raise _invalid("expires_at", "must be in the future")
    grant = JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number, account_id=account.account_id,
                     account_kind=account.kind, access_type=request.access_type, source="manual",
                     granted_by=caller.user.user_id, granted_at=clock.now_iso(),
                     expires_at=request.expires_at.astimezone(UTC).isoformat(timespec="seconds")
                     if request.expires_at else None)
    out = AccessEntry(account_id=account.account_id, name=account.name, access_type=grant.access_type,
                      source=grant.source, granted_by=grant.granted_by, granted_at=grant.granted_at,
                      expires_at=grant.expires_at)
    conflict = f"{account.name} is already on this job's access list"
    # An entry that has expired may be granted again; a live one is a conflict.
    expired = entry is not None and entry.expires_at is not None and datetime.fromisoformat(entry.expires_at) <= clock.now()
    put = store.ReplaceExpired(store.grant_item(grant), clock.now_iso(), conflict) if expired else store.Create(
        store.grant_item(grant), conflict)
    store.create_once([put], out, idempotency)
    return out


def revoke_access(caller: Caller, job_id: str, account_id: str) -> None:
    """Remove an account from the job: all its users lose access on their next request."""
    job, facts = job_context(caller, job_id)
    _, entry = _grantee(caller, job, facts, account_id)
    if entry is None:
        raise NotFound(f"account {account_id} is not on this job's access list")
    store.write(removes=[store.Remove(keys.job_grant(job.tenant_id, job.job_id, account_id))])


def connect_customer_codes(account: Account, added: Iterable[str], dropped: Iterable[str]) -> None:
    """A code added to a customer connects its existing jobs; a dropped code disconnects
    the connections it made (manual entries stay)."""
    now = clock.now_iso()
    tenant_id = account.tenant_id
    for code in added:
        jobs = store.query_all(Job, keys.jobs_with_code(tenant_id, code), index="GSI2")
        existing = {g.job_id for g in store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])}
        creates = [store.Create(store.grant_item(_customer_grant(j, account.account_id, now)), "already connected")
                   for j in jobs if j.job_id not in existing]
        for start in range(0, len(creates), 100):
            store.write(creates=creates[start:start + 100])
    for code in dropped:
        jobs = store.query_all(Job, keys.jobs_with_code(tenant_id, code), index="GSI2")
        grants = store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])
        removes = [store.Remove(keys.job_grant(tenant_id, g.job_id, g.account_id)) for g in grants
                   if g.source == "customer_code"]
        for start in range(0, len(removes), 100):
            store.write(removes=removes[start:start + 100])


def check_job_ids(account: Account, job_ids: list[str]) -> None:
    """Job ids given to users must name jobs of the tenant; for connected-account users,
    jobs their account has access to."""
    if not job_ids:
        return
    if account.kind == AccountKind.OWNER.value:
        known = {j.job_id for j in store.get_jobs(account.tenant_id, job_ids)}
    else:
        known = {g.job_id for g in store.get_grants(account.tenant_id, account.account_id, job_ids)}
    missing = sorted(set(job_ids) - known)
    if missing:
        raise _invalid("job_ids", f"not a job of this account: {', '.join(missing)}")


def users_on_job(job: Job, owner_account_id: str) -> list[tuple[Account, list[User]]]:
    """The companies on the job (the owner account first) with their active users."""
    grants = [g for g in _grants(job) if not g.expires_at or datetime.fromisoformat(g.expires_at) > clock.now()]
    accounts = store.get_accounts(job.tenant_id, [owner_account_id, *(g.account_id for g in grants)])
    accounts.sort(key=lambda a: (a.account_id != owner_account_id, a.name.lower()))
    return [(a, store.query_all(User, keys.account_users(job.tenant_id, a.account_id), "active#", index="GSI1"))
            for a in accounts if a.status == AccountStatus.ACTIVE.value]


def dashboard(caller: Caller) -> Dashboard:
    """Office dashboard counters over what the caller can see."""
    policy.require(policy.decide(caller, "dashboard.view"))
    reach = policy.decide(caller, "job.view")
    tenant_id = caller.user.tenant_id
    if reach.scope is policy.Scope.ALL:
        active = store.count(keys.tenant_jobs(tenant_id), index="GSI1", status=JobStatus.ACTIVE.value)
    else:
        active = sum(j.status == JobStatus.ACTIVE.value for j in store.get_jobs(tenant_id, caller.user.job_ids))
    return Dashboard(active_jobs=active)
