"""Why, and who can: an explanation, the access report, and access reviews (stored, asked, answered)."""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

from pydantic import Field

from sitegate.models.requests import Body, PlainDate, Prose
from sitegate.models.responses import Date, Out, Time
from sitegate.models.stored import Stored


# ------------------------------------------------------------------ explain and the access report
class PathFact(Out):
    """One fact a decision rested on, in the order the policy reads them: `fact` names it, `value` says
    what it is; the other fields depend on the fact (an entry's access type, expiry and granter)."""

    model_config = {"extra": "allow", "defer_build": True}
    fact: str
    value: Any


class Explanation(Out):
    user_id: str
    job_id: str
    action: str
    allowed: bool
    rule: str
    reason: str
    path: list[PathFact]


class ReportRow(Out):
    """One person who can reach the job: what they may do, and the path that gives each action."""

    user_id: str
    name: str
    account_id: str
    company: str
    kind: str
    level: str
    role: str
    actions: list[str]
    paths: dict[str, str]


class AccessReport(Out):
    job_id: str
    at: Time
    items: list[ReportRow]


# ------------------------------------------------------------------ access reviews: stored
class ReviewStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"


class ItemKind(str, Enum):
    ENTRY = "entry"  # an account's entry on the job's access list
    ROLE = "role"  # a person's project role on the job


class ItemDecision(str, Enum):
    KEEP = "keep"
    REVOKE = "revoke"


class AccessReview(Stored):
    """A review of one job's access: opened with a snapshot of its access report, decided item by item
    by its reviewer, closed once (carrying out the revocations). Items and snapshot are items of its own."""

    tenant_id: str
    review_id: str
    job_id: str
    job_number: str
    created_by: str
    reviewer_user_id: str
    due: str  # a date in the tenant's calendar
    timezone: str  # the tenant's, when the review opened: when `due` is past
    status: ReviewStatus = ReviewStatus.OPEN
    opened_at: str
    snapshot_at: str
    item_count: int
    snapshot_chunks: int
    closed_at: str | None = None
    closed_by: str | None = None
    revoked: int | None = None
    evidence_sha256: str | None = None
    version: int = 0


class ReviewItem(Stored):
    """One thing the reviewer keeps or revokes: an account's entry, or a person's project role, as it
    stood when the review opened (`granted_at` tells a later re-grant from it)."""

    audited: ClassVar[bool] = False  # the review's own record; its decisions and its close are audited

    tenant_id: str
    review_id: str
    job_id: str
    item_id: str
    kind: ItemKind
    account_id: str
    account_name: str
    user_id: str | None = None
    user_name: str | None = None
    role: str | None = None
    access_type: str | None = None
    expires_at: str | None = None
    granted_by: str
    granted_at: str
    decision: ItemDecision | None = None
    note: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    outcome: str | None = None  # at close: kept, revoked, or gone (removed or re-granted meanwhile)
    version: int = 0


class ReviewSnapshot(Stored):
    """A chunk of the access report the review opened with (a big job's report exceeds one item)."""

    audited: ClassVar[bool] = False
    tenant_id: str
    review_id: str
    chunk: int
    rows: list[dict[str, Any]]


# ------------------------------------------------------------------ access reviews: asked
class ReviewCreate(Body):
    job_id: str = Field(min_length=1, max_length=64)
    reviewer_user_id: str = Field(min_length=1, max_length=64)
    due: PlainDate


class ReviewItemDecision(Body):
    item_id: str = Field(min_length=1, max_length=80)
    decision: ItemDecision
    note: Prose | None = Field(default=None, max_length=1000)


# ------------------------------------------------------------------ access reviews: answered
class ReviewItemOut(Out):
    item_id: str
    kind: ItemKind
    account_id: str
    account_name: str
    user_id: str | None
    user_name: str | None
    role: str | None
    access_type: str | None
    expires_at: Time | None
    granted_by: str
    granted_at: Time
    decision: ItemDecision | None
    note: str | None
    decided_by: str | None
    decided_at: Time | None
    outcome: str | None

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewItemOut:
        return cls.model_validate(item.model_dump(include=set(cls.model_fields)))


class ReviewOut(Out):
    review_id: str
    job_id: str
    job_number: str
    created_by: str
    reviewer_user_id: str
    due: Date
    overdue: bool
    status: ReviewStatus
    opened_at: Time
    snapshot_at: Time
    closed_at: Time | None
    revoked: int | None
    evidence_sha256: str | None
    undecided: int
    items: list[ReviewItemOut]


class ReviewClosed(Out):
    review_id: str
    status: ReviewStatus
    revoked: int
    evidence_sha256: str


class ReviewEvidence(Out):
    """The evidence of a closed review: `document`, and the SHA-256 (hex) of its canonical JSON (keys
    sorted, no spaces, ASCII: Python's `json.dumps(document, sort_keys=True, separators=(",", ":"))`)."""

    review_id: str
    sha256: str
    document: dict[str, Any]
