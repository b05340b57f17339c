"""Staff users with a month of status and level history, written straight through the store's
item builders (no routes, no Cognito): quick to set up for the scale test and `make bench`."""

from __future__ import annotations

from datetime import UTC, datetime

from sitegate.data import codec
from sitegate.data.aws import table
from sitegate.models.stored import User, UserHistory

CREATED = datetime(2026, 8, 15, tzinfo=UTC)
# September 2026: a promotion on the 10th, disabled on the 20th, enabled again on the 25th.
CHANGES = [(datetime(2026, 9, 10, 1, tzinfo=UTC), "active", "tmp_designer"),
           (datetime(2026, 9, 20, 2, tzinfo=UTC), "disabled", "tmp_designer"),
           (datetime(2026, 9, 25, 3, tzinfo=UTC), "active", "tmp_designer")]


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def write_billing_users(tenant_id: str, owner_account_id: str, count: int, start: int = 0) -> None:
    """`count` basic users of the owner account made on August 15th, each with the September
    changes of CHANGES (4 history entries per user)."""
    with table().batch_writer() as batch:
        for n in range(start, start + count):
            user_id = f"bulk{n:06d}"
            state = ("active", "basic_user")
            user = User(tenant_id=tenant_id, user_id=user_id, account_id=owner_account_id, email=f"{user_id}@bulk.example",
                        name=f"Bulk {n:06d}", level=state[1], created_at=_iso(CREATED), updated_at=_iso(CREATED))
            history = [UserHistory(tenant_id=tenant_id, user_id=user_id, at=_iso(CREATED), status=state[0],
                                   level=state[1], changed_by="bench", version=0)]
            for version, (at, status, level) in enumerate(CHANGES, start=1):
                history.append(UserHistory(tenant_id=tenant_id, user_id=user_id, at=_iso(at), status=status, level=level,
                                           changed_by="bench", previous_status=state[0], previous_level=state[1],
                                           version=version))
                state = (status, level)
            final = user.changed(status=state[0], level=state[1], version=len(CHANGES), updated_at=_iso(CHANGES[-1][0]))
            batch.put_item(Item=codec.item_of(final))
            for entry in history:
                batch.put_item(Item=codec.item_of(entry))
