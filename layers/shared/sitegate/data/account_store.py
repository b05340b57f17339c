"""Accounts (connected companies, vendors, guests) and their customer codes."""

from __future__ import annotations

from collections.abc import Sequence

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Account
from sitegate.names import comparable


def get_account(tenant_id: str, account_id: str) -> Account | None:
    """Table key `T#t#ACCOUNT#a` / `ACCOUNT`."""
    return core.get_item(Account, keys.account(tenant_id, account_id))


def get_accounts(tenant_id: str, account_ids: Sequence[str]) -> list[Account]:
    """Accounts by id, in BatchGetItem calls of 100."""
    return core.get_many(Account, [keys.account(tenant_id, a) for a in dict.fromkeys(account_ids)])


def tenant_accounts_page(tenant_id: str, kind: str | None, limit: int, cursor: str | None) -> core.Page[Account]:
    """Accounts of a tenant, by kind then name: GSI1 `T#t#ACCOUNTS`, sort prefix `{kind}#`."""
    return core.query_page(Account, keys.tenant_accounts(tenant_id), index="GSI1",
                           sort_prefix=None if kind is None else keys.accounts_of_kind(kind), limit=limit,
                           cursor=cursor)


def sponsored_guests_page(tenant_id: str, sponsor_account_id: str, limit: int,
                          cursor: str | None) -> core.Page[Account]:
    """Guest contractor accounts created by one account, by name: GSI2 `T#t#ACCOUNT#a#GUESTS`."""
    return core.query_page(Account, keys.sponsored_guests(tenant_id, sponsor_account_id), index="GSI2", limit=limit,
                           cursor=cursor)


def vendor_by_name(tenant_id: str, name: str) -> Account | None:
    """The vendor account with this name (however spaced, cased or composed), the active one first:
    GSI1 `T#t#ACCOUNTS`, sort prefix `vendor#{comparable name}#`. An archived one is returned only
    when no active one carries the name, so the caller can refuse it."""
    found = core.query_page(Account, keys.tenant_accounts(tenant_id), index="GSI1",
                            sort_prefix=keys.accounts_named("vendor", name), limit=10, cursor=None).items
    same = [a for a in found if comparable(a.name) == comparable(name)]  # not a longer name sharing the prefix
    return min(same, key=lambda a: a.status != "active", default=None)


def customer_with_code(tenant_id: str, code: str) -> str | None:
    """The id of the customer account that carries this customer code, if any: `T#t#CUSTOMERCODE#{code}`."""
    marker = core.get_raw(keys.customer_code(tenant_id, code), ConsistentRead=True)
    return None if marker is None else str(marker["account_id"])


def free_customer_code(tenant_id: str, code: str) -> core.Remove:
    """Free a customer code (dropped from, or archived with, its customer): table key `T#t#CUSTOMERCODE#{code}`."""
    return core.Remove(keys.customer_code(tenant_id, code))
