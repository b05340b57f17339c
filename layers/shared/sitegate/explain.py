"""Why, and who can: why a person can or cannot act on a job (explain), and everyone who can reach it
with what they may do (the access report).

Both answer from `policy.JOB_ACTIONS`, the decisions the routes themselves ask; the facts a decision
rested on are read as the routes read them (`access_store.get_caller_on_job`, the directory's reads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sitegate import clock, directory, policy, spreadsheets
from sitegate.data import access_store, user_store
from sitegate.errors import NotFound, invalid
from sitegate.models.access_reviews import AccessReport, Explanation, PathFact, ReportRow
from sitegate.models.stored import Account, AccountKind, Job, JobGrant, ProjectRole, User
from sitegate.on_job import JobContext
from sitegate.policy import Caller, JobFacts

ACTIONS = tuple(policy.JOB_ACTIONS)
REPORT_COLUMNS = ["user_id", "name", "account_id", "company", "kind", "level", "role", "actions", "paths"]


def _fact(fact: str, value: Any, **details: Any) -> PathFact:
    return PathFact.model_validate({"fact": fact, "value": value, **details})


def _entry_fact(grant: JobGrant | None, fact: str = "entry") -> PathFact:
    if grant is None:
        return _fact(fact, "none")
    return _fact(fact, "live" if policy.grant_live(grant) else "expired", access_type=grant.access_type,
                 expires_at=grant.expires_at, granted_by=grant.granted_by, granted_at=grant.granted_at,
                 source=grant.source)


def _sponsor_fact(account: Account, facts: JobFacts) -> PathFact:
    sponsor = facts.sponsor
    if sponsor is None:
        return _fact("sponsor", None, account_id=policy.guest_sponsor_id(account, facts.grant))
    entry = ("not needed (the owner account is on every job)" if sponsor.kind == AccountKind.OWNER.value
             else _entry_fact(facts.sponsor_grant).value)
    return _fact("sponsor", sponsor.name, account_id=sponsor.account_id, status=sponsor.status, entry=entry)


def path_of(user: User, account: Account, facts: JobFacts, role: ProjectRole | None) -> list[PathFact]:
    """The facts the policy reads about a person on a job, in its order: the user's status and level; its
    account, and its entry on the job (or, for staff, their allocation); the project role; a guest's sponsor."""
    family = policy.level_family(user.level)
    path = [_fact("user", user.status, name=user.name, level=user.level, family=family),
            _fact("account", account.name, account_id=account.account_id, kind=account.kind, status=account.status)]
    if family == "staff":
        scope = policy.STAFF_LEVELS[user.level].get("job.view")
        allocated = "allocated" if facts.job_id in user.job_ids else "not allocated"
        path.append(_fact("allocation", "every job" if scope is policy.Scope.ALL else allocated if scope
                          else "no job.view"))
    elif family == "account":
        path.append(_entry_fact(facts.grant))
        assigned = "assigned" if facts.job_id in user.job_ids else "not assigned"
        path.append(_fact("assignment", "every job of the account" if user.level == "administrator" else assigned))
    path.append(_fact("role", facts.project_role or directory.NOT_ON_JOBSITE, set_by=role.set_by if role else None,
                      set_at=role.set_at if role else None))
    if account.kind == AccountKind.GUEST_CONTRACTOR.value:
        path.append(_sponsor_fact(account, facts))
    return path


def _action(action: str) -> str:
    if action not in policy.JOB_ACTIONS:
        raise invalid("action", f"must be one of {', '.join(ACTIONS)}")
    return action


