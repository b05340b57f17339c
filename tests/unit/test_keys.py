"""Every key builder keeps the tenant first, so no key can address another tenant's data."""

from __future__ import annotations

import inspect

import pytest

from sitegate import keys

TENANT = "acme"
# Public helpers of sitegate.keys that build no partition key (they take no tenant).
NOT_PARTITION_BUILDERS = {"user_sort", "users_with_status", "accounts_of_kind", "accounts_named", "by_job", "requests_of_account",
                          "portal", "tenants_list", "tenant_gsi1",  # the platform's own partitions: portal markers, tenant list
                          "supplier",  # ... and the supplier printed on every tenant's invoices
                          "audit_shard", "audit_sort", "audit_seal_sort"}  # the audit trail's sort keys and shards


def _public_functions() -> dict[str, object]:
    return {name: fn for name, fn in inspect.getmembers(keys, inspect.isfunction)
            if not name.startswith("_") and fn.__module__ == keys.__name__}


BUILDERS = {name: fn for name, fn in _public_functions().items() if name not in NOT_PARTITION_BUILDERS}


def _call(builder, tenant_id: str):
    """Call a builder with `tenant_id` and a plain value for every other argument."""
    params = list(inspect.signature(builder).parameters)
    return builder(tenant_id, *[f"{name}-1" for name in params[1:]])


def _partition_keys(built) -> dict[str, str]:
    if isinstance(built, str):
        return {"value": built}
    return {name: value for name, value in built.items() if name.endswith("PK")}


def test_every_builder_but_the_sort_helpers_takes_the_tenant_first():
    # Then: a new public builder must take tenant_id first, or be listed here on purpose
    assert set(_public_functions()) - set(BUILDERS) == NOT_PARTITION_BUILDERS
    assert all(next(iter(inspect.signature(fn).parameters)) == "tenant_id" for fn in BUILDERS.values())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_puts_the_tenant_first_in_its_partition_key(name):
    # When
    built = _call(BUILDERS[name], TENANT)
    # Then
    partitions = _partition_keys(built)
    assert partitions, f"{name} builds no partition key"
    for attribute, value in partitions.items():
        assert value.startswith(f"T#{TENANT}#"), f"{name}: {attribute}={value!r}"


@pytest.mark.parametrize("tenant_id", ["", "ac#me", "#", "acme#"], ids=["empty", "hash_inside", "hash_only", "hash_at_end"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_rejects_a_bad_tenant_id(name, tenant_id):
    with pytest.raises(ValueError, match="tenant"):
        _call(BUILDERS[name], tenant_id)


def test_tenants_do_not_share_keys():
    # Given two tenants whose names are prefixes of each other
    # Then no partition key of one is a partition key of the other
    for name, builder in BUILDERS.items():
        a, b = _partition_keys(_call(builder, "acme")), _partition_keys(_call(builder, "acme2"))
        assert set(a.values()).isdisjoint(b.values()), name


def test_the_portal_marker_is_on_the_platform_partition():
    # The public portal has no token, so no tenant: its marker lives on the platform's partition.
    assert keys.portal("job-1") == {"PK": f"T#{keys.PLATFORM_TENANT}#PORTAL#job-1", "SK": "PORTAL"}
