"""Reading, exporting, sealing and verifying the audit trail.

Sealing: each tenant's entries up to an instant are hashed in order (SHA-256 of each entry's
canonical JSON), the hashes folded into a digest chained to the previous seal's, the digest
signed by KMS, and the seal (every entry's sort key and hash, the digest, the signature) written
to the Object Lock bucket; the table records where it is. Verifying recomputes all of it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sitegate import audit, clock, keys, policy, spreadsheets
from sitegate.data import audit_store, audit_vault, queues
from sitegate.data.audit_store import Filters
from sitegate.errors import invalid
from sitegate.models.audit import (
    AuditEntry,
    AuditSeal,
    SealReport,
    SealTenant,
)
from sitegate.models.responses import AuditEntryOut, AuditEntryPage, AuditProblem, AuditVerification, ProblemKind
from sitegate.policy import Caller
from sitegate.settings import get_settings

GENESIS = "0" * 64  # the previous digest of a tenant's first seal
EXPORT_LIMIT = 5000  # entries per export response (HTTP API answers at most 6 MB); a cursor goes on
SEAL_LAG = timedelta(seconds=60)  # a schedule seals up to a minute ago: every transaction stamped before is in
MAX_VERIFIED_SEALS = 200  # seals one verify request checks (about eight days of hourly seals)
TENANTS_PAGE = 100


# ------------------------------------------------------------------ reading
def _instant(value: datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise invalid(name, "needs a time zone offset (or Z)")
    return audit.format_at(value)


def _bounds(since: datetime | None, until: datetime | None, cursor: str | None) -> tuple[str, str]:
    lower, upper = _instant(since, "from") or "0", (_instant(until, "to") or "9") + "#~"
    if lower > upper:
        raise invalid("from", "must not be after to")
    after = _after(cursor)
    if after is not None:
        upper = min(upper, after)
    return lower, upper


def _after(cursor: str | None) -> str | None:
    from sitegate.data import core

    position = core.decode_position(cursor)
    if position and not (len(position) < 200 and position[:4].isdigit() and "#" in position):
        raise invalid("cursor", "not a cursor from this API")
    return position or None


def _reach(caller: Caller, filters: Filters) -> Filters:
    """The filters as the caller may have them: an account's administrator reads its own account's entries only."""
    decision = policy.require(policy.decide_on_audit(caller))
    if decision.scope is policy.Scope.ACCOUNT:
        return Filters(actor_id=filters.actor_id, target_id=filters.target_id, job_id=filters.job_id,
                       action=filters.action, account_id=caller.account.account_id)
    return filters


def _out(entry: AuditEntry, financial: bool) -> AuditEntryOut:
    def shown(fields: dict[str, Any] | None) -> dict[str, Any] | None:
        if fields is None or financial:
            return fields
        return {k: v for k, v in fields.items() if k not in audit.FINANCIAL_FIELDS}

    return AuditEntryOut(audit_id=entry.audit_id, at=entry.at, actor=entry.actor.model_dump(mode="json"),
                         on_behalf_of_account_id=entry.on_behalf_of_account_id, action=entry.action,
                         target=entry.target.model_dump(mode="json"), before=shown(entry.before),
                         after=shown(entry.after), request=entry.request.model_dump(mode="json"))


def _filters_shown(filters: Filters, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    shown = {k: v for k, v in vars(filters).items() if v is not None}
    return shown | {k: v.isoformat() for k, v in (("from", since), ("to", until)) if v is not None}


def _record_reading(caller: Caller, action: str, filters: Filters, since: datetime | None, until: datetime | None,
                    count: int) -> None:
    """Reading the trail is itself an entry (written after the read, so it is not in what it read)."""
    entry = audit.entry(action, audit.target("audit", caller.user.tenant_id),
                        after={"filters": _filters_shown(filters, since, until), "entries": count},
                        about_account_id=filters.account_id)
    audit_store.write_entries([entry])


def read(caller: Caller, filters: Filters, since: datetime | None, until: datetime | None, limit: int,
         cursor: str | None) -> AuditEntryPage:
    filters = _reach(caller, filters)
    lower, upper = _bounds(since, until, cursor)
    source, where = audit_store.source_of(caller.user.tenant_id, filters)
    found = audit_store.newest_first(source, where, lower=lower, upper=upper, limit=limit)
    financial = bool(policy.decide_financial_fields(caller))
    _record_reading(caller, "audit.read", filters, since, until, len(found.entries))
    from sitegate.data import core

    next_cursor = core.encode_cursor({"after": found.next_after}) if found.next_after else None
    return AuditEntryPage(items=[_out(e, financial) for e in found.entries], next_cursor=next_cursor)


CSV_COLUMNS = ["audit_id", "at", "actor_kind", "actor_user_id", "actor_name", "actor_account_id", "actor_level",
               "on_behalf_of_account_id", "action", "target_type", "target_id", "target_job_id", "before", "after",
               "request_id", "idempotency_key", "source_ip", "user_agent"]


def _csv_row(e: AuditEntryOut) -> list[Any]:
    return [e.audit_id, e.at, e.actor.get("kind"), e.actor.get("user_id"), e.actor.get("name"),
            e.actor.get("account_id"), e.actor.get("level"), e.on_behalf_of_account_id, e.action,
            e.target.get("type"), e.target.get("id"), e.target.get("job_id"), e.before, e.after,
            e.request.get("request_id"), e.request.get("idempotency_key"), e.request.get("source_ip"),
            e.request.get("user_agent")]


def export(caller: Caller, filters: Filters, since: datetime | None, until: datetime | None, fmt: str,
           cursor: str | None) -> tuple[str, str | None]:
    """The filtered entries as CSV or NDJSON, newest first, up to EXPORT_LIMIT; and the cursor of the rest."""
    filters = _reach(caller, filters)
    lower, upper = _bounds(since, until, cursor)
    source, where = audit_store.source_of(caller.user.tenant_id, filters)
    financial = bool(policy.decide_financial_fields(caller))
    entries: list[AuditEntryOut] = []
    after: str | None = upper
    while after is not None and len(entries) < EXPORT_LIMIT:
        found = audit_store.newest_first(source, where, lower=lower, upper=after,
                                         limit=min(1000, EXPORT_LIMIT - len(entries)))
        entries += [_out(e, financial) for e in found.entries]
        after = found.next_after
    _record_reading(caller, "audit.export", filters, since, until, len(entries))
    from sitegate.data import core

    next_cursor = core.encode_cursor({"after": after}) if after else None
    if fmt == "ndjson":
        return "".join(e.model_dump_json() + "\n" for e in entries), next_cursor
    return spreadsheets.csv_text(CSV_COLUMNS, (_csv_row(e) for e in entries)), next_cursor


# ------------------------------------------------------------------ sealing
def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 of an entry's canonical JSON (sorted keys, no spaces): any change to any field changes it."""
    text = json.dumps(entry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def chain(previous_digest: str, sealed_through: str, expires_from: Any, hashes: list[tuple[str, str]]) -> str:
    """The seal's digest: the previous digest, the range's end, its first expiry and every (sort key, hash)
    in order."""
    digest = hashlib.sha256()
    digest.update(f"{previous_digest}\n{sealed_through}\n{expires_from}\n".encode())
    for sort_key, hashed in hashes:
        digest.update(f"{sort_key} {hashed}\n".encode())
    return digest.hexdigest()


def seal_tenant(tenant_id: str, through: str) -> SealReport:
    """Seal the tenant's entries after its last seal up to `through` (an `at`). Nothing new: no seal.
    Safe to repeat and to race: a range end is recorded once (the loser's S3 version is never referenced)."""
    last = audit_store.latest_seal(tenant_id)
    after = last.sealed_through if last else ""
    if through <= after:
        return SealReport(tenant_id=tenant_id, sealed=0)
    entries = audit_store.in_order(tenant_id, after, through)
    if not entries:
        return SealReport(tenant_id=tenant_id, sealed=0)
    hashes = [(keys.audit_sort(e.at, e.audit_id), entry_hash(e)) for e in entries]
    previous = last.digest if last else GENESIS
    expires_from = min(e.ttl for e in entries)
    digest = chain(previous, through, expires_from, hashes)
    sequence = (last.sequence + 1) if last else 1
    object_key = f"{tenant_id}/seals/{through}.json"
    document = {"tenant_id": tenant_id, "sequence": sequence, "sealed_from": after, "sealed_through": through,
                "previous_digest": previous, "digest": digest, "entries": hashes, "expires_from": expires_from,
                "signature": audit_vault.sign(digest), "algorithm": audit_vault.SIGNING_ALGORITHM}
    version_id = audit_vault.put_seal(object_key, document)
    seal = AuditSeal(tenant_id=tenant_id, sequence=sequence, sealed_from=after, sealed_through=through,
                     count=len(entries), digest=digest, previous_digest=previous, object_key=object_key,
                     version_id=version_id, sealed_at=clock.now_iso(),
                     expires_from=expires_from)
    audit_store.record_seal(seal)
    return SealReport(tenant_id=tenant_id, sealed=len(entries), sequence=sequence, sealed_through=through,
                      digest=digest)


def fan_out_seals(scheduled_at: datetime, run_id: str) -> int:
    """The hourly schedule: one message per tenant, sealing up to a minute before the scheduled time.
    Its only loop over tenants pages their ids; each tenant is sealed in its own invocation."""
    through = audit.format_at(scheduled_at - SEAL_LAG)
    return queues.send_per_tenant(get_settings().billing_queue_url, lambda tenant_id: SealTenant(
        tenant_id=tenant_id, through=through, run_id=run_id).model_dump_json(), TENANTS_PAGE)


# ------------------------------------------------------------------ verifying
def _problem(kind: ProblemKind, seal: AuditSeal, audit_id: str | None, digest: str) -> AuditProblem:
    return AuditProblem(kind=kind, audit_id=audit_id, digest=digest, seal_sequence=seal.sequence)


def _check_seal(tenant_id: str, seal: AuditSeal, previous_digest: str,
                now: int) -> tuple[AuditProblem | None, int | None]:
    """One seal against its signed document and the table as it is now: the first problem and the entries
    checked (None: the range has begun to expire, by the expiry the signed document gives, so it is not checked)."""
    document = audit_vault.get_seal(seal.object_key, seal.version_id)
    if document is None:
        return _problem(ProblemKind.MISSING, seal, None, seal.digest), 0
    hashes = [(str(sk), str(h)) for sk, h in document.get("entries", [])]
    digest = str(document.get("digest", ""))
    # The document must hold together: its digest recomputed, signed by our key, and chained to the seal before.
    recomputed = chain(str(document.get("previous_digest", "")), str(document.get("sealed_through", "")),
                       document.get("expires_from"), hashes)
    if (recomputed != digest or not audit_vault.signature_valid(digest, str(document.get("signature", "")))
            or document.get("sealed_through") != seal.sealed_through or digest != seal.digest
            or document.get("previous_digest") != previous_digest):
        return _problem(ProblemKind.ALTERED, seal, None, digest), 0
    expires_from = document.get("expires_from")
    if isinstance(expires_from, int) and expires_from <= now:
        return None, None
    sealed = dict(hashes)
    stored = {keys.audit_sort(e.at, e.audit_id): e
              for e in audit_store.in_order(tenant_id, seal.sealed_from, seal.sealed_through)}
    for sort_key in sorted(set(sealed) | set(stored)):
        audit_id = sort_key.rsplit("#", 1)[-1]
        entry = stored.get(sort_key)
        if entry is None:
            return _problem(ProblemKind.MISSING, seal, audit_id, sealed[sort_key]), len(stored)
        hashed = entry_hash(entry)
        if sort_key not in sealed:
            return _problem(ProblemKind.ADDED, seal, audit_id, hashed), len(stored)
        if hashed != sealed[sort_key]:
            return _problem(ProblemKind.ALTERED, seal, audit_id, hashed), len(stored)
    return None, len(stored)


def verify(caller: Caller, since: datetime | None, until: datetime | None) -> AuditVerification:
    """Recompute the seals in range (at most MAX_VERIFIED_SEALS) and report the first missing, altered or
    added entry. A seal whose entries have begun to expire (retention) is counted as expired, not checked."""
    policy.require(policy.decide_audit_verify(caller))
    tenant_id = caller.user.tenant_id
    first = _instant(since, "from") or ""
    last = (_instant(until, "to") or "9") + "#~"
    if first > last:
        raise invalid("from", "must not be after to")
    seals = audit_store.seals_between(tenant_id, first, last, MAX_VERIFIED_SEALS)
    before = audit_store.seal_before(tenant_id, seals[0].sealed_through) if seals else None
    # The chain's link into the range: the seal before it (seals are never removed), or none for the first.
    previous = before.digest if before else GENESIS
    now = int(clock.now().timestamp())
    checked = expired = 0
    problem: AuditProblem | None = None
    for seal in seals:
        if seal.previous_digest != previous:
            problem = _problem(ProblemKind.MISSING, seal, None, seal.previous_digest)  # a seal of the chain is gone
            break
        problem, count = _check_seal(tenant_id, seal, previous, now)
        if problem is None and count is None:
            expired += 1
        checked += count or 0
        if problem is not None:
            break
        previous = seal.digest
    verification = AuditVerification(verified=problem is None, sealed_through=seals[-1].sealed_through if seals else None,
                                     checked=checked, seals=len(seals), expired_seals=expired, first_problem=problem)
    entry = audit.entry("audit.verify", audit.target("audit", tenant_id),
                        after={"verified": verification.verified, "checked": checked, "seals": len(seals)})
    audit_store.write_entries([entry])
    return verification
