"""Connected accounts: the companies of a tenant (customers, inspection firms,
project owners, trades, vendors, guest contractors) and the owner account."""

from __future__ import annotations

from sitegate import audit, clock, customer_codes, ids, policy
from sitegate.data import account_store, core, userpool
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, invalid
from sitegate.models.requests import AccountCreate, AccountUpdate
from sitegate.models.responses import AccountOut, AccountPage
from sitegate.models.stored import Account, AccountKind, AccountStatus, CustomerCodeMarker
from sitegate.policy import Caller
from sitegate.users import new_account_admin, visible_account


def _codes_only_for_customers(kind: str, codes: list[str]) -> None:
    if codes and kind != AccountKind.CUSTOMER.value:
        raise invalid("customer_codes", "only customer accounts carry customer codes")


def _code_marker(account: Account, code: str) -> core.Create:
    return core.Create(CustomerCodeMarker(tenant_id=account.tenant_id, code=code, account_id=account.account_id),
                        f"customer code {code} already belongs to another customer")


def create_account(caller: Caller, request: AccountCreate, idempotency: Idempotency | None) -> AccountOut:
    _codes_only_for_customers(request.kind, request.customer_codes)
    now = clock.now_iso()
    by_account_user = policy.level_family(caller.user.level) == "account"
    account = Account(tenant_id=caller.user.tenant_id, account_id=ids.new_id(), kind=AccountKind(request.kind), name=request.name,
                      customer_codes=sorted(set(request.customer_codes)), created_at=now,
                      sponsor_account_id=caller.account.account_id if by_account_user else None)
    policy.require(policy.decide_on_account(caller, "account.create", account))
    creates = [_code_marker(account, code) for code in account.customer_codes]
    admin = None
    if request.admin is not None:
        admin, admin_creates = new_account_admin(caller, account, request.admin.email, request.admin.name,
                                                 request.admin.phone, now)
        account = account.changed(master_user_id=admin.user_id)
        creates += admin_creates
    out = AccountOut.of(account)
    creates[0:0] = [core.Create(account, "account already exists"), audit.change("account.create", None, account)]
    with userpool.invited(admin):
        create_once(creates, out, idempotency)
    customer_codes.connect_customer_codes(account, account.customer_codes, [])
    return out


def get_account(caller: Caller, account_id: str) -> AccountOut:
    return AccountOut.of(visible_account(caller, account_id))


def list_accounts(caller: Caller, kind: AccountKind | None, limit: int, cursor: str | None) -> AccountPage:
    tenant_id = caller.user.tenant_id
    reach = policy.require(policy.decide_account_list(caller))
    if reach.scope is policy.Scope.TENANT:
        everyone = account_store.tenant_accounts_page(tenant_id, kind.value if kind else None, limit, cursor)
        return AccountPage(items=[AccountOut.of(a) for a in everyone.items], next_cursor=everyone.next_cursor)
    # Their own account, and (sponsors) the guest contractors it created.
    own = [caller.account] if cursor is None else []
    page: core.Page[Account] = core.Page([], None)
    if reach.scope is policy.Scope.SPONSORED:
        page = account_store.sponsored_guests_page(tenant_id, caller.account.account_id, limit, cursor)
    accounts = [a for a in [*own, *page.items] if kind is None or a.kind == kind.value]
    return AccountPage(items=[AccountOut.of(a) for a in accounts], next_cursor=page.next_cursor)


def update_account(caller: Caller, account_id: str, request: AccountUpdate) -> AccountOut:
    account = visible_account(caller, account_id)
    policy.require(policy.decide_on_account(caller, "account.edit", account))
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict(f"account {account.account_id} is archived")
    changes = request.model_dump(exclude_unset=True)
    if not changes:
        return AccountOut.of(account)
    if "customer_codes" in changes:
        _codes_only_for_customers(account.kind, changes["customer_codes"])
        changes["customer_codes"] = sorted(set(changes["customer_codes"]))
    new = account.changed(**changes, version=account.version + 1)
    added = sorted(set(new.customer_codes) - set(account.customer_codes))
    dropped = sorted(set(account.customer_codes) - set(new.customer_codes))
    _write_codes(account, new, added, dropped)
    if "customer_codes" in changes:
        # Every code the customer now carries, not only the added ones: connecting skips jobs
        # already connected, so repeating a request that failed part-way completes it.
        customer_codes.connect_customer_codes(new, new.customer_codes, dropped)
    return AccountOut.of(new)


def _write_codes(old: Account, new: Account, added: list[str], dropped: list[str]) -> None:
    """Write the account with its code markers, whole or not at all.

    One transaction when it fits (up to 100 items). A bigger change (50 codes replaced by 50
    others) takes two: the new codes are claimed with the account first, so a code of another
    customer is a clean 409 with nothing written; then the dropped codes are freed, and if that
    fails the first transaction is undone (the account back as it was, the new codes freed)."""
    tenant_id = new.tenant_id
    claims = [_code_marker(new, code) for code in added]
    frees = [account_store.free_customer_code(tenant_id, code) for code in dropped]
    replace, entry = core.Replace(new), audit.change("account.update", old, new)
    if len(claims) + 2 + len(frees) <= core.TRANSACTION_ITEMS:  # the account and its audit entry
        core.write(creates=[*claims, entry], replaces=[replace], removes=frees)
        return
    core.write(creates=[*claims, entry], replaces=[replace])
    try:
        core.write(removes=frees)
    except BaseException:
        undo = old.changed(version=new.version + 1)
        core.write(creates=[audit.change("account.update", new, undo)], replaces=[core.Replace(undo)],
                   removes=[account_store.free_customer_code(tenant_id, code) for code in added])
        raise


def archive_account(caller: Caller, account_id: str) -> AccountOut:
    """Archive: the account keeps its history; its users lose all access on their next request."""
    account = visible_account(caller, account_id)
    policy.require(policy.decide_on_account(caller, "account.archive", account))
    if account.kind == AccountKind.OWNER.value:
        raise Conflict("the owner account cannot be archived")
    if account.status == AccountStatus.ARCHIVED.value:
        return AccountOut.of(account)
    new = account.changed(status=AccountStatus.ARCHIVED.value, version=account.version + 1)
    # Its codes stay on the record for history but free up: no new job connects an archived customer.
    core.write(creates=[audit.change("account.archive", account, new)], replaces=[core.Replace(new)],
               removes=[account_store.free_customer_code(new.tenant_id, code) for code in new.customer_codes])
    return AccountOut.of(new)
