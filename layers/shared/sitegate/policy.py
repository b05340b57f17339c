"""Who may do what: the tables of docs/DOMAIN.md as data, and one decision function.

Each table below is written to read like its table in docs/DOMAIN.md. `decide` walks a short
list of named rules and returns the decision *and the reason*; every route asks
it, and nothing else in SiteGate decides access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from sitegate import clock
from sitegate.errors import Forbidden
from sitegate.models.stored import Account, AccountKind, AccountStatus, JobGrant, User, UserStatus


class Scope(str, Enum):
    """How far an allowed capability reaches."""

    ALL = "all"  # every job of the tenant / every setting
    ALLOCATED = "allocated"  # staff: only the jobs the user is allocated to
    NORMAL = "normal"  # settings: only the non-sensitive keys
    ACCOUNT = "account"  # account users: every job the account has access to
    ASSIGNED = "assigned"  # account users: only the user's assigned jobs (`job_ids`)
    BASIC_ONLY = "basic_only"  # managers: may create basic users only
    TENANT = "tenant"  # lists: everything of the tenant
    SPONSORED = "sponsored"  # account lists: the caller's own account and the guest contractors it sponsors
    SELF = "self"  # lists: the caller's own user / own account only


def _rows(table: str, keys: int = 1) -> dict[Any, dict[str, str]]:
    """The one reader of every table below: a header row naming the key column(s) and the columns,
    then one row per key with a cell in every column ("-" is no). {key: {column: cell}}, in the
    table's order; a key of several columns is a tuple. A ragged or repeated row fails at import."""
    header, *body = (line.split() for line in table.strip().splitlines())
    columns = header[keys:]
    parsed: dict[Any, dict[str, str]] = {}
    for row in body:
        key = row[0] if keys == 1 else tuple(row[:keys])
        if len(row) != len(header):
            raise ValueError(f"row {key!r} has {len(row) - keys} cells for {len(columns)} columns")
        if key in parsed:
            raise ValueError(f"row {key!r} is written twice")
        parsed[key] = dict(zip(columns, row[keys:], strict=True))
    return parsed


def _by_column(table: str, cell: dict[str, Scope]) -> dict[str, dict[str, Scope]]:
    """A `capability x level` table read by column: {level: {capability: scope}}, "-" cells left out."""
    rows = _rows(table)
    columns = list(next(iter(rows.values())))
    return {column: {capability: cell[cells[column]] for capability, cells in rows.items() if cells[column] != "-"}
            for column in columns}


# Staff levels (owner-account users); docs/DOMAIN.md "Staff levels". "-" is no.
STAFF_TABLE = """
capability           view_user basic_user basic_user_plus tmp_designer tmp_designer_plus operations_user invoicing super_admin
time.record          -         yes        yes             yes          yes               yes             yes       yes
equipment.record     -         yes        yes             yes          yes               yes             yes       yes
job.view             all       allocated  all             allocated    all               all             all       all
job.add              -         -          -               yes          yes               yes             -         yes
job.edit             -         -          -               allocated    all               all             all       all
job.archive          -         -          -               -            -                 -               -         yes
job.delete           -         -          -               -            -                 -               -         yes
dashboard.view       -         -          -               yes          yes               yes             yes       yes
financial.view       -         -          -               -            -                 -               yes       yes
settings.view        -         -          -               -            -                 normal          all       all
settings.edit        -         -          -               -            -                 normal          all       all
resources.view       -         -          -               -            -                 yes             yes       yes
resources.edit       -         -          -               -            -                 yes             yes       yes
user.add             -         -          -               -            -                 yes             -         yes
user.edit            -         -          -               -            -                 yes             -         yes
user.reset_password  -         -          -               -            -                 yes             -         yes
user.delete          -         -          -               -            -                 -               -         yes
client.add_edit      -         -          -               -            -                 yes             yes       yes
client.archive       -         -          -               -            -                 -               -         yes
audit.view           -         -          -               -            -                 -               -         yes
"""
STAFF_LEVELS = _by_column(
    STAFF_TABLE, {"yes": Scope.ALL, "all": Scope.ALL, "allocated": Scope.ALLOCATED, "normal": Scope.NORMAL}
)
STAFF_LEVEL_ORDER = list(STAFF_LEVELS)
STAFF_CAPABILITIES = list(_rows(STAFF_TABLE))

BILLING_TIER = {
    level: ("field" if level in ("view_user", "basic_user", "basic_user_plus") else "office")
    for level in STAFF_LEVELS
}

# Account levels (users of every other account); docs/DOMAIN.md "Account levels".
ACCOUNT_TABLE = """
capability        administrator manager    basic
job.view          account       assigned   assigned
records.view      account       assigned   -
request.create    account       assigned   assigned
request.view_all  account       assigned   -
user.view         account       assigned   -
user.add          yes           basic_only -
user.edit         yes           -          -
user.reset_password yes         -          -
user.delete       yes           -          -
guest.create      yes           flag       -
guest.grant       yes           -          -
access.view_own   yes           -          -
audit.view_own    yes           -          -
"""
ACCOUNT_LEVELS = _by_column(
    ACCOUNT_TABLE,
    {"yes": Scope.ALL, "account": Scope.ACCOUNT, "assigned": Scope.ASSIGNED, "basic_only": Scope.BASIC_ONLY,
     "flag": Scope.ALL},
)
ACCOUNT_LEVEL_ORDER = list(ACCOUNT_LEVELS)
# "flag" cells: allowed only when the user carries this flag.
ACCOUNT_FLAGS = {("manager", "guest.create"): "can_create_guests"}

# Platform operators create tenants, set each one's rates and the supplier printed on every invoice.
PLATFORM_LEVELS = {"platform_operator": {"tenant.create": Scope.ALL, "tenant.billing": Scope.ALL,
                                          "supplier.edit": Scope.ALL}}

# Access types for inspection firms and project owners (docs/DOMAIN.md); customers
# get ticket access and truck ETAs for their jobs.
ACCESS_TYPE_TABLE = """
feature         ticket_taker standard limited customer
tickets.unload  yes          -        -       -
tickets.etas    yes          yes      -       yes
tickets.view    yes          yes      yes     yes
"""
ACCESS_FEATURES = _by_column(ACCESS_TYPE_TABLE, {"yes": Scope.ALL})
ACCESS_TYPES = [t for t in ACCESS_FEATURES if t != "customer"]
KINDS_NEEDING_ACCESS_TYPE = {AccountKind.INSPECTION_FIRM.value, AccountKind.PROJECT_OWNER.value}
# Staff who can view a job see its tickets, truck ETAs and records; creating, changing and
# unloading tickets needs job.edit on the job. (Project pages: `_staff_project_pages`.)
STAFF_FEATURE_CAPABILITY = {"job.reach": "job.view", "tickets.view": "job.view", "tickets.etas": "job.view",
                            "records.view": "job.view", "tickets.edit": "job.edit", "tickets.unload": "job.edit"}

# Project roles on a job (docs/DOMAIN.md): who sees project pages.
ROLE_TABLE = """
capability     lead member alerts_only not_on_jobsite
project.view   yes  yes    -           -
alerts.receive yes  yes    yes         -
"""
PROJECT_ROLES = _by_column(ROLE_TABLE, {"yes": Scope.ALL})

