"""Users of a tenant: staff of the owner account and users of connected accounts.

Each change writes the record (conditional on its version) together with a dated
history entry when status or level change, and keeps the Cognito identity in step.
"""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import access_store, account_store, core, job_store, user_store, userpool
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.requests import MeUpdate, NotificationPreferencesUpdate, UserCreate, UserUpdate
from sitegate.models.responses import NotificationPreferencesOut, UserOut, UserPage
from sitegate.models.stored import (
    Account,
    AccountKind,
    AccountStatus,
    EmailMarker,
    NotificationPreferences,
    User,
    UserHistory,
    UserStatus,
)
from sitegate.policy import Caller


def _check_shape(account: Account, level: str, job_ids: list[str], can_create_guests: bool) -> None:
    """Level and job assignment rules of docs/DOMAIN.md that do not depend on who asks."""
    family = "staff" if account.kind == AccountKind.OWNER.value else "account"
    levels = policy.STAFF_LEVELS if family == "staff" else policy.ACCOUNT_LEVELS
    if level not in levels:
        raise invalid("level", f"{account.kind} account users take one of: {', '.join(levels)}")
    if level == "basic" and len(job_ids) != 1:
        raise invalid("job_ids", "a basic user is assigned to exactly one job")
    if level == "manager" and not job_ids:
        raise invalid("job_ids", "a manager is assigned to one or more jobs")
    if level == "administrator" and job_ids:
        raise invalid("job_ids", "an administrator sees every job of its account; do not assign jobs")
    if can_create_guests and level != "manager":
        raise invalid("can_create_guests", "only managers carry can_create_guests")


def history(user: User, by: Caller, at: str, before: User | None = None) -> core.Create:
    """The dated history entry of a change of status or level: the new state, and the state it
    replaces (`before`; none when the user is created), which billing reads a month's start from."""
    entry = UserHistory(tenant_id=user.tenant_id, user_id=user.user_id, at=at, status=user.status, level=user.level,
                        changed_by=by.user.user_id, version=user.version,
                        previous_status=before.status if before else None, previous_level=before.level if before else None)
    # The user's version orders entries of the same second; writes are conditional on it, so it is unique.
    return core.Create(entry, "history entry already exists")


def visible_account(caller: Caller, account_id: str) -> Account:
    """An account the caller may see, or 404."""
    account = caller.account if account_id == caller.account.account_id else account_store.get_account(
        caller.user.tenant_id, account_id)
    if account is None or not policy.decide_on_account(caller, "account.view", account):
        raise NotFound(f"account {account_id} not found")
    return account


def visible_user(caller: Caller, user_id: str) -> tuple[User, Account]:
    """A user the caller may see, with its account, or 404."""
    mine = user_id == caller.user.user_id  # already read with the caller: no second read
    user, account = (caller.user, caller.account) if mine else user_store.get_user_and_account(caller.user.tenant_id, user_id)
    if user is None or account is None or not policy.decide_on_user(caller, "user.view", user, account):
        raise NotFound(f"user {user_id} not found")
    return user, account


def _bumped(user: User, **changes: object) -> User:
    return user.changed(**changes, updated_at=clock.now_iso(), version=user.version + 1)


def check_job_ids(account: Account, job_ids: list[str]) -> None:
    """Job ids given to users must name jobs of the tenant; for connected-account users,
    jobs their account has access to."""
    if not job_ids:
        return
    if account.kind == AccountKind.OWNER.value:
        known = {j.job_id for j in job_store.get_jobs(account.tenant_id, job_ids)}
    else:
        known = {g.job_id for g in access_store.get_grants(account.tenant_id, account.account_id, job_ids)}
    missing = sorted(set(job_ids) - known)
    if missing:
        raise invalid("job_ids", f"not a job of this account: {', '.join(missing)}")


def _checked_job_ids(account: Account, before: list[str], after: list[str]) -> list[str]:
    """The job ids a change leaves a user with: ids being added must name jobs of the account
    (422 otherwise); ids the user already had are kept while their job exists, and dropped
    silently once it is deleted, so a stale id never blocks a later change."""
    had = set(before)
    check_job_ids(account, [j for j in after if j not in had])
    existing = {j.job_id for j in job_store.get_jobs(account.tenant_id, [j for j in after if j in had])}
    return [j for j in after if j not in had or j in existing]


