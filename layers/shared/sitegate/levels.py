"""The level catalog and a caller's own view of its level, read off the policy tables."""

from __future__ import annotations

from sitegate import policy
from sitegate.models.responses import AccountOut, LevelCatalog, LevelOut, Me, UserOut


def _level(level: str) -> LevelOut:
    return LevelOut(
        level=level,
        family=policy.level_family(level),
        billing_tier=policy.BILLING_TIER.get(level),
        capabilities={capability: scope.value for capability, scope in policy.capabilities_of(level).items()},
    )


def catalog() -> LevelCatalog:
    return LevelCatalog(
        staff=[_level(level) for level in policy.STAFF_LEVEL_ORDER],
        account=[_level(level) for level in policy.ACCOUNT_LEVEL_ORDER],
        access_types={access_type: sorted(policy.ACCESS_FEATURES[access_type]) for access_type in policy.ACCESS_TYPES},
        sensitive_settings=sorted(policy.SENSITIVE_SETTINGS),
        normal_settings=sorted(policy.NORMAL_SETTINGS),
    )


def me(caller: policy.Caller) -> Me:
    level = _level(caller.user.level)
    return Me(
        tenant_id=caller.user.tenant_id,
        user=UserOut.of(caller.user),
        account=AccountOut.of(caller.account),
        level=level.level,
        billing_tier=level.billing_tier,
        capabilities=list(level.capabilities),
        capability_scopes=level.capabilities,
    )