# Which world a company lives in (docs/DOMAIN.md). `portal` companies (SOP and the Customer Portal)
# get the job from their entry and their account level; `plot` companies' entry only lists their
# users in the job's directory, and the job and its project pages come from a lead or member role.
# Records and job requests are the customers' (requests also the guests a customer sponsors:
# `sponsor`). "-" is no.
COMPANY_TABLE = """
kind              world   records.view  requests
customer          portal  yes           yes
inspection_firm   portal  -             -
project_owner     portal  -             -
guest_contractor  portal  -             sponsor
trade_contractor  plot    -             -
vendor            plot    -             -
"""
COMPANY_WORLDS = _rows(COMPANY_TABLE)
REQUEST_ACTIONS = frozenset({"request.create", "request.view_all"})

SENSITIVE_SETTINGS = frozenset({"system_settings", "vehicle_check_items", "hazard_register_items",
                                "daily_check_list_items", "audit_retention_days"})
NORMAL_SETTINGS = frozenset({"job_booking_fields", "tmp_templates", "tmp_library", "special_event_dates"})


def level_family(level: str) -> str:
    if level in STAFF_LEVELS:
        return "staff"
    if level in ACCOUNT_LEVELS:
        return "account"
    if level in PLATFORM_LEVELS:
        return "platform"
    raise ValueError(f"unknown level {level!r}")


def capabilities_of(level: str) -> dict[str, Scope]:
    return {"staff": STAFF_LEVELS, "account": ACCOUNT_LEVELS, "platform": PLATFORM_LEVELS}[level_family(level)][level]


def within(granted_level: str, granter_level: str) -> bool:
    """No escalation: every capability of `granted_level` is within the granter's own."""
    if granter_level == "super_admin":
        return True
    mine = capabilities_of(granter_level)
    rank = {Scope.ALLOCATED: 1, Scope.NORMAL: 1, Scope.ALL: 2}
    return all(
        capability in mine and rank.get(mine[capability], 0) >= rank.get(scope, 0)
        for capability, scope in capabilities_of(granted_level).items()
    )


@dataclass(frozen=True)
class Caller:
    """The policy's view of who asks: the user and its account, as stored."""

    user: User
    account: Account


@dataclass(frozen=True)
class JobFacts:
    """What a request knows about the job it touches (read with one call; a guest's sponsor with a second)."""

    job_id: str
    grant: JobGrant | None = None  # the caller's account's entry on the access list
    project_role: str | None = None  # lead | member | alerts_only | not_on_jobsite
    # Guest contractors only: their sponsor account and the sponsor's own entry on the job.
    sponsor: Account | None = None
    sponsor_grant: JobGrant | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # the name of the rule that decided
    reason: str
    scope: Scope | None = None  # for an allowed list action: how far it reaches

    def __bool__(self) -> bool:
        return self.allowed


D = TypeVar("D", bound=Decision)


def require(decision: D) -> D:
    """A denial becomes 403 naming its rule and reason."""
    if not decision:
        raise Forbidden(f"not allowed: {decision.reason}", rule=decision.rule)
    return decision


def _deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


def _allow(rule: str, reason: str, scope: Scope) -> Decision:
    return Decision(True, rule, reason, scope)


# The instant decisions are made at: now, unless an access report asks about a later one (`at`).
_instant: ContextVar[datetime | None] = ContextVar("sitegate_policy_instant", default=None)


def _now() -> datetime:
    return _instant.get() or clock.now()


@contextmanager
def at(instant: datetime) -> Iterator[None]:
    """Every decision inside is made as of `instant` (entries expiring before it no longer grant)."""
    token = _instant.set(instant)
    try:
        yield
    finally:
        _instant.reset(token)


def standing(caller: Caller) -> Decision:
    """Only active users of active accounts get anything: checked on every request."""
    if caller.user.status != UserStatus.ACTIVE.value:
        return _deny("inactive-user", f"{caller.user.name} is {caller.user.status}")
    if caller.account.status != AccountStatus.ACTIVE.value:
        return _deny("archived-account", f"{caller.account.name}, the user's account, is archived")
    return _allow("active", "an active user of an active account", Scope.ALL)