def _person_on_job(caller: Caller, ctx: JobContext, user_id: str) -> tuple[Caller, JobFacts, ProjectRole | None]:
    """The person asked about, with what the policy knows of them on the job, read as a request of theirs
    would read it (one BatchGetItem; a guest's sponsor with a second)."""
    if user_id == caller.user.user_id:
        return caller, ctx.facts, ctx.own_role
    job = ctx.job
    user = user_store.get_user(job.tenant_id, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    read = access_store.get_caller_on_job(job.tenant_id, user_id, user.account_id, job.job_id)
    if read.user is None or read.account is None:
        raise NotFound(f"user {user_id} not found")
    # About anyone on the job: its staff, and the users of accounts with an entry (live or not) or a role on it.
    if read.account.kind != AccountKind.OWNER.value and read.grant is None and read.role is None:
        raise NotFound(f"user {user_id} is not on this job")
    sponsor, sponsor_grant = None, None
    sponsor_id = policy.guest_sponsor_id(read.account, read.grant)
    if sponsor_id is not None:
        sponsor, sponsor_grant = access_store.get_sponsor_on_job(job.tenant_id, sponsor_id, job.job_id)
    facts = JobFacts(job.job_id, read.grant, read.role.role if read.role else None, sponsor, sponsor_grant)
    return Caller(read.user, read.account), facts, read.role


def explain(caller: Caller, ctx: JobContext, action: str, user_id: str | None) -> Explanation:
    """Why `user_id` (default: the caller) may or may not take `action` on the job: the decision of the
    route, its rule and reason, and the facts it rested on."""
    action = _action(action)
    about = user_id or caller.user.user_id
    policy.require(policy.decide_explain(caller, ctx.facts, about))
    person, facts, role = _person_on_job(caller, ctx, about)
    decision = policy.decide_job_action(person, action, facts)
    return Explanation(user_id=about, job_id=ctx.job.job_id, action=action, allowed=decision.allowed,
                       rule=decision.rule, reason=decision.reason,
                       path=path_of(person.user, person.account, facts, role))


def _row(person: directory.Person) -> ReportRow:
    caller = Caller(person.user, person.account)
    decisions = {action: policy.decide_job_action(caller, action, person.facts) for action in ACTIONS}
    allowed = [action for action, d in decisions.items() if d]
    return ReportRow(user_id=person.user.user_id, name=person.user.name, account_id=person.account.account_id,
                     company=person.account.name, kind=person.account.kind, level=person.user.level,
                     role=person.facts.project_role or directory.NOT_ON_JOBSITE, actions=allowed,
                     paths={action: f"{decisions[action].rule}: {decisions[action].reason}" for action in allowed})


def report_rows(job: Job, instant: datetime, granted_before: datetime | None = None) -> list[ReportRow]:
    """Everyone who can reach the job at `instant`, each with the actions they may take and the path of
    each. Reads the job's roles, its access list and its companies' users (`directory.people_on_job`):
    a cost that grows with the job's people, not the tenant's. An entry granted after `granted_before` is left out."""
    roles = {r.user_id: r.role for r in access_store.job_roles(job.tenant_id, job.job_id)}
    with policy.at(instant):
        people = directory.people_on_job(job, roles, granted_before=granted_before)
        return [_row(p) for p in people]


def instant_of(at: str | None) -> datetime | None:
    """`at` as an instant: ISO-8601 with an offset (the route's pattern), within the calendar, else 422."""
    if at is None:
        return None
    try:
        instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            raise ValueError("no offset")
        return instant.astimezone(UTC)
    except (ValueError, OverflowError):
        raise invalid("at", "an instant with its offset, like 2026-12-31T00:00:00+13:00, within the calendar") from None


def access_report(caller: Caller, ctx: JobContext, at: str | None) -> AccessReport:
    policy.require(policy.decide_access_report(caller, ctx.facts))
    now = clock.now()
    instant = instant_of(at) or now
    # A past instant leaves out entries granted after it (today's list, evaluated then); now or later, none.
    return AccessReport(job_id=ctx.job.job_id, at=instant.isoformat(timespec="seconds"),
                        items=report_rows(ctx.job, instant, granted_before=instant if instant < now else None))


def report_csv(report: AccessReport) -> str:
    """One row per person; `actions` space-separated, `paths` as `action: rule: reason` joined by ` | `."""
    return spreadsheets.csv_text(REPORT_COLUMNS, (
        [r.user_id, r.name, r.account_id, r.company, r.kind, r.level, r.role, " ".join(r.actions),
         " | ".join(f"{a}: {p}" for a, p in r.paths.items())] for r in report.items))