# ------------------------------------------------------------------ create
def create_user(caller: Caller, request: UserCreate, idempotency: Idempotency | None) -> UserOut:
    account = visible_account(caller, request.account_id or caller.account.account_id)
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"account {account.account_id} is archived")
    _check_shape(account, request.level, request.job_ids, request.can_create_guests)
    check_job_ids(account, request.job_ids)
    now = clock.now_iso()
    first_admin = request.level == "administrator" and account.master_user_id is None
    user = User(tenant_id=caller.user.tenant_id, user_id=ids.new_id(), account_id=account.account_id,
                email=request.email, name=request.name, phone=request.phone, level=request.level,
                job_ids=request.job_ids, can_create_guests=request.can_create_guests, is_master=first_admin,
                created_at=now, updated_at=now)
    policy.require(policy.decide_on_user(caller, "user.add", user, account, level=user.level, job_ids=user.job_ids))
    out = UserOut.of(user)
    creates = [core.Create(user, "user already exists"),
               core.Create(EmailMarker.of(user), f"email {user.email} is already in use in this tenant"),
               history(user, caller, now), audit.change("user.create", None, user)]
    replaces = []
    if first_admin:
        master = account.changed(master_user_id=user.user_id, version=account.version + 1)
        replaces.append(core.Replace(master))
        creates.append(audit.change("account.update", account, master))
    with userpool.invited(user):
        create_once(creates, out, idempotency, replaces=replaces)
    return out


def new_account_admin(caller: Caller, account: Account, email: str, name: str, phone: str | None,
                      now: str) -> tuple[User, list[core.Create]]:
    """The master administrator made together with its account (accounts.create_account)."""
    user = User(tenant_id=account.tenant_id, user_id=ids.new_id(), account_id=account.account_id, email=email,
                name=name, phone=phone, level="administrator", is_master=True, created_at=now, updated_at=now)
    creates = [core.Create(user, "user already exists"),
               core.Create(EmailMarker.of(user), f"email {user.email} is already in use in this tenant"),
               history(user, caller, now), audit.change("user.create", None, user)]
    return user, creates


# -------------------------------------------------------------------- read
def get_user(caller: Caller, user_id: str) -> UserOut:
    return UserOut.of(visible_user(caller, user_id)[0])


def list_users(caller: Caller, account_id: str | None, status: UserStatus | None, limit: int,
               cursor: str | None) -> UserPage:
    reach = policy.require(policy.decide_user_list(caller, whole_tenant=account_id is None))
    wanted = status.value if status else None
    if reach.scope is policy.Scope.SELF:
        me = caller.user
        mine = (account_id in (None, me.account_id)) and (wanted is None or me.status == wanted)
        return UserPage(items=[UserOut.of(me)] if mine else [], next_cursor=None)
    tenant_id = caller.user.tenant_id
    if reach.scope is policy.Scope.TENANT:
        page = user_store.tenant_users_page(tenant_id, wanted, limit, cursor)
        return UserPage(items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)
    account = visible_account(caller, account_id or caller.account.account_id)
    page = user_store.account_users_page(tenant_id, account.account_id, wanted, limit, cursor)
    # Whole account or assigned users only: each listed user is the policy's to decide.
    users = [u for u in page.items if policy.decide_on_user(caller, "user.view", u, account)]
    return UserPage(items=[UserOut.of(u) for u in users], next_cursor=page.next_cursor)


# ------------------------------------------------------------------ change
def update_user(caller: Caller, user_id: str, request: UserUpdate) -> UserOut:
    target, account = visible_user(caller, user_id)
    if target.status == UserStatus.DELETED.value:
        raise Conflict("user is deleted")
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        return UserOut.of(target)
    # May the caller make this change at all? Asked first, so a refused caller learns nothing of the rules of shape.
    policy.require(policy.decide_on_user(caller, "user.edit", target, account, level=changes.get("level"),
                                         job_ids=changes.get("job_ids")))
    new = _phone_rule(_bumped(target, **changes))
    if "level" in changes or "job_ids" in changes or "can_create_guests" in changes:
        new = new.changed(job_ids=_checked_job_ids(account, target.job_ids, new.job_ids))
        _check_shape(account, new.level, new.job_ids, new.can_create_guests)
    creates = [history(new, caller, new.updated_at, target)] if new.level != target.level else []
    core.write(creates=[*creates, audit.change("user.update", target, new)], replaces=[core.Replace(new)])
    return UserOut.of(new)