def decide(
    caller: Caller,
    action: str,
    *,
    job: JobFacts | None = None,
    setting: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide whether `caller` may do `action` (on `job`, or on `setting`). Denied by default."""
    now = now or _now()  # an expired grant never counts, whoever forgets to pass the time
    user, account = caller.user, caller.account
    active = standing(caller)
    if not active:
        return active
    family = level_family(user.level)
    if family == "platform":
        return _platform(user, action)
    if account.kind == AccountKind.OWNER.value and family == "staff":
        return _staff(user, action, job, setting)
    if account.kind != AccountKind.OWNER.value and family == "account":
        return _account_user(user, account, action, job, now)
    return _deny("level-mismatch", f"level {user.level} does not belong to a {account.kind} account")


def _platform(user: User, action: str) -> Decision:
    if action in PLATFORM_LEVELS[user.level]:
        return _allow("platform-allows", f"{user.level} may {action}", Scope.ALL)
    return _deny("platform-lacks", f"{user.level} may not {action}")


def _staff(user: User, action: str, job: JobFacts | None, setting: str | None) -> Decision:
    if action == "project.view" and job is not None:
        return _staff_project_pages(user, job)
    capability = STAFF_FEATURE_CAPABILITY.get(action, action)
    scope = STAFF_LEVELS[user.level].get(capability)
    if scope is None:
        return _deny("staff-lacks", f"{user.level} lacks {capability}")
    if scope is Scope.ALLOCATED and job is not None and job.job_id not in user.job_ids:
        return _deny("staff-allocation", f"{user.name} is not allocated to this job, and {user.level} has "
                                         f"{capability} only on allocated jobs")
    if setting is not None and setting in SENSITIVE_SETTINGS and scope is not Scope.ALL:
        return _deny("sensitive-setting", f"{setting} is a sensitive setting")
    return _allow("staff-allows", f"{user.level} has {capability} ({scope.value})", scope)


def _staff_project_pages(user: User, job: JobFacts) -> Decision:
    """Staff see a job's project pages with job.edit on it (they run the job), or as its lead or member
    (the project roles table): alerts_only and not_on_jobsite staff see the public portal only."""
    if _staff(user, "job.edit", job, None):
        return _allow("staff-project-editor", f"{user.level} has job.edit on this job", Scope.ALL)
    view = _staff(user, "job.view", job, None)
    if not view:
        return view
    role = job.project_role or "not_on_jobsite"
    if "project.view" in PROJECT_ROLES.get(role, {}):
        return _allow("staff-project-role", f"{user.level} is a {role} of this job", Scope.ALL)
    return _deny("staff-project-role-lacks", f"{role} staff without job.edit see no project pages")


def _account_user(user: User, account: Account, action: str, job: JobFacts | None, now: datetime) -> Decision:
    if job is not None:
        reach = _job_reach(user, account, job, now)
        if not reach.allowed or action == "job.reach":
            return reach
        world = _world(account, job)
        if world is None:
            return _deny("no-world", f"{account.kind} accounts reach no job")
        on_job = (_plot_company if world == "plot" else _portal_company)(account, action, job)
        if on_job is not None:
            return on_job
    scope = ACCOUNT_LEVELS[user.level].get(action)
    if scope is None:
        return _deny("account-lacks", f"{user.level} lacks {action}")
    flag = ACCOUNT_FLAGS.get((user.level, action))
    if flag and not getattr(user, flag):
        return _deny("account-flag", f"{user.level} needs {flag} for {action}")
    return _allow("account-allows", f"{user.level} has {action} ({scope.value})", scope)


def _world(account: Account, job: JobFacts) -> str | None:
    """The world a company lives in on a job (COMPANY_TABLE); a guest lives in its sponsor's when that
    is a trade's or a vendor's, so a guest never gets more of the job than its sponsor could."""
    world = COMPANY_WORLDS.get(account.kind, {}).get("world")
    if account.kind == AccountKind.GUEST_CONTRACTOR.value and job.sponsor is not None:
        sponsor_world = COMPANY_WORLDS.get(job.sponsor.kind, {}).get("world")
        return "plot" if sponsor_world == "plot" else world
    return world


def _portal_company(account: Account, action: str, job: JobFacts) -> Decision | None:
    """A customer, inspection firm, project owner or guest on a job it reaches: tickets by access type,
    project pages by role, records and requests by COMPANY_TABLE; None leaves it to the account level."""
    if action in ACCESS_FEATURES["ticket_taker"]:
        return _access_feature(account, action, job)
    if action in PROJECT_ROLES["lead"]:
        return project_role_allows(job.project_role or "not_on_jobsite", action)
    return _customers_only(account, action, job)


def _plot_company(account: Account, action: str, job: JobFacts) -> Decision | None:
    """A trade contractor or vendor on a job: its entry lists its users in the directory; the job itself
    and its project pages need a lead or member role (alerts follow the roles table); never tickets,
    records or job requests. None leaves the rest (its own users, its guests) to the account level."""
    role = job.project_role or "not_on_jobsite"
    if action in PROJECT_ROLES["lead"]:
        return project_role_allows(role, action)
    if "project.view" not in PROJECT_ROLES.get(role, {}):
        return _deny("plot-needs-role", f"{role} users of a {account.kind.replace('_', ' ')} see only the job's "
                                        "public portal until a GC lead makes them a lead or member")
    if action == "job.view":
        return _allow("plot-role", f"a {role} of a {account.kind.replace('_', ' ')} sees the job", Scope.ASSIGNED)
    if action in ACCESS_FEATURES["ticket_taker"]:
        return _access_feature(account, action, job)
    return _customers_only(account, action, job)


def _customers_only(account: Account, action: str, job: JobFacts) -> Decision | None:
    """Records and job requests by COMPANY_TABLE; None for any other action."""
    if action == "records.view" and COMPANY_WORLDS[account.kind]["records.view"] != "yes":
        return _deny("records-customers-only", "records are read by the customers' administrators and managers")
    if action in REQUEST_ACTIONS and not _makes_requests(account, job):
        return _deny("requests-customers-only", "job requests are made by customers and the guests they sponsor")
    return None


def _makes_requests(account: Account, job: JobFacts) -> bool:
    cell = COMPANY_WORLDS[account.kind]["requests"]
    if cell == "sponsor":  # a guest, through its sponsor (read with the job: JobFacts.sponsor)
        return job.sponsor is not None and COMPANY_WORLDS.get(job.sponsor.kind, {}).get("requests") == "yes"
    return cell == "yes"


def grant_live(grant: JobGrant | None, now: datetime | None = None) -> bool:
    """The one liveness rule of an access-list entry: it grants until its `expires_at`, and an entry
    expiring exactly `now` no longer does; one without an expiry never ends. No entry is not live."""
    if grant is None:
        return False
    return not grant.expires_at or datetime.fromisoformat(str(grant.expires_at)) > (now or _now())


def _ended(grant: JobGrant) -> str:
    """When an expired entry ended, in words: "on 2026-11-30 (at 11:00:00 UTC)"."""
    end = datetime.fromisoformat(str(grant.expires_at)).astimezone(UTC)
    return f"on {end.date().isoformat()} (at {end.strftime('%H:%M:%S')} UTC)"


def _job_reach(user: User, account: Account, job: JobFacts, now: datetime) -> Decision:
    """An account user reaches a job only through its account's unexpired entry,
    narrowed by level (administrator: every such job; manager/basic: assigned).
    A guest's entry never outlives its sponsor's (PRODUCT "Guests")."""
    grant = job.grant
    if grant is None or grant.account_id != account.account_id:
        return _deny("no-grant", f"{account.name} has no entry on this job's access list")
    if not grant_live(grant, now):
        return _deny("grant-expired", f"{account.name}'s entry expired {_ended(grant)}")
    if account.kind == AccountKind.GUEST_CONTRACTOR.value:
        sponsored = _guest_sponsor_live(account, grant, job, now)
        if not sponsored:
            return sponsored
    if user.level != "administrator" and job.job_id not in user.job_ids:
        return _deny("job-not-assigned", f"{user.name} is not assigned to this job, and a {user.level} reaches "
                                         "only its assigned jobs")
    return _allow("grant", f"{account.name} has a live entry on this job", Scope.ASSIGNED)


def _guest_sponsor_live(account: Account, grant: JobGrant, job: JobFacts, now: datetime) -> Decision:
    """A guest contractor reaches a job only while its sponsor does: the sponsor account active and
    (unless it is the owner account, on every job) its own entry on the job present and unexpired."""
    sponsor_id = guest_sponsor_id(account, grant)
    if sponsor_id is None:  # a guest contractor added by staff, sponsored by nobody
        return _allow("guest-unsponsored", "a guest contractor without a sponsor", Scope.ALL)
    sponsor = job.sponsor
    if sponsor is None or sponsor.account_id != sponsor_id or sponsor.status != AccountStatus.ACTIVE.value:
        return _deny("guest-sponsor-inactive", f"{account.name}'s sponsor account is archived or unknown")
    if sponsor.kind == AccountKind.OWNER.value:
        return _allow("guest-sponsor-owner", "the owner account is on every job", Scope.ALL)
    entry = job.sponsor_grant
    if entry is None or entry.account_id != sponsor_id or not grant_live(entry, now):
        why = "has no entry on this job" if entry is None or entry.account_id != sponsor_id else \
            f"has an entry that expired {_ended(entry)}"
        return _deny("guest-sponsor-off-job", f"{account.name}'s sponsor {sponsor.name} {why}")
    return _allow("guest-sponsor-on-job", f"{account.name}'s sponsor {sponsor.name} has a live entry on this job",
                  Scope.ALL)


def guest_sponsor_id(account: Account, grant: JobGrant | None) -> str | None:
    """Whose access a guest contractor's rides on: the sponsor its entry records, else its account's own.
    None for every other kind. Readers fetch this sponsor's account and entry for JobFacts."""
    if account.kind != AccountKind.GUEST_CONTRACTOR.value:
        return None
    return (grant.sponsor_account_id if grant else None) or account.sponsor_account_id


def _access_feature(account: Account, action: str, job: JobFacts) -> Decision:
    grant = job.grant
    assert grant is not None  # checked by _job_reach
    if account.kind == AccountKind.CUSTOMER.value:
        column = "customer"
    elif account.kind in KINDS_NEEDING_ACCESS_TYPE and grant.access_type in ACCESS_FEATURES:
        column = grant.access_type
    else:
        return _deny("access-type-none", f"{account.kind} accounts get no e-ticket access")
    if action in ACCESS_FEATURES[column]:
        return _allow("access-type-allows", f"{column} access includes {action}", Scope.ALL)
    return _deny("access-type-lacks", f"{column} access does not include {action}")


def project_role_allows(role: str, capability: str) -> Decision:
    """Project pages and alerts by project role (the project directory)."""
    if capability in PROJECT_ROLES.get(role, {}):
        return _allow("role-allows", f"{role} has {capability}", Scope.ALL)
    return _deny("role-lacks", f"{role} lacks {capability}")


def roles_with(capability: str) -> frozenset[str]:
    """The project roles ROLE_TABLE gives `capability` (alerts.receive: the roles an alert's roll-call reads)."""
    return frozenset(role for role, held in PROJECT_ROLES.items() if capability in held)


# Acting on a user: the capability each action needs, per caller family.
USER_ACTION_TABLE = """
action               staff                account
user.view            resources.view       user.view
user.add             user.add             user.add
user.edit            user.edit            user.edit
user.disable         user.edit            user.edit
user.enable          user.edit            user.edit
user.reset_password  user.reset_password  user.reset_password
user.delete          user.delete          user.delete
"""
USER_ACTIONS = _rows(USER_ACTION_TABLE)
# The master administrator cannot be disabled, deleted or demoted by its own account's users.
MASTER_PROTECTED = frozenset({"user.disable", "user.delete", "user.demote"})


def decide_on_user(caller: Caller, action: str, target: User, target_account: Account, *,
                   level: str | None = None, job_ids: list[str] | None = None) -> Decision:
    """May `caller` do `action` to `target` (for user.add: the user about to be made),
    giving it `level` and `job_ids` when those change?"""
    me = caller.user
    active = standing(caller)
    if not active:
        return active
    if action == "user.view" and target.user_id == me.user_id:
        return _allow("self-view", "users see themselves", Scope.SELF)
    if action == "user.edit_self":  # PATCH /me: name and phone only
        if target.user_id == me.user_id:
            return _allow("self-edit", "users set their own name and phone", Scope.SELF)
        return _deny("self-edit-others", "user.edit_self changes only the caller itself")
    family = level_family(me.level)
    if family == "platform" or action not in USER_ACTIONS:
        return _deny("user-actions", f"{me.level} may not {action}")
    base = decide(caller, USER_ACTIONS[action][family])
    if not base:
        return base
    if target.user_id == me.user_id and action in ("user.disable", "user.delete"):
        return _deny("self-lockout", "users may not disable or delete themselves")
    demotes = level is not None and level != target.level and action != "user.add"
    others = target.user_id != me.user_id
    if target.is_master and target.account_id == me.account_id and ((others and action in MASTER_PROTECTED) or demotes):
        return _deny("master-protected", "the master administrator cannot be disabled, deleted or demoted "
                                         "by its own account, itself included")
    if family == "staff":
        return _staff_on_user(caller, action, target, target_account, level, base)
    return _account_user_on_user(caller, action, target, target_account, level, job_ids, base)


def _staff_on_user(caller: Caller, action: str, target: User, target_account: Account, level: str | None,
                   base: Decision) -> Decision:
    me = caller.user
    if target_account.kind == AccountKind.OWNER.value and action != "user.view":
        if action != "user.add" and not within(target.level, me.level):
            return _deny("above-caller", f"{me.level} may not act on a {target.level}")
        if level is not None and not within(level, me.level):
            return _deny("no-escalation", f"{me.level} may not give the level {level}")
    return base


def _account_user_on_user(caller: Caller, action: str, target: User, target_account: Account, level: str | None,
                          job_ids: list[str] | None, base: Decision) -> Decision:
    me = caller.user
    own = target_account.account_id == me.account_id
    sponsored = (target_account.kind == AccountKind.GUEST_CONTRACTOR.value
                 and target_account.sponsor_account_id == me.account_id)
    if not own and not sponsored:
        return _deny("other-account", "users of other accounts are out of reach")
    if sponsored and me.level == "manager" and not me.can_create_guests:
        return _deny("guest-users-need-flag", "manager needs can_create_guests for guest users")
    # Managers see the users of their jobs, and their account's administrators.
    if base.scope is Scope.ASSIGNED and not set(target.job_ids) & set(me.job_ids) and not (
            own and target.level == "administrator"):
        return _deny("shares-no-job", f"{target.name} shares no job with this {me.level}")
    if base.scope is Scope.BASIC_ONLY:
        if (level or target.level) != "basic":
            return _deny("basic-only", f"{me.level} may only create basic users")
        if not set(job_ids or []) <= set(me.job_ids):
            return _deny("assigns-own-jobs-only", f"{me.level} may only assign its own jobs")
    return base


# Acting on an account (connected companies): the capability each action needs.
ACCOUNT_ACTION_TABLE = """
action           staff            account
account.view     resources.view   -
account.create   client.add_edit  guest.create
account.edit     client.add_edit  -
account.archive  client.archive   -
"""
ACCOUNT_ACTIONS = _rows(ACCOUNT_ACTION_TABLE)


def decide_on_account(caller: Caller, action: str, target: Account) -> Decision:
    """May `caller` do `action` to the account `target` (for account.create: the one about to be made)?"""
    me = caller.user
    active = standing(caller)
    if not active:
        return active
    if action == "account.view" and target.account_id == me.account_id:
        return _allow("own-account", "users see their own account", Scope.SELF)
    family = level_family(me.level)
    if action == "account.view" and family == "account" and target.sponsor_account_id == me.account_id:
        return _sponsor(caller)  # the guest contractors this account created
    capability = ACCOUNT_ACTIONS.get(action, {}).get(family, "-")
    if family == "platform" or capability == "-":
        return _deny("account-actions", f"{me.level} may not {action}")
    if family == "account" and capability == "guest.create":
        return _sponsor(caller) if target.kind == AccountKind.GUEST_CONTRACTOR.value else _deny(
            "account-users-create-guests-only", "account users may only create guest contractor accounts")
    return decide(caller, capability)


def _sponsor(caller: Caller) -> Decision:
    """Does the caller act for its account as the sponsor of guest contractors (creating them and
    seeing them)? Administrators, and managers with can_create_guests, of a non-guest account."""
    if caller.account.kind == AccountKind.GUEST_CONTRACTOR.value:
        return _deny("guests-sponsor-no-guests", "users of a guest contractor account create no accounts")
    return decide(caller, "guest.create")


def decide_user_list(caller: Caller, *, whole_tenant: bool) -> Decision:
    """How far `GET /users` reaches for `caller`: the whole tenant (staff asking for no account in
    particular), a whole account, the users sharing a job with the caller (managers: each
    listed user is decided with decide_on_user), or only the caller itself."""
    active = standing(caller)
    if not active:
        return active
    family = level_family(caller.user.level)
    base = decide(caller, USER_ACTIONS["user.view"][family]) if family != "platform" else None
    if not base:
        return _allow("list-self", f"{caller.user.level} lists only itself", Scope.SELF)
    if family == "staff":
        scope = Scope.TENANT if whole_tenant else Scope.ACCOUNT
        return _allow("staff-list-users", f"{caller.user.level} lists users of the {scope.value}", scope)
    if base.scope is Scope.ACCOUNT:
        return _allow("account-list-users", f"{caller.user.level} lists users of the account", Scope.ACCOUNT)
    return _allow("account-list-assigned", f"{caller.user.level} lists users sharing its jobs", Scope.ASSIGNED)


def decide_account_list(caller: Caller) -> Decision:
    """How far `GET /accounts` reaches for `caller`: every account of the tenant (staff with the
    view capability), its own account and the guest contractors it sponsors, or its own account."""
    active = standing(caller)
    if not active:
        return active
    family = level_family(caller.user.level)
    capability = ACCOUNT_ACTIONS["account.view"].get(family, "-")
    if family == "staff" and decide(caller, capability):
        return _allow("staff-list-accounts", f"{caller.user.level} lists every account", Scope.TENANT)
    if family == "account" and _sponsor(caller):
        return _allow("sponsor-list-accounts", "sponsors list their own account and their guests", Scope.SPONSORED)
    return _allow("list-own-account", f"{caller.user.level} lists only its own account", Scope.SELF)


def decide_on_grant(caller: Caller, job: JobFacts, target: Account) -> Decision:
    """May `caller` add or remove `target` on the job's access list? Staff with job.edit on the job;
    GC leads for trades and vendors; account administrators for the guest contractors their account
    sponsors, on jobs their account reaches (they may always remove them). Guests grant nothing."""
    me = caller.user
    if level_family(me.level) == "staff":
        edit = decide(caller, "job.edit", job=job)
        if not edit and target.kind in GC_LEAD_GRANTS and _is_gc_lead(caller, job):
            return _allow("grant-gc-lead", f"GC leads put {target.kind.replace('_', ' ')}s on their job", Scope.ALL)
        return edit
    if caller.account.kind == AccountKind.GUEST_CONTRACTOR.value:
        return _deny("guests-grant-nothing", "guest contractors do not sponsor guests")
    if target.kind != AccountKind.GUEST_CONTRACTOR.value or target.sponsor_account_id != me.account_id:
        return _deny("grant-own-guests-only", "account administrators grant only the guest contractors they created")
    return decide(caller, "guest.grant", job=job)


# The kinds a GC lead puts on (and takes off) its job's access list: the companies of the project directory.
GC_LEAD_GRANTS = frozenset({AccountKind.TRADE_CONTRACTOR.value, AccountKind.VENDOR.value})


def _is_gc_lead(caller: Caller, job: JobFacts) -> bool:
    """A lead of the GC on this job: an owner-account user whose role is lead and who sees its project pages."""
    return (caller.account.kind == AccountKind.OWNER.value and job.project_role == "lead"
            and bool(decide(caller, "project.view", job=job)))


def decide_access_list(caller: Caller, job: JobFacts) -> Decision:
    """How far `GET /jobs/{id}/access` reaches for `caller`: the whole list for staff with job.edit and
    GC leads (Scope.ALL); an account administrator who sees the job reads its own account's entry and
    those of the guests it sponsors (Scope.SPONSORED); nobody else reads it."""
    if decide(caller, "job.edit", job=job):
        return _allow("access-list-job-edit", "staff with job.edit read the access list", Scope.ALL)
    if _is_gc_lead(caller, job):
        return _allow("access-list-gc-lead", "GC leads read the access list", Scope.ALL)
    if level_family(caller.user.level) == "account" and decide(caller, "access.view_own", job=job):
        return _allow("access-list-own-entry", "an account administrator reads its own entry and its guests'",
                      Scope.SPONSORED)
    return _deny("access-list-hidden", "the access list is read by staff with job.edit, GC leads and, for their "
                                       "own entry, account administrators")


def entries_in_sight(caller: Caller, reach: Decision, grants: list[JobGrant]) -> list[JobGrant]:
    """The access-list entries `reach` (decide_access_list) shows: all, or the caller's account's own
    entry and those of the guests it sponsors."""
    if reach.scope is Scope.ALL:
        return grants
    mine = caller.account.account_id
    return [g for g in grants if g.account_id == mine or g.sponsor_account_id == mine]


def decide_on_role(caller: Caller, job: JobFacts, target: User) -> Decision:
    """May `caller` set `target`'s project role on the job? Staff with job.edit and GC leads
    set anyone's; a trade lead sets those of its own company (the project directory)."""
    me, account = caller.user, caller.account
    setter = decide_role_setter(caller, job)
    if not setter or setter.rule == "role-setter-job-edit":
        return setter
    if account.kind == AccountKind.OWNER.value:
        return _allow("gc-lead", "GC leads set roles on their job", Scope.ALL)
    if account.kind == AccountKind.TRADE_CONTRACTOR.value and target.account_id == me.account_id:
        return _allow("trade-lead", "trade leads set roles of their own company", Scope.ALL)
    return _deny("role-setters-own-company", "a trade lead sets roles of its own company only")


def decide_role_setter(caller: Caller, job: JobFacts) -> Decision:
    """Does `caller` set project roles on the job at all (staff with job.edit, or a lead)?"""
    if decide(caller, "job.edit", job=job):
        return _allow("role-setter-job-edit", "staff with job.edit set roles", Scope.ALL)
    if job.project_role == "lead" and decide(caller, "project.view", job=job):
        return _allow("role-setter-lead", "leads set roles", Scope.ALL)
    return _deny("role-setters-lead-or-editor", "only GC leads, trade leads and staff with job.edit set roles")


def decide_on_prices(caller: Caller) -> Decision:
    """Cost and charge prices: only callers with financial.view see them or set them."""
    if decide(caller, "financial.view"):
        return _allow("prices-financial-view", "financial.view shows and sets cost and charge prices", Scope.ALL)
    return _deny("prices-need-financial-view", "cost and charge prices need financial.view")


def decide_directory_member(person: Caller, job: JobFacts) -> Decision:
    """Is `person` listed in the job's directory (and may it be given a role)? Only people who can
    reach the job: staff who can view it, users of accounts with a live entry narrowed by level,
    guests while their sponsor's entry is live."""
    reach = decide(person, "job.reach", job=job)
    if reach:
        return _allow("directory-reach", f"{person.user.name} can reach this job", Scope.ALL)
    return reach


def decide_contacts(caller: Caller, job: JobFacts) -> Decision:
    """Does the directory show `caller` people's email and phone? GC leads and staff with job.edit only."""
    if decide(caller, "job.edit", job=job):
        return _allow("contacts-job-edit", "staff with job.edit see contact details", Scope.ALL)
    if caller.account.kind == AccountKind.OWNER.value and job.project_role == "lead" and standing(caller):
        return _allow("contacts-gc-lead", "GC leads see contact details", Scope.ALL)
    return _deny("contacts-hidden", "contact details are shown to GC leads and staff with job.edit")


# ------------------------------------------------------------ notifications: jobsite alerts
# Who sends a job's alerts and sees their roll-call, and who acknowledges one (docs/DOMAIN.md
# "Notifications and acknowledgments"). Columns: a GC lead (an owner-account user whose role on the
# job is lead), staff with job.edit on the job, a recipient of the alert. "-" is no.
ALERT_TABLE = """
action        gc_lead job_edit recipient
alert.send    yes     yes      -
alert.view    yes     yes      -
alert.close   yes     yes      -
alert.ack     -       -        yes
alert.ack_for yes     -        -
"""
ALERT_ACTIONS = _rows(ALERT_TABLE)


def decide_on_alerts(caller: Caller, job: JobFacts, action: str, recipients: frozenset[str] = frozenset()) -> Decision:
    """May `caller` do `action` (alert.send, alert.view, alert.close, alert.ack, alert.ack_for: on
    behalf of a recipient) on the job's alerts? For alert.ack, `recipients` are the user ids on the
    alert's roll-call (the caller's own entry, when it has one)."""
    active = standing(caller)
    if not active:
        return active
    cells = ALERT_ACTIONS.get(action)
    if cells is None:
        return _deny("alert-actions", f"no such alert action {action}")
    if cells["job_edit"] == "yes" and decide(caller, "job.edit", job=job):
        return _allow("alert-job-edit", f"staff with job.edit may {action}", Scope.ALL)
    if (cells["gc_lead"] == "yes" and caller.account.kind == AccountKind.OWNER.value and job.project_role == "lead"
            and decide(caller, "job.view", job=job)):
        return _allow("alert-gc-lead", f"GC leads may {action}", Scope.ALL)
    if cells["recipient"] == "yes" and caller.user.user_id in recipients and decide(caller, "job.reach", job=job):
        return _allow("alert-recipient", "each recipient acknowledges its own alert", Scope.SELF)
    who = {"alert.ack": "recipients of the alert", "alert.ack_for": "GC leads"}.get(
        action, "GC leads and staff with job.edit")
    return _deny("alert-not-allowed", f"only {who} may {action}")


def decide_alert_recipient(person: Caller, job: JobFacts) -> Decision:
    """Does `person` receive the job's alerts? Everyone who can reach the job (the directory's
    rule) with a role that receives alerts: lead, member, alerts_only; not not_on_jobsite."""
    reach = decide_directory_member(person, job)
    if not reach:
        return reach
    role = project_role_allows(job.project_role or "not_on_jobsite", "alerts.receive")
    if not role:
        return role
    return _allow("alert-receives", f"{person.user.name} receives this job's alerts", Scope.ALL)


# ------------------------------------------------------- notifications: who is told of what
# A tenant's or an account's news goes to its users who may read it (docs/DOMAIN.md "Notifications"):
# invoices to financial.view, an account's new entry on a job to access.view_own (who read their own
# entry). A delivery's news goes by the approvals table (approvals_given_by) and to its requester while
# it reaches the job (decide_directory_member); an alert to its roll-call (decide_alert_recipient).
NOTICE_TABLE = """
event               capability
invoice.issued      financial.view
invoice.finalized   financial.view
credit_note.issued  financial.view
access.granted      access.view_own
access.revoked      access.view_own
"""
NOTICES = {event: cells["capability"] for event, cells in _rows(NOTICE_TABLE).items()}


def decide_notice(person: Caller, event: str) -> Decision:
    """Is `person` (a user of the tenant's owner account for invoices, of the account granted for access)
    told of `event`? When it holds the capability NOTICE_TABLE names for it, as `decide` says."""
    capability = NOTICES.get(event)
    if capability is None:
        return _deny("notice-unknown", f"no audience is written for {event}")
    held = decide(person, capability)
    if not held:
        return held
    return _allow("notice-capability", f"{person.user.level} has {capability}, so is told of {event}", Scope.ALL)


# ------------------------------------------------------------------ billing
def decide_on_invoices(caller: Caller) -> Decision:
    """Invoices (list, one, its CSV, the month-to-date preview): financial.view only. The routes
    are the tenant's own, so a caller without it is refused (403), not told they do not exist."""
    if decide(caller, "financial.view"):
        return _allow("invoices-financial-view", "financial.view shows the tenant's invoices", Scope.TENANT)
    return _deny("invoices-need-financial-view", "invoices need financial.view")


def decide_invoice_change(caller: Caller) -> Decision:
    """Finalizing, crediting and voiding invoices, and setting the tenant's billing details: the users who
    read them (financial.view: Super Admins and Invoicing users)."""
    if decide(caller, "financial.view"):
        return _allow("invoices-change-financial-view", "financial.view finalizes, credits and voids invoices",
                      Scope.TENANT)
    return _deny("invoices-change-need-financial-view", "finalizing, crediting and voiding invoices need "
                 "financial.view (Super Admin, Invoicing)")


# ------------------------------------------------------------------ the audit trail
def decide_on_audit(caller: Caller) -> Decision:
    """Reading the audit trail: audit.view (Super Admins) reads the whole tenant; an account's
    administrators (audit.view_own) read the entries about their own account, its users and its
    entries on jobs. Scope TENANT or ACCOUNT says which."""
    if decide(caller, "audit.view"):
        return _allow("audit-view", "audit.view reads the tenant's whole audit trail", Scope.TENANT)
    if decide(caller, "audit.view_own"):
        return _allow("audit-view-own", "an account administrator reads the entries about its own account",
                      Scope.ACCOUNT)
    return _deny("audit-needs-audit-view", "the audit trail needs audit.view (or, for one's own account, "
                 "an account administrator)")


def decide_audit_verify(caller: Caller) -> Decision:
    """Verifying the seals covers the whole tenant: audit.view only."""
    if decide(caller, "audit.view"):
        return _allow("audit-verify", "audit.view verifies the tenant's sealed audit trail", Scope.TENANT)
    return _deny("audit-verify-needs-audit-view", "verifying the audit trail needs audit.view")


def decide_financial_fields(caller: Caller) -> Decision:
    """Financial fields in audit entries: shown only with financial.view."""
    if decide(caller, "financial.view"):
        return _allow("financial-fields-shown", "financial.view shows financial fields", Scope.ALL)
    return _deny("financial-fields-hidden", "financial fields need financial.view")


# ------------------------------------------------- deliveries and job requests (delivery_approvals)
# Delivery approvals (docs/DOMAIN.md "Deliveries"), roles x approvals: who may request a delivery
# for whom, and which approvals its request carries at once ("given") or still needs ("pending").
# A requester is a lead or member of the GC (the owner account) or of a trade; a trade requests
# for its own trade only. Rows not in the table (vendors, alerts_only, not_on_jobsite, a trade
# booking for the GC or another trade, staff without a role) may not request.
APPROVALS_TABLE = """
requester      booked_for  gc       trade
gc_lead        gc          given    -
gc_member      gc          pending  -
gc_lead        trade       given    pending
gc_member      trade       pending  pending
trade_lead     own_trade   pending  given
trade_member   own_trade   pending  pending
"""
APPROVALS = {key: {approval: cell for approval, cell in cells.items() if cell != "-"}
             for key, cells in _rows(APPROVALS_TABLE, keys=2).items()}
# Who gives each approval: a lead of the GC, or a lead of the trade the delivery is booked for.
APPROVERS = {"gc": "gc_lead", "trade": "trade_lead"}
APPROVER_ROLES = frozenset(giver.rsplit("_", 1)[1] for giver in APPROVERS.values())  # the roles asked to approve
REQUESTER_ROLES = ("lead", "member")
# The companies of the approvals table by account kind: the GC (the owner account) and the trades.
DELIVERY_COMPANIES = {AccountKind.OWNER.value: "gc", AccountKind.TRADE_CONTRACTOR.value: "trade"}


@dataclass(frozen=True)
class DeliveryFacts:
    """What the policy needs to know about a delivery: for whom, by whom, its approvals."""

    for_account_id: str
    booked_for_gc: bool
    requested_by: str
    approvals: dict[str, str]


@dataclass(frozen=True)
class ApprovalDecision(Decision):
    """A decision on a delivery's approval, naming the approval the caller gives (gc or trade)."""

    approval: str | None = None


def delivery_party(caller: Caller, job: JobFacts) -> str | None:
    """`gc_lead`, `gc_member`, `trade_lead` or `trade_member` when the caller sees the project pages
    of the job as a lead or member of the GC (staff through their project role) or of a trade."""
    if job.project_role not in REQUESTER_ROLES or not decide(caller, "project.view", job=job):
        return None
    company = DELIVERY_COMPANIES.get(caller.account.kind)
    return None if company is None else f"{company}_{job.project_role}"


def books_for_gc(caller: Caller, for_account_id: str) -> bool:
    """Is a booking by `caller` for `for_account_id` the GC's? Only a GC user naming its own account;
    anything else is booked for a trade (and decide_delivery_request says whether the caller may)."""
    return DELIVERY_COMPANIES.get(caller.account.kind) == "gc" and for_account_id == caller.account.account_id


def decide_trade_on_job(company: Account, entry: JobGrant | None, now: datetime | None = None) -> Decision:
    """Is `company` a trade on the job, so deliveries are booked for it and its bookings approved? A trade
    contractor, active, whose entry on the access list is live. A trade removed, expired or archived since
    a booking leaves that delivery to be cancelled."""
    if DELIVERY_COMPANIES.get(company.kind) != "trade":
        return _deny("booked-trade-kind", f"deliveries are booked for the GC or a trade contractor, not a "
                                          f"{company.kind.replace('_', ' ')}")
    if company.status != AccountStatus.ACTIVE.value:
        return _deny("booked-trade-archived", f"{company.name} is archived")
    if entry is None or entry.account_id != company.account_id or not grant_live(entry, now):
        return _deny("booked-trade-off-job", f"{company.name} is not on this job (removed, or its entry expired)")
    return _allow("booked-trade-on-job", f"{company.name} is a trade on this job", Scope.ALL)


def decide_delivery_request(caller: Caller, job: JobFacts, *, booked_for_gc: bool,
                            for_account_id: str) -> Decision:
    """May `caller` request a delivery booked for the GC (`booked_for_gc`) or for the trade
    `for_account_id`? Leads and members of the GC or of the trade booked for (APPROVALS_TABLE)."""
    party = delivery_party(caller, job)
    if party is None:
        return _deny("delivery-requesters", "only leads and members of the GC or of a trade on the job "
                                            "request deliveries")
    if party.startswith("gc_"):
        booked_for = "gc" if booked_for_gc else "trade"
    elif not booked_for_gc and for_account_id == caller.account.account_id:
        booked_for = "own_trade"
    else:
        return _deny("delivery-own-trade-only", "a trade requests deliveries for its own company only")
    return _allow("delivery-request", f"a {party.replace('_', ' ')} requests for the {booked_for.replace('_', ' ')}",
                  Scope.ALL)


def requested_approvals(caller: Caller, job: JobFacts, *, booked_for_gc: bool) -> dict[str, str]:
    """The approvals a request by `caller` carries: `{gc: pending|approved, trade?: ...}` (APPROVALS_TABLE)."""
    party = delivery_party(caller, job)
    booked_for = "gc" if booked_for_gc else ("trade" if party and party.startswith("gc_") else "own_trade")
    cells = APPROVALS[(party or "", booked_for)]
    return {approval: "approved" if cell == "given" else "pending" for approval, cell in cells.items()}


def approvals_given_by(person: Caller, job: JobFacts, for_account_id: str) -> list[str]:
    """The approvals (APPROVERS) `person` gives on the job's deliveries booked for `for_account_id`: the
    GC's as a GC lead, the trade's as a lead of that trade. Who approves and who is asked to (notifications)."""
    party = delivery_party(person, job)
    given = []
    if party == APPROVERS["gc"]:
        given.append("gc")
    if party == APPROVERS["trade"] and person.account.account_id == for_account_id:
        given.append("trade")
    return given


def _leads_for(caller: Caller, job: JobFacts, delivery: DeliveryFacts) -> list[str]:
    """The approvals of `delivery` the caller would give (a delivery booked for the GC has no trade approval)."""
    return [a for a in approvals_given_by(caller, job, delivery.for_account_id) if a in delivery.approvals]


# A vendor named on a booking, by what the job's access list holds of it (docs/DOMAIN.md "Deliveries"):
# a vendor never on the job joins its directory; one whose entry is live stays as it is; one whose
# entry expired or was removed is only named (a removal stands). "-" is no.
VENDOR_ENTRY_TABLE = """
history   added
never     yes
live      -
expired   -
removed   -
"""
VENDOR_ENTRY = {history: cells["added"] == "yes" for history, cells in _rows(VENDOR_ENTRY_TABLE).items()}


def vendor_history(entry: JobGrant | None, removed: bool, now: datetime | None = None) -> str:
    """What the job's access list holds of a vendor: never, live, expired or removed."""
    if entry is not None:
        return "live" if grant_live(entry, now) else "expired"
    return "removed" if removed else "never"


def decide_vendor_entry(caller: Caller, job: JobFacts, history: str) -> Decision:
    """May the vendor `caller` names on a delivery be put into the job's directory? Only a vendor never
    on the job (VENDOR_ENTRY_TABLE), and only by someone who may request deliveries on the job."""
    if delivery_party(caller, job) is None:
        return _deny("vendor-entry-requesters", "only delivery requesters add the vendors they name")
    if not VENDOR_ENTRY.get(history, False):
        return _deny(f"vendor-entry-{history}", {
            "live": "the vendor is on this job already", "expired": "the vendor's entry expired: a booking does not "
            "renew it", "removed": "the vendor was removed from this job: a booking does not bring it back"}.get(
            history, f"no such vendor history {history}"))
    return _allow("vendor-entry-requester", "a delivery requester adds a vendor new to the job to its directory",
                  Scope.ALL)


def decide_approval(caller: Caller, job: JobFacts, delivery: DeliveryFacts) -> ApprovalDecision:
    """May `caller` approve or reject `delivery`? A lead whose approval the delivery needs: a GC lead
    for the GC's, the booked trade's lead for the trade's. The approval named is the one the caller
    gives (a pending one first); a lead whose approval is already given acts on nothing (409 in the logic)."""
    approvals = _leads_for(caller, job, delivery)
    if not approvals:
        return ApprovalDecision(False, "approvers-leads-only", "only the leads whose approval a delivery needs "
                                "approve or reject it")
    pending = [a for a in approvals if delivery.approvals.get(a) == "pending"]
    approval = (pending or approvals)[0]
    return ApprovalDecision(True, "approver-lead", f"a {APPROVERS[approval].replace('_', ' ')} gives the "
                            f"{approval} approval", Scope.ALL, approval)


def decide_cancel(caller: Caller, job: JobFacts, delivery: DeliveryFacts) -> Decision:
    """May `caller` cancel `delivery`? Its requester (while it sees the project pages), or a GC lead."""
    if not decide(caller, "project.view", job=job):
        return _deny("cancel-needs-project-pages", "cancelling needs the job's project pages")
    if caller.user.user_id == delivery.requested_by:
        return _allow("cancel-requester", "the requester cancels its own delivery", Scope.ALL)
    if delivery_party(caller, job) == APPROVERS["gc"]:
        return _allow("cancel-gc-lead", "a GC lead cancels any delivery", Scope.ALL)
    return _deny("cancel-requester-or-gc-lead", "only the requester or a GC lead cancels a delivery")


def decide_on_places(caller: Caller, job: JobFacts) -> Decision:
    """May `caller` add the job's locations and shared equipment? GC leads and staff with job.edit."""
    if decide(caller, "job.edit", job=job):
        return _allow("places-job-edit", "staff with job.edit manage locations and equipment", Scope.ALL)
    if delivery_party(caller, job) == APPROVERS["gc"]:
        return _allow("places-gc-lead", "GC leads manage locations and equipment", Scope.ALL)
    return _deny("places-gc-lead-or-editor", "locations and equipment are managed by GC leads and staff with job.edit")


def decide_request_list(caller: Caller, job: JobFacts) -> Decision:
    """How far a job's request list reaches for `caller`: staff who can view the job see all of it
    (Scope.ALL); administrators and managers (request.view_all) their own account's requests
    (Scope.ACCOUNT); basic users their own (Scope.SELF)."""
    active = standing(caller)
    if not active:
        return active
    if level_family(caller.user.level) == "staff":
        view = decide(caller, "job.view", job=job)
        return _allow("requests-staff", "staff who view the job see all its requests", Scope.ALL) if view else view
    if decide(caller, "request.view_all", job=job):
        return _allow("requests-account", f"{caller.user.level} sees its account's requests", Scope.ACCOUNT)
    if decide(caller, "request.create", job=job):
        return _allow("requests-own", f"{caller.user.level} sees its own requests", Scope.SELF)
    return _deny("requests-none", f"{caller.user.level} sees no requests on this job")


def decide_on_request(caller: Caller, job: JobFacts) -> Decision:
    """May `caller` move a job request (accept, finish, decline)? Staff with job.edit on the job."""
    if level_family(caller.user.level) == "staff" and decide(caller, "job.edit", job=job):
        return _allow("requests-job-edit", "staff with job.edit move job requests", Scope.ALL)
    return _deny("requests-moved-by-job-edit", "job requests are moved by staff with job.edit")


# ------------------------------------------------------------- why, and who can: explain, the access report
def decide_record_create(caller: Caller, job: JobFacts, kind: str = "time") -> Decision:
    """May `caller` add a time (or equipment) record on the job? Staff who reach it with time.record
    (equipment.record)."""
    reach = decide(caller, "job.reach", job=job)
    return reach if not reach else decide(caller, f"{kind}.record")


def decide_own_delivery_request(caller: Caller, job: JobFacts) -> Decision:
    """deliveries.request asked of a person: may it book a delivery for its own company (the GC's users for
    the GC, a trade's users for their trade)? decide_delivery_request, as the booking route asks it."""
    own = caller.account.account_id
    return decide_delivery_request(caller, job, booked_for_gc=books_for_gc(caller, own), for_account_id=own)


def decide_own_delivery_approval(caller: Caller, job: JobFacts) -> Decision:
    """deliveries.approve asked of a person: does it approve a delivery booked for its own company that still
    needs every approval? decide_approval, as the approve route asks it (a GC lead gives the GC's approval
    on any delivery, a trade lead its own trade's)."""
    own = caller.account.account_id
    for_gc = books_for_gc(caller, own)
    pending = {"gc": "pending"} if for_gc else {"gc": "pending", "trade": "pending"}
    return decide_approval(caller, job, DeliveryFacts(for_account_id=own, booked_for_gc=for_gc, requested_by="",
                                                      approvals=pending))


def _on_job(action: str) -> Callable[[Caller, JobFacts], Decision]:
    def decision(caller: Caller, job: JobFacts) -> Decision:
        return decide(caller, action, job=job)
    return decision


# The actions explain and the access report answer, each by the decision its route asks (never a copy).
JOB_ACTIONS: dict[str, Callable[[Caller, JobFacts], Decision]] = {
    "job.view": _on_job("job.view"),
    "job.edit": _on_job("job.edit"),
    "tickets.view": _on_job("tickets.view"),
    "tickets.etas": _on_job("tickets.etas"),
    "tickets.unload": _on_job("tickets.unload"),
    "records.view": _on_job("records.view"),
    "records.create": decide_record_create,
    "project.view": _on_job("project.view"),
    "deliveries.request": decide_own_delivery_request,
    "deliveries.approve": decide_own_delivery_approval,
    "alerts.send": lambda caller, job: decide_on_alerts(caller, job, "alert.send"),
    "alerts.receive": decide_alert_recipient,
    "requests.create": _on_job("request.create"),
    "access.manage": decide_access_list,
}


def decide_job_action(person: Caller, action: str, job: JobFacts) -> Decision:
    """May `person` take `action` (JOB_ACTIONS) on the job? What explain and the access report answer."""
    decision = JOB_ACTIONS.get(action)
    if decision is None:
        return _deny("job-action-unknown", f"no such action {action}")
    return decision(person, job)


def decide_explain(caller: Caller, job: JobFacts, about_user_id: str) -> Decision:
    """May `caller` ask why a person can or cannot act on the job? Anyone about itself; staff with job.edit
    on the job and GC leads about anyone."""
    if about_user_id == caller.user.user_id and standing(caller):
        return _allow("explain-self", "anyone may ask about itself", Scope.SELF)
    if decide(caller, "job.edit", job=job):
        return _allow("explain-job-edit", "staff with job.edit ask about anyone on their job", Scope.ALL)
    if _is_gc_lead(caller, job):
        return _allow("explain-gc-lead", "GC leads ask about anyone on their job", Scope.ALL)
    return _deny("explain-others", "only staff with job.edit and GC leads ask about other people")


def decide_access_report(caller: Caller, job: JobFacts) -> Decision:
    """Who may read who can reach the job (the access report, and open its review): staff with job.edit
    on it and GC leads."""
    if decide(caller, "job.edit", job=job):
        return _allow("report-job-edit", "staff with job.edit read who can reach their job", Scope.ALL)
    if _is_gc_lead(caller, job):
        return _allow("report-gc-lead", "GC leads read who can reach their job", Scope.ALL)
    return _deny("report-job-edit-or-gc-lead", "the access report is read by staff with job.edit and GC leads")


# ------------------------------------------------------------------ access reviews
@dataclass(frozen=True)
class ReviewFacts:
    """Who opened a review and who reviews it."""

    created_by: str
    reviewer_user_id: str


def decide_open_review(caller: Caller, job: JobFacts) -> Decision:
    """May `caller` open a review of the job's access? Staff with job.edit on it (a Super Admin has it
    on every job)."""
    if level_family(caller.user.level) == "staff" and decide(caller, "job.edit", job=job):
        return _allow("review-open-job-edit", f"{caller.user.level} has job.edit on this job", Scope.ALL)
    return _deny("review-open-needs-job-edit", "access reviews are opened by Super Admins and staff with job.edit")


def decide_reviewer(person: Caller, job: JobFacts) -> Decision:
    """May `person` review the job's access? An active staff user who can view the job: the reviewer
    must see what it judges."""
    if level_family(person.user.level) != "staff":
        return _deny("reviewer-staff-only", f"{person.user.name} is not staff of the tenant's own company")
    view = decide(person, "job.view", job=job)
    if not view:
        return view
    return _allow("reviewer-sees-job", f"{person.user.name} can view this job", Scope.ALL)


def decide_on_review(caller: Caller, review: ReviewFacts, action: str) -> Decision:
    """review.view (the review, its evidence): its creator, its reviewer and Super Admins (audit.view);
    review.close: its reviewer."""
    active = standing(caller)
    if not active:
        return active
    me = caller.user.user_id
    if me == review.reviewer_user_id:
        return _allow("review-reviewer", "the reviewer reads and closes its review", Scope.ALL)
    if action == "review.view" and me == review.created_by:
        return _allow("review-creator", "the review's creator reads it", Scope.ALL)
    if action == "review.view" and decide(caller, "audit.view"):
        return _allow("review-super-admin", "a Super Admin reads every review", Scope.ALL)
    who = "its reviewer" if action == "review.close" else "its creator, its reviewer and Super Admins"
    return _deny("review-not-yours", f"a review is {'closed' if action == 'review.close' else 'read'} by {who}")


def decide_review_item(caller: Caller, review: ReviewFacts, granted_by: str, about_user_id: str | None = None) -> Decision:
    """May `caller` decide an item (an entry or a role) that `granted_by` granted (a role: about `about_user_id`)?
    Never one's own grant nor one's own access; the reviewer decides the others' grants, and the review's creator
    or a Super Admin those the reviewer made."""
    active = standing(caller)
    if not active:
        return active
    me = caller.user.user_id
    if me == granted_by:
        return _deny("review-own-grant", "nobody decides a grant they made themselves")
    if me == about_user_id:
        return _deny("review-own-access", "nobody decides their own access")
    if granted_by == review.reviewer_user_id:
        if me == review.created_by:
            return _allow("review-creator-decides", "the creator decides what the reviewer granted", Scope.ALL)
        if decide(caller, "audit.view"):
            return _allow("review-super-admin-decides", "a Super Admin decides what the reviewer granted", Scope.ALL)
        return _deny("review-reviewer-grant", "what the reviewer granted is decided by the review's creator or a "
                                              "Super Admin")
    if me == review.reviewer_user_id:
        return _allow("review-reviewer-decides", "the reviewer decides each item", Scope.ALL)
    return _deny("review-reviewer-only", "the reviewer decides the items of its review")
