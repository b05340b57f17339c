"""Tenant settings (the staff capability table): normal keys for operations users, sensitive keys for "all"."""

from __future__ import annotations

from typing import Any

from sitegate import audit, clock, policy
from sitegate.data import tenant_store
from sitegate.errors import NotFound, invalid
from sitegate.models.responses import SettingOut
from sitegate.models.stored import Setting
from sitegate.policy import Caller

KNOWN = policy.NORMAL_SETTINGS | policy.SENSITIVE_SETTINGS
RETENTION_DAYS = (1, 3653)  # a day to ten years


def get_settings(caller: Caller) -> dict[str, Any]:
    """Every setting the caller may see, as a `{key: value}` map (unset keys are null)."""
    policy.require(policy.decide(caller, "settings.view"))
    visible = [key for key in KNOWN if policy.decide(caller, "settings.view", setting=key)]
    stored = {s.key: s.value for s in tenant_store.settings(caller.user.tenant_id)}
    return {key: stored.get(key) for key in sorted(visible)}


def put_setting(caller: Caller, key: str, value: Any) -> SettingOut:
    if key not in KNOWN:
        raise NotFound(f"no setting named {key}")
    policy.require(policy.decide(caller, "settings.edit", setting=key))
    if key == audit.RETENTION_SETTING and not (isinstance(value, int) and not isinstance(value, bool)
                                                 and RETENTION_DAYS[0] <= value <= RETENTION_DAYS[1]):
        raise invalid("value", f"{key} is a whole number of days from {RETENTION_DAYS[0]} to {RETENTION_DAYS[1]}")
    setting = Setting(tenant_id=caller.user.tenant_id, key=key, value=value, updated_by=caller.user.user_id,
                      updated_at=clock.now_iso())
    before = tenant_store.get_setting(setting.tenant_id, key)
    tenant_store.put_setting(setting, audit.change("setting.set", before, setting))
    return SettingOut(key=key, value=value, updated_at=setting.updated_at)
