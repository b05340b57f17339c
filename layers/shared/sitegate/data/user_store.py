"""Users, their email markers and their dated history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitegate import keys
from sitegate.data import core, tenant_store
from sitegate.models.stored import Account, StaffState, StateChange, Tenant, User

RETENTION_SETTING = "audit_retention_days"  # read with every caller: the audit entries' expiry
BILLING_PAGE = 1000  # items per Query page when billing reads a whole tenant (within DynamoDB's 1 MB)


def get_user(tenant_id: str, user_id: str) -> User | None:
    """Table key `T#t#USER#u` / `USER`."""
    return core.get_item(User, keys.user(tenant_id, user_id))


def get_users(tenant_id: str, user_ids: Sequence[str]) -> list[User]:
    """Users by id, whatever their status, in BatchGetItem calls of 100: table keys `T#t#USER#u` / `USER`."""
    return core.get_many(User, [keys.user(tenant_id, u) for u in dict.fromkeys(user_ids)])


def get_caller(tenant_id: str, user_id: str, account_id: str) -> tuple[User | None, Account | None, Any]:
    """The caller's user and account records, and the tenant's audit_retention_days setting (for the
    audit entries the request may write), in one BatchGetItem call."""
    user_key, account_key = keys.user(tenant_id, user_id), keys.account(tenant_id, account_id)
    retention_key = keys.setting(tenant_id, RETENTION_SETTING)
    found = core.batch_get([user_key, account_key, retention_key])
    retention = tenant_store.setting_of(found.get((retention_key["PK"], retention_key["SK"])))
    return (core.pick(User, found, user_key), core.pick(Account, found, account_key),
            None if retention is None else retention.value)


def get_user_and_account(tenant_id: str, user_id: str) -> tuple[User | None, Account | None]:
    """A user, then its account: two GetItems (the account's id is on the user)."""
    user = get_user(tenant_id, user_id)
    return (None, None) if user is None else (user, core.get_item(Account, keys.account(tenant_id, user.account_id)))


def _status_prefix(status: str | None) -> str | None:
    return None if status is None else keys.users_with_status(status)


def tenant_users_page(tenant_id: str, status: str | None, limit: int, cursor: str | None) -> core.Page[User]:
    """Users of a tenant, by status then name: GSI2 `T#t#USERS`, sort prefix `{status}#`."""
    return core.query_page(User, keys.tenant_users(tenant_id), index="GSI2", sort_prefix=_status_prefix(status),
                           limit=limit, cursor=cursor)


def account_users_page(tenant_id: str, account_id: str, status: str | None, limit: int,
                       cursor: str | None) -> core.Page[User]:
    """Users of one account, by status then name: GSI1 `T#t#ACCOUNT#a#USERS`, sort prefix `{status}#`."""
    return core.query_page(User, keys.account_users(tenant_id, account_id), index="GSI1",
                           sort_prefix=_status_prefix(status), limit=limit, cursor=cursor)


def active_users_of_account(tenant_id: str, account_id: str) -> list[User]:
    """Every active user of one account: GSI1 `T#t#ACCOUNT#a#USERS`, sort prefix `active#`."""
    return core.query_all(User, keys.account_users(tenant_id, account_id), keys.users_with_status("active"),
                          index="GSI1")


def users_of_account(tenant_id: str, account_id: str) -> list[User]:
    """Every user of one account, whatever its status: GSI1 `T#t#ACCOUNT#a#USERS`."""
    return core.query_all(User, keys.account_users(tenant_id, account_id), index="GSI1")


def free_email(user: User) -> core.Remove:
    """Free a user's email for reuse in its tenant (with the user's deletion): table key `T#t#EMAIL#{email}`."""
    return core.Remove(keys.user_email(user.tenant_id, user.email))


def staff_users(tenant: Tenant) -> list[StaffState]:
    """Every user of the tenant's owner account (its staff), whatever the status, as billing reads them
    (the StaffState attributes only): GSI1 `T#t#ACCOUNT#owner#USERS`, in pages of BILLING_PAGE."""
    return core.models_of(StaffState, core.query_all_items(
        keys.account_users(tenant.tenant_id, tenant.owner_account_id), index="GSI1", page_size=BILLING_PAGE,
        attributes=list(StaffState.model_fields)))


def history_since(tenant_id: str, since_iso: str) -> list[StateChange]:
    """The tenant's status and level changes at or after `since_iso` (UTC ISO), in time order, as billing
    reads them (the StateChange attributes only): GSI2 `T#t#HISTORY`, `GSI2SK >= since`, pages of BILLING_PAGE."""
    return core.models_of(StateChange, core.query_all_items(
        keys.tenant_history(tenant_id), index="GSI2", sort_between=(since_iso, "~"), page_size=BILLING_PAGE,
        attributes=list(StateChange.model_fields)))
