"""Tenant onboarding: a licensed company, its owner account and first Super Admin."""

from __future__ import annotations

import contextlib

from sitegate import audit, clock, ids, keys
from sitegate.data import core, userpool
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict
from sitegate.models.requests import TenantCreate
from sitegate.models.responses import AccountOut, TenantCreated, UserOut
from sitegate.models.stored import Account, AccountKind, EmailMarker, Tenant, User, UserHistory


def create_tenant(request: TenantCreate, operator_id: str, idempotency: Idempotency | None) -> TenantCreated:
    """Create the tenant, owner account and master Super Admin in one transaction.

    The identity is made first and removed again if the records cannot be written,
    so a failure leaves neither a user without a record nor a record without a user.
    """
    now = clock.now_iso()
    tenant_id, account_id, user_id = ids.new_id(), ids.new_id(), ids.new_id()
    tenant = Tenant(tenant_id=tenant_id, name=request.name, timezone=request.timezone,
                    currency=request.currency, owner_account_id=account_id, created_at=now)
    owner = Account(tenant_id=tenant_id, account_id=account_id, kind=AccountKind.OWNER, name=request.name,
                    master_user_id=user_id, created_at=now)
    admin = User(tenant_id=tenant_id, user_id=user_id, account_id=account_id, email=request.admin_email,
                 name=request.admin_name, level="super_admin", is_master=True, created_at=now, updated_at=now)
    history = UserHistory(tenant_id=tenant_id, user_id=user_id, at=now, status=admin.status, level=admin.level,
                          changed_by=operator_id)
    created = TenantCreated(tenant_id=tenant_id, owner_account_id=account_id, admin_user_id=user_id)

    creates = [
        core.Create(tenant, "tenant already exists"),
        core.Create(owner, "account already exists"),
        core.Create(admin, "user already exists"),
        core.Create(EmailMarker.of(admin), "email already in use in this tenant"),
        core.Create(history, "history entry already exists"),
    ]
    with audit.within(tenant_id, audit.DEFAULT_RETENTION_DAYS):  # the new tenant's trail starts with its making
        creates += [audit.change("tenant.create", None, tenant), audit.change("account.create", None, owner),
                    audit.change("user.create", None, admin)]

    with userpool.invited(admin):
        create_once(creates, created, idempotency)
    return created


def create_operator(email: str, name: str) -> str:
    """Create a platform operator (deploy-time bootstrap and the local stack). Returns its user id."""
    now = clock.now_iso()
    operators = Account(tenant_id=keys.PLATFORM_TENANT, account_id="operators", kind=AccountKind.PLATFORM,
                        name="SiteGate platform", created_at=now)
    operator = User(tenant_id=keys.PLATFORM_TENANT, user_id=ids.new_id(), account_id=operators.account_id,
                    email=email.lower(), name=name, level="platform_operator", created_at=now, updated_at=now)
    with audit.as_system(keys.PLATFORM_TENANT):
        with contextlib.suppress(Conflict):  # made with the first operator
            create_once([core.Create(operators, "platform account already exists"),
                         audit.change("account.create", None, operators)], AccountOut.of(operators), None)
        with userpool.invited(operator):
            create_once([core.Create(operator, "user already exists"),
                         core.Create(EmailMarker.of(operator), "an operator with this email already exists"),
                         audit.change("user.create", None, operator)], UserOut.of(operator), None)
    return operator.user_id
