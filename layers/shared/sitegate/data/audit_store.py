"""The audit trail's access patterns: entries newest first by one key or index (merged over shards),
entries of a sealed range in order, and the seals."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr

from sitegate import keys
from sitegate.data import core
from sitegate.models.audit import AuditEntry, AuditSeal

READS_PER_PAGE = 40  # Queries one filtered page may take over all its partitions


@dataclass(frozen=True)
class Filters:
    """What a reader asked for (every filter optional); `account_id` is forced for an account's readers."""

    actor_id: str | None = None
    target_id: str | None = None
    job_id: str | None = None
    action: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Source:
    """One list that serves a query: the index (None: the table) and its partitions (several when sharded)."""

    index: str | None
    partitions: tuple[str, ...]

    @property
    def sort_key(self) -> str:
        return "SK" if self.index is None else f"{self.index}SK"


def source_of(tenant_id: str, f: Filters) -> tuple[Source, Any]:
    """The most selective list for the filters (target, actor, job, account, action, else the whole
    history), and the filter of the rest, on the index keys every entry carries."""
    lists = [(f.target_id, "GSI2", keys.audit_by_target), (f.actor_id, "GSI1", keys.audit_by_actor),
             (f.job_id, "GSI3", keys.audit_by_job), (f.account_id, "GSI5", keys.audit_by_account)]
    chosen: Source | None = None
    terms = []
    for value, index, partition in lists:
        if value is None:
            continue
        if chosen is None:
            chosen = Source(index, (partition(tenant_id, value),))
        else:
            terms.append(Attr(f"{index}PK").eq(partition(tenant_id, value)))
    if f.action is not None:
        if chosen is None:
            chosen = Source("GSI4", tuple(keys.audit_by_action(tenant_id, f.action, s) for s in range(keys.AUDIT_SHARDS)))
        else:
            terms.append(Attr("action").eq(f.action))
    if chosen is None:
        chosen = Source(None, tuple(keys.audit_history(tenant_id, s) for s in range(keys.AUDIT_SHARDS)))
    return chosen, core.all_of(*terms)


@dataclass
class _Stream:
    """One partition read newest first, a page at a time."""

    source: Source
    partition: str
    lower: str
    upper: str
    where: Any
    page_size: int
    items: list[dict[str, Any]] = field(default_factory=list)
    start: dict[str, Any] | None = None
    done: bool = False
    frontier: str | None = None  # the last sort key examined: everything above it is read

    def fetch(self) -> None:
        sk = self.source.sort_key
        items, self.start = core.query_range(self.partition, (self.lower, self.upper), index=self.source.index,
                                             where=self.where, limit=self.page_size, forward=False, start=self.start)
        self.items += [i for i in items if str(i[sk]) < self.upper]
        self.done = self.start is None
        if self.start is not None:
            self.frontier = str(self.start[sk])


@dataclass
class Newest:
    entries: list[AuditEntry]
    next_after: str | None  # the sort key to continue below, or None at the list's end
    reads: int


def newest_first(source: Source, where: Any, *, lower: str, upper: str, limit: int) -> Newest:
    """Up to `limit` entries with sort keys in [lower, upper), newest first, merged over the source's
    partitions. At most READS_PER_PAGE Queries: a rare filter answers a short page and where to go on."""
    page_size = limit + 1 if where is None else max(100, limit + 1)
    streams = [_Stream(source, p, lower, upper, where, page_size) for p in source.partitions]
    taken: list[dict[str, Any]] = []
    reads = 0
    sk = source.sort_key
    while len(taken) <= limit:
        for stream in streams:
            while not stream.items and not stream.done and reads < READS_PER_PAGE:
                stream.fetch()
                reads += 1
        stalled = [s for s in streams if not s.items and not s.done]
        if stalled:  # out of reads: go on below what every partition has been read down to
            after = str(taken[-1][sk]) if taken else max(s.frontier or upper for s in stalled)
            return Newest(core.models_of(AuditEntry, taken), after, reads)
        ready = [s for s in streams if s.items]
        if not ready:
            break
        best = max(ready, key=lambda s: str(s.items[0][sk]))
        taken.append(best.items.pop(0))
    more = len(taken) > limit
    taken = taken[:limit]
    return Newest(core.models_of(AuditEntry, taken), str(taken[-1][sk]) if more else None, reads)


def in_order(tenant_id: str, after: str, through: str) -> list[AuditEntry]:
    """Every entry with a sort key in (after, through], oldest first: the sealing order. One paged Query
    per shard of the tenant's history."""
    upper = f"{through}#~"  # every audit id of the instant `through`
    per_shard: list[Iterator[dict[str, Any]]] = []
    for shard in range(keys.AUDIT_SHARDS):
        items = core.query_all_items(keys.audit_history(tenant_id, shard), sort_between=(after or "0", upper),
                                     consistent=True, page_size=1000)
        per_shard.append(iter([i for i in items if str(i["SK"]) > after]))
    return core.models_of(AuditEntry, heapq.merge(*per_shard, key=lambda i: str(i["SK"])))


def latest_seal(tenant_id: str) -> AuditSeal | None:
    """The tenant's newest seal: table partition `T#t#AUDITSEAL`, read backwards, one item."""
    page = core.query_page(AuditSeal, keys.audit_seals(tenant_id), limit=1, forward=False)
    return page.items[0] if page.items else None


def seals_between(tenant_id: str, first_through: str, last_through: str, limit: int) -> list[AuditSeal]:
    """Seals whose `sealed_through` lies in [first_through, last_through], oldest first (at most `limit`)."""
    items, _ = core.query_range(keys.audit_seals(tenant_id), (keys.audit_seal_sort(first_through),
                                                              keys.audit_seal_sort(last_through)),
                                limit=limit, consistent=True)  # one Query: seals are small, `limit` fit in 1 MB
    return core.models_of(AuditSeal, items)


def seal_before(tenant_id: str, through: str) -> AuditSeal | None:
    """The last seal ending before `through` (the chain's link into a verified range): one Query of two items."""
    bound = keys.audit_seal_sort(through)
    items, _ = core.query_range(keys.audit_seals(tenant_id), (keys.audit_seal_sort(""), bound), limit=2,
                                forward=False, consistent=True)  # the seal ending at `through`, if any, and the one before
    before = [i for i in items if str(i["SK"]) < bound]
    return core.model_of(AuditSeal, before[0]) if before else None


def record_seal(seal: AuditSeal) -> None:
    """Record a seal, once per range end: racing sealers of the same range record one."""
    core.write(creates=[core.Create(seal, "sealed meanwhile")])


def write_entries(entries: Sequence[core.Create]) -> None:
    """Entries that are the change themselves (reading or exporting the trail)."""
    core.write(creates=entries)