def _identity_follows_record(user: User) -> User:
    """Set the Cognito identity to what the record says now (read again), so racing enables and
    disables leave the two agreeing, and a repeat repairs any earlier split."""
    now = user_store.get_user(user.tenant_id, user.user_id) or user
    if now.status == UserStatus.ACTIVE.value:
        userpool.enable(now.user_id)
    elif now.status == UserStatus.DISABLED.value:
        userpool.disable(now.user_id)
    return now


def disable_user(caller: Caller, user_id: str) -> UserOut:
    target, account = visible_user(caller, user_id)
    policy.require(policy.decide_on_user(caller, "user.disable", target, account))
    if target.status == UserStatus.DELETED.value:
        raise Conflict("user is deleted")
    if target.status == UserStatus.ACTIVE.value:
        # The record first: access ends with it, on the very next request.
        new = _bumped(target, status=UserStatus.DISABLED.value)
        core.write(creates=[history(new, caller, new.updated_at, target), audit.change("user.disable", target, new)],
                   replaces=[core.Replace(new)])
    return UserOut.of(_identity_follows_record(target))  # also on a repeat: a retry completes


def enable_user(caller: Caller, user_id: str) -> UserOut:
    target, account = visible_user(caller, user_id)
    policy.require(policy.decide_on_user(caller, "user.enable", target, account))
    if target.status == UserStatus.DELETED.value:
        raise Conflict("user is deleted")
    if target.status != UserStatus.ACTIVE.value:
        userpool.enable(target.user_id)  # the identity first: an enabled identity alone grants nothing
        new = _bumped(target, status=UserStatus.ACTIVE.value)
        core.write(creates=[history(new, caller, new.updated_at, target), audit.change("user.enable", target, new)],
                   replaces=[core.Replace(new)])
    return UserOut.of(_identity_follows_record(target))  # also on a repeat: repairs a split left by a race


def reset_password(caller: Caller, user_id: str) -> UserOut:
    target, account = visible_user(caller, user_id)
    policy.require(policy.decide_on_user(caller, "user.reset_password", target, account))
    if target.status != UserStatus.ACTIVE.value:
        raise Conflict(f"user is {target.status}")
    userpool.reset_password(target)
    return UserOut.of(target)


def delete_user(caller: Caller, user_id: str) -> None:
    """Delete the identity; keep the record (status `deleted`) for history and billing."""
    target, account = visible_user(caller, user_id)
    policy.require(policy.decide_on_user(caller, "user.delete", target, account))
    if target.status != UserStatus.DELETED.value:
        new = _bumped(target, status=UserStatus.DELETED.value)
        core.write(creates=[history(new, caller, new.updated_at, target), audit.change("user.delete", target, new)],
                   replaces=[core.Replace(new)],
                    removes=[user_store.free_email(target)])  # the email may be used again
    userpool.remove(target.user_id)


def _phone_rule(user: User) -> User:
    """SMS needs a phone: clearing the phone turns SMS notifications off."""
    if user.phone is None and user.notifications.sms:
        return user.changed(notifications=user.notifications.changed(sms=False))
    return user


def update_me(caller: Caller, request: MeUpdate) -> UserOut:
    """A user's own name and phone (any active user)."""
    me = caller.user
    policy.require(policy.decide_on_user(caller, "user.edit_self", me, caller.account))
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        return UserOut.of(me)
    new = _phone_rule(_bumped(me, **changes))
    core.write(creates=[audit.change("user.update_self", me, new)], replaces=[core.Replace(new)])
    return UserOut.of(new)


def set_notification_preferences(caller: Caller, request: NotificationPreferencesUpdate) -> NotificationPreferencesOut:
    me = caller.user
    if request.sms and not me.phone:
        raise invalid("sms", "SMS needs a phone number on the user; set it first")
    new = _bumped(me, notifications=NotificationPreferences(email=request.email, sms=request.sms))
    core.write(creates=[audit.change("user.set_preferences", me, new)], replaces=[core.Replace(new)])
    return NotificationPreferencesOut(email=request.email, sms=request.sms)
