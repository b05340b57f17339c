"""Access reviews: a review, its items and the chunks of the access report it opened with, in one partition."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sitegate import keys
from sitegate.data import core
from sitegate.models.access_reviews import AccessReview, ReviewItem, ReviewSnapshot, ReviewStatus

SNAPSHOT_CHUNK_BYTES = 300_000  # report rows per chunk item, well under DynamoDB's 400 KB item limit
_PAGE = 1000


@dataclass(frozen=True)
class ReviewRead:
    review: AccessReview | None
    items: list[ReviewItem]
    snapshot: list[dict[str, Any]]


def chunk_snapshot(tenant_id: str, review_id: str, rows: Sequence[dict[str, Any]]) -> list[ReviewSnapshot]:
    """Report rows split into items of at most SNAPSHOT_CHUNK_BYTES each (at least one, maybe empty)."""
    chunks: list[ReviewSnapshot] = []
    current: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        row_size = len(json.dumps(row)) + 64
        if current and size + row_size > SNAPSHOT_CHUNK_BYTES:
            chunks.append(ReviewSnapshot(tenant_id=tenant_id, review_id=review_id, chunk=len(chunks), rows=current))
            current, size = [], 0
        current.append(row)
        size += row_size
    chunks.append(ReviewSnapshot(tenant_id=tenant_id, review_id=review_id, chunk=len(chunks), rows=current))
    return chunks


def open_review(review: AccessReview, items: Sequence[ReviewItem], snapshot: Sequence[ReviewSnapshot],
                last: Sequence[core.Create | core.ReplaceExpired]) -> None:
    """Write a review: its items and snapshot first (up to 100 per transaction), then the review itself with
    `last` (its audit entry, an Idempotency-Key marker). Until the review item is in, nothing reads the
    others (`read_review` answers no review), so a review half written is never seen."""
    conflict = "review already exists"
    core.write_in_chunks([[core.Create(m, conflict)] for m in [*items, *snapshot]])
    core.write(creates=[core.Create(review, conflict), *last])


def get_review(tenant_id: str, review_id: str) -> AccessReview | None:
    """The review alone: table key `T#t#REVIEW#r` / `REVIEW`."""
    return core.get_item(AccessReview, keys.review(tenant_id, review_id))


def get_review_and_item(tenant_id: str, review_id: str, item_id: str) -> tuple[AccessReview | None, ReviewItem | None]:
    """A review and one of its items, in one BatchGetItem."""
    review_key, item_key = keys.review(tenant_id, review_id), keys.review_item(tenant_id, review_id, item_id)
    found = core.batch_get([review_key, item_key])
    return core.pick(AccessReview, found, review_key), core.pick(ReviewItem, found, item_key)


def read_review(tenant_id: str, review_id: str) -> ReviewRead:
    """A review with its items and its snapshot: table partition `T#t#REVIEW#r` (one Query, paged)."""
    items = core.query_all_items(keys.review_partition(tenant_id, review_id), consistent=True, page_size=_PAGE)
    head = next((i for i in items if i["SK"] == "REVIEW"), None)
    if head is None:
        return ReviewRead(None, [], [])
    chunks = sorted((ReviewSnapshot.model_validate(i) for i in items if i["SK"].startswith(keys.REVIEW_SNAPSHOT_PREFIX)),
                    key=lambda c: c.chunk)
    return ReviewRead(core.model_of(AccessReview, head),
                      core.models_of(ReviewItem, (i for i in items if i["SK"].startswith(keys.REVIEW_ITEM_PREFIX))),
                      [row for c in chunks for row in c.rows])


def _still_open(review: AccessReview) -> core.Update:
    """The review is open when the transaction commits, and its version moves: a close that read the review
    before this decision fails its versioned write and reads again, so no decision is left out of it."""
    return core.Update(keys.review(review.tenant_id, review.review_id), "SET #version = #version + :one",
                       "#status = :open", {"#status": "status", "#version": "version"},
                       {":open": ReviewStatus.OPEN.value, ":one": 1}, conflict="the review is closed", audited=False)


def decide_item(item: ReviewItem, review: AccessReview, entry: core.Create) -> None:
    """Record a decision on an item of an open review, with its audit entry (the item unchanged since read)."""
    core.write(creates=[entry], replaces=[core.Replace(item, "the item was decided by someone else meanwhile")],
               updates=[_still_open(review)])
