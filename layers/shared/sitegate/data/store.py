"""DynamoDB access for every entity. Creates are conditional; multi-item changes
are one TransactWriteItems; ClientError codes become domain errors here."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel

from sitegate import clock, keys
from sitegate.data.aws import dynamodb_client, table
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.stored import (
    AccessEnded,
    Account,
    Alert,
    BookingDay,
    Delivery,
    DeliveryStatus,
    Equipment,
    Invoice,
    InvoiceUsers,
    Job,
    JobGrant,
    JobRecord,
    JobRequest,
    JobRequestStatus,
    Location,
    ProjectRole,
    Setting,
    Tenant,
    Ticket,
    User,
    UserHistory,
    Vehicle,
)
from sitegate.names import comparable

M = TypeVar("M", bound=BaseModel)


def _item(model: BaseModel, *key_parts: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    item["entity"] = type(model).__name__
    for part in key_parts:
        item.update(part)
    return item


def _model(cls: type[M], item: dict[str, Any] | None) -> M | None:
    return None if item is None else cls.model_validate(item)


def tenant_item(tenant: Tenant) -> dict[str, Any]:
    return _item(tenant, keys.tenant(tenant.tenant_id), keys.tenant_gsi1(tenant.tenant_id))


def account_item(account: Account) -> dict[str, Any]:
    sponsor = account.sponsor_account_id
    return _item(
        account,
        keys.account(account.tenant_id, account.account_id),
        keys.account_gsi1(account.tenant_id, account.kind, account.name, account.account_id),
        keys.account_gsi2(account.tenant_id, sponsor, account.name, account.account_id) if sponsor else {},
    )


def user_item(user: User) -> dict[str, Any]:
    return _item(
        user,
        keys.user(user.tenant_id, user.user_id),
        keys.user_indexes(user.tenant_id, user.account_id, user.status, user.name, user.user_id),
    )


def history_item(entry: UserHistory, seq: str) -> dict[str, Any]:
    return _item(entry, keys.user_history(entry.tenant_id, entry.user_id, entry.at, seq))


def email_marker_item(user: User) -> dict[str, Any]:
    return {**keys.user_email(user.tenant_id, user.email), "entity": "EmailMarker", "user_id": user.user_id}


def customer_code_item(tenant_id: str, code: str, account_id: str) -> dict[str, Any]:
    return {**keys.customer_code(tenant_id, code), "entity": "CustomerCode", "account_id": account_id}


def job_item(job: Job) -> dict[str, Any]:
    return _item(job, keys.job(job.tenant_id, job.job_id),
                 keys.job_indexes(job.tenant_id, job.job_number, job.customer_code))


def job_number_item(job: Job) -> dict[str, Any]:
    return {**keys.job_number(job.tenant_id, job.job_number), "entity": "JobNumber", "job_id": job.job_id}


def grant_item(grant: JobGrant) -> dict[str, Any]:
    return _item(grant, keys.job_grant(grant.tenant_id, grant.job_id, grant.account_id),
                 keys.job_grant_gsi1(grant.tenant_id, grant.account_id, grant.job_number))


def access_ended_item(ended: AccessEnded) -> dict[str, Any]:
    return _item(ended, keys.access_ended(ended.tenant_id, ended.job_id, ended.account_id))


def forget_access_ended(tenant_id: str, job_id: str, account_id: str) -> Remove:
    """A grant by someone who may put the account on the job lifts an earlier removal."""
    return Remove(keys.access_ended(tenant_id, job_id, account_id))


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    return _item(ticket, keys.ticket(ticket.tenant_id, ticket.job_id, ticket.ticket_id))


def record_item(record: JobRecord) -> dict[str, Any]:
    return _item(record, keys.record(record.tenant_id, record.job_id, record.date, record.record_id))


def role_item(role: ProjectRole) -> dict[str, Any]:
    return _item(role, keys.project_role(role.tenant_id, role.job_id, role.user_id))


def put(item: dict[str, Any]) -> None:
    """An unconditional put, for items whose last write wins (settings, project roles)."""
    table().put_item(Item=item)


def setting_item(setting: Setting) -> dict[str, Any]:
    item = _item(setting, keys.setting(setting.tenant_id, setting.key))
    item["value"] = json.dumps(setting.value)  # JSON text: any JSON value round-trips with its types
    return item


def vehicle_item(vehicle: Vehicle) -> dict[str, Any]:
    return _item(vehicle, keys.vehicle(vehicle.tenant_id, vehicle.vehicle_id))


def registration_marker_item(vehicle: Vehicle) -> dict[str, Any]:
    return {**keys.vehicle_registration(vehicle.tenant_id, vehicle.registration), "entity": "RegistrationMarker",
            "vehicle_id": vehicle.vehicle_id}


# ------------------------------------------------------------------ reads
def _batch_get(wanted: Sequence[dict[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Strongly consistent BatchGetItem of up to 100 keys per call, retrying unprocessed keys."""
    name = table().name
    found: dict[tuple[str, str], dict[str, Any]] = {}
    unique = list({(k["PK"], k["SK"]): k for k in wanted}.values())
    for start in range(0, len(unique), 100):
        request: dict[str, Any] = {name: {"Keys": unique[start:start + 100], "ConsistentRead": True}}
        while request:
            response = dynamodb_client().batch_get_item(RequestItems=request)
            for item in response["Responses"].get(name, []):
                found[(item["PK"], item["SK"])] = item
            request = response.get("UnprocessedKeys") or {}
            if request:  # throttled: back off before asking again
                time.sleep(0.05 + random.random() * 0.05)  # noqa: S311 - jitter
    return found


def _pick(cls: type[M], found: dict[tuple[str, str], dict[str, Any]], key: dict[str, str]) -> M | None:
    return _model(cls, found.get((key["PK"], key["SK"])))


def get_caller(tenant_id: str, user_id: str, account_id: str) -> tuple[User | None, Account | None]:
    """The caller's user and account records in one BatchGetItem call."""
    user_key, account_key = keys.user(tenant_id, user_id), keys.account(tenant_id, account_id)
    found = _batch_get([user_key, account_key])
    return _pick(User, found, user_key), _pick(Account, found, account_key)


@dataclass(frozen=True)
class CallerOnJob:
    """What authorizing a job request reads: the caller's user and account, the job, the
    account's entry on its access list and the user's project role on it."""

    user: User | None
    account: Account | None
    job: Job | None
    grant: JobGrant | None
    role: ProjectRole | None


def get_caller_on_job(tenant_id: str, user_id: str, account_id: str, job_id: str) -> CallerOnJob:
    """Caller on a job, in ONE BatchGetItem: table keys `T#t#USER#u`/`USER`, `T#t#ACCOUNT#a`/`ACCOUNT`,
    `T#t#JOB#j`/`JOB`, `T#t#JOB#j`/`ACCESS#a`, `T#t#JOB#j`/`ROLE#u`. A job id we never make reads no job."""
    user_key, account_key = keys.user(tenant_id, user_id), keys.account(tenant_id, account_id)
    try:
        job_keys = [keys.job(tenant_id, job_id), keys.job_grant(tenant_id, job_id, account_id),
                    keys.project_role(tenant_id, job_id, user_id)]
    except NotFound:  # names nothing: the caller is still checked first
        found = _batch_get([user_key, account_key])
        return CallerOnJob(_pick(User, found, user_key), _pick(Account, found, account_key), None, None, None)
    found = _batch_get([user_key, account_key, *job_keys])
    job_key, grant_key, role_key = job_keys
    return CallerOnJob(_pick(User, found, user_key), _pick(Account, found, account_key), _pick(Job, found, job_key),
                       _pick(JobGrant, found, grant_key), _pick(ProjectRole, found, role_key))


def get_sponsor_on_job(tenant_id: str, sponsor_account_id: str, job_id: str) -> tuple[Account | None, JobGrant | None]:
    """A guest's sponsor and its entry on the job, in one BatchGetItem: table keys `T#t#ACCOUNT#s`/`ACCOUNT`
    and `T#t#JOB#j`/`ACCESS#s`."""
    account_key, grant_key = keys.account(tenant_id, sponsor_account_id), keys.job_grant(tenant_id, job_id,
                                                                                            sponsor_account_id)
    found = _batch_get([account_key, grant_key])
    return _pick(Account, found, account_key), _pick(JobGrant, found, grant_key)


def get_jobs(tenant_id: str, job_ids: Sequence[str]) -> list[Job]:
    found = _batch_get([keys.job(tenant_id, j) for j in job_ids])
    return [j for j in (_pick(Job, found, keys.job(tenant_id, j)) for j in job_ids) if j is not None]


def get_grants(tenant_id: str, account_id: str, job_ids: Sequence[str]) -> list[JobGrant]:
    found = _batch_get([keys.job_grant(tenant_id, j, account_id) for j in job_ids])
    grants = (_pick(JobGrant, found, keys.job_grant(tenant_id, j, account_id)) for j in job_ids)
    return [g for g in grants if g is not None]


def get_roles(tenant_id: str, user_id: str, job_ids: Sequence[str]) -> dict[str, ProjectRole]:
    """A user's project roles on these jobs, by job id, in one BatchGetItem (per 100 jobs)."""
    found = _batch_get([keys.project_role(tenant_id, j, user_id) for j in job_ids])
    roles = (_pick(ProjectRole, found, keys.project_role(tenant_id, j, user_id)) for j in job_ids)
    return {r.job_id: r for r in roles if r is not None}


def customer_with_code(tenant_id: str, code: str) -> str | None:
    """The id of the customer account that carries this customer code, if any."""
    marker = table().get_item(Key=keys.customer_code(tenant_id, code), ConsistentRead=True).get("Item")
    return None if marker is None else str(marker["account_id"])


def get_accounts(tenant_id: str, account_ids: Sequence[str]) -> list[Account]:
    found = _batch_get([keys.account(tenant_id, a) for a in account_ids])
    return _models(Account, found.values())


def delete_job(job: Job, users: Sequence[User] = ()) -> None:
    """Delete a job, its number marker, its access list and its project roles, and rewrite `users`
    (given without the job in `job_ids`). Users go first and the job item in the last transaction,
    so a failure part-way leaves the job to delete again."""
    # The job and its number first in the list: chunks are written from the end, so they go last.
    removes = [Remove(keys.job(job.tenant_id, job.job_id)), Remove(keys.job_number(job.tenant_id, job.job_number))]
    removes += [remove_grant(e) for e in job_access_list(job)]
    removes += [Remove(keys.project_role(r.tenant_id, r.job_id, r.user_id)) for r in job_roles(job)]
    removes += [Remove(keys.access_ended(e.tenant_id, e.job_id, e.account_id))
                for e in query_all(AccessEnded, keys.job_partition(job.tenant_id, job.job_id),
                                                    keys.ACCESS_ENDED_PREFIX)]
    removes += [remove_portal(job), *job_counted_items(job)]  # the portal forgets it; the dashboard stops counting
    replaces = [Replace(user_item(u)) for u in users]
    for start in range(0, len(replaces), TRANSACTION_ITEMS):
        write(replaces=replaces[start:start + TRANSACTION_ITEMS])
    for end in range(len(removes), 0, -TRANSACTION_ITEMS):
        write(removes=removes[max(0, end - TRANSACTION_ITEMS):end])


def get_item(cls: type[M], key: dict[str, str]) -> M | None:
    return _model(cls, table().get_item(Key=key, ConsistentRead=True).get("Item"))


def get_tenant(tenant_id: str) -> Tenant | None:
    return _model(Tenant, table().get_item(Key=keys.tenant(tenant_id)).get("Item"))


def tenants_page(limit: int, cursor: str | None) -> Page[Tenant]:
    """Every tenant, by id: GSI1 `T#platform#TENANTS` (jobs that run per tenant page through it)."""
    return query_page(Tenant, keys.tenants_list(), index="GSI1", limit=limit, cursor=cursor)


def get_user(tenant_id: str, user_id: str) -> User | None:
    return _model(User, table().get_item(Key=keys.user(tenant_id, user_id), ConsistentRead=True).get("Item"))


def get_account(tenant_id: str, account_id: str) -> Account | None:
    return _model(Account, table().get_item(Key=keys.account(tenant_id, account_id), ConsistentRead=True).get("Item"))


def get_user_and_account(tenant_id: str, user_id: str) -> tuple[User | None, Account | None]:
    user = get_user(tenant_id, user_id)
    return (None, None) if user is None else (user, get_account(tenant_id, user.account_id))


# ------------------------------------------- users, accounts, settings, vehicles: named access patterns
def tenant_users_page(tenant_id: str, status: str | None, limit: int, cursor: str | None) -> Page[User]:
    """Users of a tenant, by status then name: GSI2 `T#t#USERS`, sort prefix `{status}#`."""
    return query_page(User, keys.tenant_users(tenant_id), index="GSI2", sort_prefix=_status_prefix(status),
                      limit=limit, cursor=cursor)


def account_users_page(tenant_id: str, account_id: str, status: str | None, limit: int,
                       cursor: str | None) -> Page[User]:
    """Users of one account, by status then name: GSI1 `T#t#ACCOUNT#a#USERS`, sort prefix `{status}#`."""
    return query_page(User, keys.account_users(tenant_id, account_id), index="GSI1",
                      sort_prefix=_status_prefix(status), limit=limit, cursor=cursor)


def active_users_of_account(tenant_id: str, account_id: str) -> list[User]:
    """Every active user of one account: GSI1 `T#t#ACCOUNT#a#USERS`, sort prefix `active#`."""
    return query_all(User, keys.account_users(tenant_id, account_id), keys.users_with_status("active"), index="GSI1")


def _status_prefix(status: str | None) -> str | None:
    return None if status is None else keys.users_with_status(status)


def tenant_accounts_page(tenant_id: str, kind: str | None, limit: int, cursor: str | None) -> Page[Account]:
    """Accounts of a tenant, by kind then name: GSI1 `T#t#ACCOUNTS`, sort prefix `{kind}#`."""
    return query_page(Account, keys.tenant_accounts(tenant_id), index="GSI1",
                      sort_prefix=None if kind is None else keys.accounts_of_kind(kind), limit=limit, cursor=cursor)


def sponsored_guests_page(tenant_id: str, sponsor_account_id: str, limit: int, cursor: str | None) -> Page[Account]:
    """Guest contractor accounts created by one account, by name: GSI2 `T#t#ACCOUNT#a#GUESTS`."""
    return query_page(Account, keys.sponsored_guests(tenant_id, sponsor_account_id), index="GSI2", limit=limit,
                      cursor=cursor)


def remove_email_marker(user: User) -> Remove:
    """Free a user's email for reuse in its tenant (with the user's deletion): table key `T#t#EMAIL#{email}`."""
    return Remove(keys.user_email(user.tenant_id, user.email))


def remove_customer_code_marker(tenant_id: str, code: str) -> Remove:
    """Free a customer code (dropped from, or archived with, its customer): table key `T#t#CUSTOMERCODE#{code}`."""
    return Remove(keys.customer_code(tenant_id, code))


def settings(tenant_id: str) -> list[Setting]:
    """Every stored setting of a tenant: table partition `T#t#SETTINGS`, sort prefix `SETTING#`."""
    return [Setting.model_validate({**item, "value": json.loads(item["value"])})
            for item in _query_all_items(keys.tenant_settings(tenant_id), keys.SETTING_PREFIX)]


def put_setting(setting: Setting) -> None:
    """Write one setting, last write wins: table key `T#t#SETTINGS` / `SETTING#{key}`."""
    put(setting_item(setting))


def vehicles_page(tenant_id: str, limit: int, cursor: str | None) -> Page[Vehicle]:
    """Vehicles of a tenant: table partition `T#t#VEHICLES`."""
    return query_page(Vehicle, keys.vehicles(tenant_id), limit=limit, cursor=cursor)


# ------------------------------------------------------------ jobs: named access patterns
def search_jobs(tenant_id: str, prefix: str, limit: int, cursor: str | None) -> Page[Job]:
    """Jobs of a tenant by job-number prefix: GSI1 `T#t#JOBS`, sort prefix the normalized number."""
    return query_page(Job, keys.tenant_jobs(tenant_id), index="GSI1", sort_prefix=keys.job_number_key(prefix) or None,
                      limit=limit, cursor=cursor)


def account_job_grants(tenant_id: str, account_id: str, prefix: str, limit: int,
                       cursor: str | None) -> Page[JobGrant]:
    """An account's entries on access lists by job-number prefix: GSI1 `T#t#ACCOUNT#a#JOBS`, sort prefix
    the normalized number."""
    return query_page(JobGrant, keys.account_jobs(tenant_id, account_id), index="GSI1",
                      sort_prefix=keys.job_number_key(prefix) or None, limit=limit, cursor=cursor)


def customer_jobs(tenant_id: str, code: str) -> list[Job]:
    """Every job carrying a customer code: GSI2 `T#t#CODEJOBS#{code}`."""
    return query_all(Job, keys.jobs_with_code(tenant_id, code), index="GSI2")


def count_active_jobs(tenant_id: str) -> int:
    """How many active jobs a tenant has: GSI1 `T#t#JOBS` (COUNT, filter status = active)."""
    return count(keys.tenant_jobs(tenant_id), index="GSI1", status="active")


def get_grant(tenant_id: str, job_id: str, account_id: str) -> JobGrant | None:
    """One account's entry on a job's access list: table key `T#t#JOB#j` / `ACCESS#a`."""
    return get_item(JobGrant, keys.job_grant(tenant_id, job_id, account_id))


def remove_grant(grant: JobGrant) -> Remove:
    """The removal of an entry from a job's access list (to write): table key `T#t#JOB#j` / `ACCESS#a`."""
    return Remove(keys.job_grant(grant.tenant_id, grant.job_id, grant.account_id))


def remove_grants(grants: Sequence[JobGrant]) -> None:
    """Remove entries from access lists, up to 100 per transaction."""
    removes = [remove_grant(g) for g in grants]
    for start in range(0, len(removes), TRANSACTION_ITEMS):
        write(removes=removes[start:start + TRANSACTION_ITEMS])


def job_access_list(job: Job) -> list[JobGrant]:
    """A job's access list: table partition `T#t#JOB#j`, sort prefix `ACCESS#`."""
    return query_all(JobGrant, keys.job_partition(job.tenant_id, job.job_id), keys.ACCESS_PREFIX)


def job_roles(job: Job) -> list[ProjectRole]:
    """The project roles set on a job: table partition `T#t#JOB#j`, sort prefix `ROLE#`."""
    return query_all(ProjectRole, keys.job_partition(job.tenant_id, job.job_id), keys.ROLE_PREFIX)


def put_role(role: ProjectRole) -> None:
    """Set a user's project role on a job, last write wins: table key `T#t#JOB#j` / `ROLE#u`."""
    put(role_item(role))


def remove_role(job: Job, user_id: str) -> None:
    """Clear a user's project role on a job (`not_on_jobsite`): table key `T#t#JOB#j` / `ROLE#u`."""
    write(removes=[Remove(keys.project_role(job.tenant_id, job.job_id, user_id))])


def get_ticket(job: Job, ticket_id: str) -> Ticket | None:
    """One ticket of a job: table key `T#t#JOB#j` / `TICKET#k`."""
    return get_item(Ticket, keys.ticket(job.tenant_id, job.job_id, ticket_id))


def ticket_number_item(ticket: Ticket) -> dict[str, Any]:
    """The marker that keeps a ticket number unique on its job: table key `T#t#JOB#j` / `TICKETNO#{number}`."""
    return {**keys.ticket_number(ticket.tenant_id, ticket.job_id, ticket.ticket_number), "entity": "TicketNumber",
            "ticket_id": ticket.ticket_id}


def job_tickets_page(job: Job, limit: int, cursor: str | None) -> Page[Ticket]:
    """One page of a job's tickets: table partition `T#t#JOB#j`, sort prefix `TICKET#`."""
    return query_page(Ticket, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.TICKET_PREFIX,
                      limit=limit, cursor=cursor)


def job_tickets_all(job: Job) -> list[Ticket]:
    """Every ticket of a job (truck ETAs): table partition `T#t#JOB#j`, sort prefix `TICKET#`."""
    return query_all(Ticket, keys.job_partition(job.tenant_id, job.job_id), keys.TICKET_PREFIX)


def job_records_page(job: Job, limit: int, cursor: str | None) -> Page[JobRecord]:
    """One page of a job's records, by date: table partition `T#t#JOB#j`, sort prefix `RECORD#`."""
    return query_page(JobRecord, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.RECORD_PREFIX,
                      limit=limit, cursor=cursor)


def users_of_account(tenant_id: str, account_id: str) -> list[User]:
    """Every user of one account, whatever its status: GSI1 `T#t#ACCOUNT#a#USERS`."""
    return query_all(User, keys.account_users(tenant_id, account_id), index="GSI1")


def remove_outbox_event(tenant_id: str, occurred_at: str, event_id: str) -> bool:
    """An event SNS took leaves the outbox: DeleteItem `T#t#OUTBOX` / `EVENT#{occurred_at}#{event_id}`, on
    condition that it is still there. False when it was already gone (the other path removed it first)."""
    try:
        table().delete_item(Key=keys.outbox_event(tenant_id, occurred_at, event_id),
                            ConditionExpression=Attr("PK").exists())
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def outbox_event_waiting(tenant_id: str, occurred_at: str, event_id: str) -> bool:
    """Is the event still in its tenant's outbox (not yet taken by SNS)? A consistent GetItem of
    `T#t#OUTBOX` / `EVENT#{occurred_at}#{event_id}`, its key only."""
    return "Item" in table().get_item(Key=keys.outbox_event(tenant_id, occurred_at, event_id), ConsistentRead=True,
                                      ProjectionExpression="PK")


# --------------------------------------------------------------- idempotency
IDEMPOTENCY_TTL = timedelta(hours=24)  # as payment APIs keep keys: a day to retry, then the key is free again


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key in force for one create."""

    tenant_id: str
    scope: str
    key: str
    request_hash: str

    def create(self, response: BaseModel, status: int = 201) -> ReplaceExpired:
        """The marker item, holding the first response, to write with the create. It expires
        (DynamoDB TTL) a day after it was written."""
        item = {
            **keys.idempotency(self.tenant_id, self.scope, self.key),
            "entity": "Idempotency",
            "request_hash": self.request_hash,
            "status": status,
            "body": response.model_dump_json(),  # JSON text: no Decimal round-trip
            "ttl": int((clock.now() + IDEMPOTENCY_TTL).timestamp()),
        }
        # An expired marker that DynamoDB has not swept yet may be taken over.
        return ReplaceExpired(item, int(clock.now().timestamp()), "Idempotency-Key already used", attribute="ttl")


def find_idempotent_response(tenant_id: str, scope: str, key: str, request_hash: str) -> IdempotentResponse | None:
    """The first response to this Idempotency-Key, or None. A reused key with another body is a conflict.
    A marker past its expiry counts as gone even before DynamoDB's TTL sweep removes it."""
    item = table().get_item(Key=keys.idempotency(tenant_id, scope, key), ConsistentRead=True).get("Item")
    if item is None or int(item.get("ttl", 0)) <= clock.now().timestamp():
        return None
    if item["request_hash"] != request_hash:
        raise Conflict("Idempotency-Key was already used with a different request body")
    return IdempotentResponse(status=int(item["status"]), body=json.loads(item["body"]))


# ------------------------------------------------------------------ writes
@dataclass(frozen=True)
class Create:
    """One item put only if its key is new; `conflict` names the clash for the caller."""

    item: dict[str, Any]
    conflict: str


@dataclass(frozen=True)
class Replace:
    """An item rewritten only if nobody changed it since it was read (optimistic
    lock on `version`, which the new item must carry bumped by one)."""

    item: dict[str, Any]
    conflict: str = "changed by someone else meanwhile; read it again"


@dataclass(frozen=True)
class ReplaceExpired:
    """An entry rewritten only if the one it replaces is gone or has expired by `now`
    (an expired Idempotency-Key marker, an expired access entry)."""

    item: dict[str, Any]
    now: str | int
    conflict: str
    attribute: str = "expires_at"


@dataclass(frozen=True)
class Upsert:
    """An item put whatever was there: a marker whose latest state is all that counts."""

    item: dict[str, Any]
    conflict: str = "conflict"


@dataclass(frozen=True)
class Remove:
    key: dict[str, str]


class IdempotencyReplay(Exception):
    """The transaction lost the race to an earlier request with the same Idempotency-Key."""


TRANSACTION_ITEMS = 100  # DynamoDB's limit on one TransactWriteItems
_CONFLICT_RETRIES = 4  # transactions cancelled by a concurrent transaction on the same items are retried


def _transact_item(name: str, op: Create | ReplaceExpired | Replace | Upsert | Remove) -> dict[str, Any]:
    if isinstance(op, Upsert):
        return {"Put": {"TableName": name, "Item": op.item}}
    if isinstance(op, Create):
        return {"Put": {"TableName": name, "Item": op.item, "ConditionExpression": "attribute_not_exists(PK)"}}
    if isinstance(op, ReplaceExpired):
        return {"Put": {"TableName": name, "Item": op.item,
                        "ConditionExpression": "attribute_not_exists(PK) OR #expiry <= :now",
                        "ExpressionAttributeNames": {"#expiry": op.attribute},
                        "ExpressionAttributeValues": {":now": op.now}}}
    if isinstance(op, Replace):
        return {"Put": {"TableName": name, "Item": op.item, "ConditionExpression": "version = :read",
                        "ExpressionAttributeValues": {":read": op.item["version"] - 1}}}
    return {"Delete": {"TableName": name, "Key": op.key}}


def write(creates: Sequence[Create | ReplaceExpired | Upsert] = (), replaces: Sequence[Replace] = (),
          removes: Sequence[Remove] = ()) -> None:
    """All or nothing, in one TransactWriteItems: creates only if new, replaces only if unchanged.

    A change of more than 100 items is refused before anything is written (callers split
    what can be split). A transaction cancelled only because a concurrent one held the
    same items is retried; conditions, not timing, decide who wins."""
    name = table().name
    operations: list[Create | ReplaceExpired | Replace | Upsert | Remove] = [*creates, *replaces, *removes]
    if not operations:
        return
    if len(operations) > TRANSACTION_ITEMS:
        raise invalid("body", f"the change is too large to make at once: more than {TRANSACTION_ITEMS} items")
    transact = [_transact_item(name, op) for op in operations]
    for attempt in range(_CONFLICT_RETRIES + 1):
        try:
            dynamodb_client().transact_write_items(TransactItems=transact)
            return
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "ValidationException" and "size" in exc.response["Error"].get("Message", "").lower():
                raise invalid("body", "too large to store: the item would exceed 400 KB") from exc
            if code != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            failed = [op for op, reason in zip(operations, reasons, strict=False) if reason == "ConditionalCheckFailed"]
            # A repeat of an Idempotency-Key lost the race: the first response stands, whatever else clashed.
            if any(not isinstance(op, Remove) and op.item.get("entity") == "Idempotency" for op in failed):
                raise IdempotencyReplay() from exc
            if failed:
                # An item changed since it was read explains the rest: say that, not a clash it caused.
                first = next((op for op in failed if isinstance(op, Replace)), failed[0])
                raise Conflict(first.conflict if not isinstance(first, Remove) else "conflict") from exc
            if "TransactionConflict" in reasons and attempt < _CONFLICT_RETRIES:
                time.sleep(0.02 * 2 ** attempt + random.random() * 0.02)  # noqa: S311 - jitter, not secrecy
                continue
            if "TransactionConflict" in reasons:
                raise Conflict("changed by someone else at the same moment; try again") from exc
            raise


def create_once(creates: Sequence[Create | ReplaceExpired], response: BaseModel, idempotency: Idempotency | None,
                *, replaces: Sequence[Replace] = (), removes: Sequence[Remove] = ()) -> None:
    """The one way to write a create: its items (and any replaces/removes that go with it) and,
    under an Idempotency-Key, the first response, all in one transaction."""
    marker = [idempotency.create(response)] if idempotency is not None else []
    write(creates=[*creates, *marker], replaces=replaces, removes=removes)


# ------------------------------------------------------------------ lists
def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return None if not key else base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise invalid("cursor", "not a cursor from this API") from exc
    if not isinstance(key, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in key.items()):
        raise invalid("cursor", "not a cursor from this API")
    return key


def decode_position(cursor: str | None) -> str:
    """A cursor of a list paged by our own position (`{"after": ...}`), not by a DynamoDB key."""
    key = decode_cursor(cursor)
    if key is not None and set(key) != {"after"}:
        raise invalid("cursor", "cursor of another list")
    return (key or {}).get("after", "")


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def _key_names(index: str | None) -> tuple[str, str]:
    return ("PK", "SK") if index is None else (f"{index}PK", f"{index}SK")


def _query_kwargs(partition: str, *, index: str | None = None, sort_prefix: str | None = None,
                  sort_between: tuple[str, str] | None = None, where: Any = None) -> dict[str, Any]:
    """A Query of one partition (table or GSI), narrowed by a sort-key prefix or range and a filter."""
    pk, sk = _key_names(index)
    condition = Key(pk).eq(partition)
    if sort_prefix:
        condition = condition & Key(sk).begins_with(sort_prefix)
    if sort_between is not None:
        condition = condition & Key(sk).between(*sort_between)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    if index is not None:
        kwargs["IndexName"] = index
    if where is not None:
        kwargs["FilterExpression"] = where
    return kwargs


def _all_of(*terms: Any) -> Any:
    """The filter that every given term (None: none) must pass, or None when there is none."""
    where = None
    for term in terms:
        if term is not None:
            where = term if where is None else where & term
    return where


def _responses(kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a Query, following LastEvaluatedKey."""
    while True:
        response = table().query(**kwargs)
        yield response
        if "LastEvaluatedKey" not in response:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": response["LastEvaluatedKey"]}


def _query_items(partition: str, *, index: str | None = None, sort_prefix: str | None = None,
                 sort_between: tuple[str, str] | None = None, where: Any = None, limit: int = 50,
                 cursor: str | None = None, forward: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix, sort_between=sort_between, where=where),
              "Limit": limit, "ScanIndexForward": forward}
    pk, sk = _key_names(index)
    start = decode_cursor(cursor)
    if start is not None:
        # A cursor is the last key of this list's page: the table key, plus the index key when paging an index.
        wanted = {"PK", "SK"} | ({pk, sk} if index is not None else set())
        if start.get(pk) != partition or set(start) != wanted:
            raise invalid("cursor", "cursor of another list")
        kwargs["ExclusiveStartKey"] = start
    try:
        response = table().query(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ValidationException":  # a start key DynamoDB refuses
            raise invalid("cursor", "cursor of another list") from exc
        raise
    return response.get("Items", []), encode_cursor(response.get("LastEvaluatedKey"))


def query_page(model: type[M], partition: str, *, index: str | None = None, sort_prefix: str | None = None,
               limit: int = 50, cursor: str | None = None, forward: bool = True) -> Page[M]:
    """One page of a partition (table or GSI), optionally narrowed by a sort-key prefix; `forward=False`
    walks the sort key from its end."""
    items, next_cursor = _query_items(partition, index=index, sort_prefix=sort_prefix, limit=limit, cursor=cursor,
                                      forward=forward)
    return Page(_models(model, items), next_cursor)


FILTERED_PAGE_READS = 20  # Queries one filtered page may take (about 1,000 to 4,000 items read at most)


def filtered_page(model: type[M], partition: str, *, index: str, sort_prefix: str | None = None,
                  sort_between: tuple[str, str] | None = None, where: Any = None, limit: int,
                  cursor: str | None) -> Page[M]:
    """One page of a partition under a filter. DynamoDB applies `Limit` before the filter, so one call
    can return an empty page while more items follow: query on until `limit` items passed (or the list
    ends); the cursor is then the last item kept, so a page is never empty while its list goes on.
    A rare filter over a long list stops after FILTERED_PAGE_READS Queries with a short page and its cursor."""
    items: list[dict[str, Any]] = []
    for _ in range(FILTERED_PAGE_READS):
        page, cursor = _query_items(partition, index=index, sort_prefix=sort_prefix, sort_between=sort_between,
                                    where=where, limit=max(limit, 50), cursor=cursor)
        items += page
        if len(items) >= limit:
            more = len(items) > limit or cursor is not None
            items = items[:limit]
            kept = {name: items[-1][name] for name in ("PK", "SK", *_key_names(index))}
            return Page(_models(model, items), encode_cursor(kept) if more else None)
        if cursor is None:
            break
    return Page(_models(model, items), cursor)


def _query_all_items(partition: str, sort_prefix: str = "", *, index: str | None = None,
                     sort_between: tuple[str, str] | None = None, where: Any = None, page_size: int = 200,
                     consistent: bool = False) -> list[dict[str, Any]]:
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix or None, sort_between=sort_between,
                              where=where), "Limit": page_size}
    if consistent:
        kwargs["ConsistentRead"] = True
    return [item for response in _responses(kwargs) for item in response.get("Items", [])]


def query_all(model: type[M], partition: str, sort_prefix: str = "", *, index: str | None = None) -> list[M]:
    """Every item of one partition under a sort-key prefix (bounded sets: a job's access list, roles)."""
    return _models(model, _query_all_items(partition, sort_prefix, index=index))


def count(partition: str, *, index: str | None = None, sort_prefix: str | None = None, **equals: str) -> int:
    """How many items of a partition (under a sort-key prefix) have these attribute values (dashboard counters)."""
    where = _all_of(*(Attr(name).eq(value) for name, value in equals.items()))
    kwargs = {**_query_kwargs(partition, index=index, sort_prefix=sort_prefix, where=where), "Select": "COUNT"}
    return sum(int(response["Count"]) for response in _responses(kwargs))


def _models(cls: type[M], items: Iterable[dict[str, Any]]) -> list[M]:
    return [cls.model_validate(item) for item in items]


# ------------------------------------------------------------ notifications: named access patterns
def get_users(tenant_id: str, user_ids: Sequence[str]) -> list[User]:
    """Users by id, whatever their status, in BatchGetItem calls of 100: table keys `T#t#USER#u` / `USER`."""
    found = _batch_get([keys.user(tenant_id, u) for u in user_ids])
    users = (_pick(User, found, keys.user(tenant_id, u)) for u in dict.fromkeys(user_ids))
    return [u for u in users if u is not None]


def roles_on_job(tenant_id: str, job_id: str) -> list[ProjectRole]:
    """The project roles set on a job, by job id: table partition `T#t#JOB#j`, sort prefix `ROLE#`."""
    return query_all(ProjectRole, keys.job_partition(tenant_id, job_id), keys.ROLE_PREFIX)


def accounts_on_job(tenant_id: str, job_id: str, account_ids: Sequence[str]) -> tuple[dict[str, Account],
                                                                                      dict[str, JobGrant]]:
    """Accounts and their entries on a job's access list, in one BatchGetItem (of 100 keys): table keys
    `T#t#ACCOUNT#a` / `ACCOUNT` and `T#t#JOB#j` / `ACCESS#a`."""
    wanted = list(dict.fromkeys(account_ids))
    found = _batch_get([k for a in wanted for k in (keys.account(tenant_id, a), keys.job_grant(tenant_id, job_id, a))])
    accounts = {a: _pick(Account, found, keys.account(tenant_id, a)) for a in wanted}
    grants = {a: _pick(JobGrant, found, keys.job_grant(tenant_id, job_id, a)) for a in wanted}
    return ({a: v for a, v in accounts.items() if v is not None}, {a: v for a, v in grants.items() if v is not None})


def alert_item(alert: Alert) -> dict[str, Any]:
    return _item(alert, keys.alert(alert.tenant_id, alert.job_id, alert.alert_id))


def get_alert(tenant_id: str, job_id: str, alert_id: str) -> Alert | None:
    """One alert of a job with its roll-call: table key `T#t#JOB#j` / `ALERT#{alert_id}`."""
    return get_item(Alert, keys.alert(tenant_id, job_id, alert_id))


def job_alerts_page(tenant_id: str, job_id: str, limit: int, cursor: str | None) -> Page[Alert]:
    """A job's alerts, newest first: table partition `T#t#JOB#j`, sort prefix `ALERT#` (ids are time-ordered),
    read backwards."""
    return query_page(Alert, keys.job_partition(tenant_id, job_id), sort_prefix=keys.ALERT_PREFIX, limit=limit,
                      cursor=cursor, forward=False)


def acknowledge_alert(alert: Alert, user_id: str, at: str) -> str:
    """Record a recipient's acknowledgment, keeping the first: one UpdateItem on the alert,
    `SET acks.#u = if_not_exists(acks.#u, :at)`; returns the time that stands."""
    try:
        response = table().update_item(
            Key=keys.alert(alert.tenant_id, alert.job_id, alert.alert_id),
            UpdateExpression="SET acks.#u = if_not_exists(acks.#u, :at)",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#u": user_id}, ExpressionAttributeValues={":at": at},
            ReturnValues="UPDATED_NEW")
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise NotFound(f"alert {alert.alert_id} not found") from exc
        raise
    return str(response["Attributes"]["acks"][user_id])


# Exactly once per (event, person, channel): a marker `T#t#SENT#{event_id}` / `{user_id}#{channel}` is
# claimed ('pending') with a conditional write before sending, completed ('sent') after, and released
# (deleted) when the send failed, so that a retry sends it then.
SENT_TTL = timedelta(days=14)  # as long as the dead-letter queue keeps the event


def _marker(tenant_id: str, event_id: str, target: tuple[str, str], state: str) -> dict[str, Any]:
    user_id, channel = target
    return {**keys.sent_marker(tenant_id, event_id, user_id, channel), "entity": "SentMarker", "state": state,
            "at": clock.now_iso(), "ttl": int((clock.now() + SENT_TTL).timestamp())}


def claim_sends(tenant_id: str, event_id: str, targets: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Claim each (user_id, channel) of an event: TransactWriteItems of up to 100 conditional puts
    (`attribute_not_exists(PK)`). Returns the targets found claimed already, with their state
    ('pending' or 'sent'); every other target is now claimed by this caller. A transaction cancelled
    because some markers exist is written again without them (their old state comes back with the
    cancellation), so a redelivered event costs one cancelled transaction per 100 targets."""
    name = table().name
    taken: dict[tuple[str, str], str] = {}
    remaining = list(dict.fromkeys(targets))
    for attempt in range(len(remaining) + _CONFLICT_RETRIES + 1):
        chunk = remaining[:TRANSACTION_ITEMS]
        if not chunk:
            return taken
        transact = [{"Put": {"TableName": name, "Item": _marker(tenant_id, event_id, t, "pending"),
                             "ConditionExpression": "attribute_not_exists(PK)",
                             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for t in chunk]
        try:
            dynamodb_client().transact_write_items(TransactItems=transact)
            remaining = remaining[len(chunk):]
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
        for target, reason in zip(chunk, reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                # An error's old item comes back in DynamoDB's own typed form ({"S": ...}): no resource parses it.
                state = (reason.get("Item") or {}).get("state", {"S": "pending"})
                taken[target] = str(state.get("S", "pending") if isinstance(state, dict) else state)
        if not any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            time.sleep(0.02 * 2 ** min(attempt, 5) + random.random() * 0.02)  # noqa: S311 - a concurrent claim: jitter
        remaining = [t for t in remaining if t not in taken]
    raise Conflict(f"could not claim the sends of event {event_id}: too many concurrent claims")


def complete_sends(tenant_id: str, event_id: str, targets: Sequence[tuple[str, str]]) -> None:
    """Mark claimed targets 'sent': BatchWriteItem puts of 25, retrying unprocessed items."""
    name = table().name
    puts = [{"PutRequest": {"Item": _marker(tenant_id, event_id, t, "sent")}} for t in dict.fromkeys(targets)]
    for start in range(0, len(puts), 25):
        pending: dict[str, Any] = {name: puts[start:start + 25]}
        attempt = 0
        while pending:
            pending = dynamodb_client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:  # throttled: back off before asking again, as DynamoDB advises
                time.sleep(min(0.05 * 2 ** attempt, 1.0) + random.random() * 0.05)  # noqa: S311 - jitter
                attempt += 1


def release_send(tenant_id: str, event_id: str, target: tuple[str, str]) -> None:
    """Give a claim back after a failed send, so the event's retry sends it: DeleteItem while 'pending'."""
    user_id, channel = target
    try:
        # The client, not the table resource: this runs on the sending threads, and only clients are thread-safe.
        dynamodb_client().delete_item(TableName=table().name, Key=keys.sent_marker(tenant_id, event_id, user_id, channel),
                            ConditionExpression="#s = :pending", ExpressionAttributeNames={"#s": "state"},
                            ExpressionAttributeValues={":pending": "pending"})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


# ------------------------------------------------------------------ billing: named access patterns
BILLING_PAGE = 1000  # items per Query page when billing reads a whole tenant (within DynamoDB's 1 MB)
INVOICE_CHUNK_BYTES = 300_000  # billed users per chunk item, well under DynamoDB's 400 KB item limit


def staff_users(tenant: Tenant) -> list[User]:
    """Every user of the tenant's owner account, whatever its status: GSI1 `T#t#ACCOUNT#owner#USERS`,
    pages of 1,000."""
    return _models(User, _query_all_items(keys.account_users(tenant.tenant_id, tenant.owner_account_id), index="GSI1",
                                          page_size=BILLING_PAGE))


def history_since(tenant_id: str, since_iso: str) -> list[UserHistory]:
    """The tenant's status and level changes at or after `since_iso` (UTC ISO), in time order:
    GSI2 `T#t#HISTORY`, `GSI2SK >= since`, pages of 1,000."""
    return _models(UserHistory, _query_all_items(keys.tenant_history(tenant_id), index="GSI2",
                                                 sort_between=(since_iso, "~"), page_size=BILLING_PAGE))


def invoice_item(invoice: Invoice) -> dict[str, Any]:
    return _item(invoice, keys.invoice(invoice.tenant_id, invoice.period),
                 keys.invoice_gsi1(invoice.tenant_id, invoice.period))


def invoice_users_item(chunk: InvoiceUsers) -> dict[str, Any]:
    return _item(chunk, keys.invoice_users(chunk.tenant_id, chunk.period, chunk.chunk))


def chunk_invoice_users(tenant_id: str, period: str, users: Sequence[Any]) -> list[InvoiceUsers]:
    """Billed users split into items of at most INVOICE_CHUNK_BYTES each."""
    chunks: list[InvoiceUsers] = []
    current: list[Any] = []
    size = 0
    for user in users:
        user_size = len(user.model_dump_json()) + 64  # attribute names and map overhead
        if current and size + user_size > INVOICE_CHUNK_BYTES:
            chunks.append(InvoiceUsers(tenant_id=tenant_id, period=period, chunk=len(chunks), users=current))
            current, size = [], 0
        current.append(user)
        size += user_size
    if current:
        chunks.append(InvoiceUsers(tenant_id=tenant_id, period=period, chunk=len(chunks), users=current))
    return chunks


def issue_invoice(invoice: Invoice, chunks: Sequence[InvoiceUsers], also: Sequence[Create] = ()) -> None:
    """Write an invoice, its billed users and `also` (its event's outbox entry) in one transaction,
    only if the tenant has no invoice for the period yet (Conflict otherwise): table keys
    `T#t#INVOICE#{period}` / `INVOICE` and `USERS#{chunk}`."""
    conflict = f"the invoice for {invoice.period} is already issued"
    write(creates=[Create(invoice_item(invoice), conflict),
                   *(Create(invoice_users_item(c), conflict) for c in chunks), *also])


def invoice_issued(tenant_id: str, period: str) -> bool:
    """Has the tenant's invoice for the period been issued? Table key `T#t#INVOICE#{period}` / `INVOICE`."""
    item = table().get_item(Key=keys.invoice(tenant_id, period), ConsistentRead=True, ProjectionExpression="PK")
    return "Item" in item


def get_invoice(tenant_id: str, period: str) -> tuple[Invoice | None, list[InvoiceUsers]]:
    """An invoice with its billed users: table partition `T#t#INVOICE#{period}` (one Query)."""
    items = _query_all_items(keys.invoice_partition(tenant_id, period), consistent=True, page_size=BILLING_PAGE)
    header = next((i for i in items if i["SK"] == keys.invoice(tenant_id, period)["SK"]), None)
    chunks = sorted((InvoiceUsers.model_validate(i) for i in items if i["SK"].startswith(keys.INVOICE_USERS_PREFIX)),
                    key=lambda c: c.chunk)
    return _model(Invoice, header), chunks


def invoices_page(tenant_id: str, limit: int, cursor: str | None) -> Page[Invoice]:
    """A tenant's invoices, newest period first: GSI1 `T#t#INVOICES`, sorted by period."""
    return query_page(Invoice, keys.tenant_invoices(tenant_id), index="GSI1", limit=limit, cursor=cursor,
                      forward=False)


# ------------------------------------------ deliveries and job requests (delivery_approvals)


class Stale(Exception):
    """A versioned item this write depends on changed since it was read (or a concurrent
    transaction held it): read again, decide again, write again."""


def location_item(place: Location) -> dict[str, Any]:
    return _item(place, keys.location(place.tenant_id, place.job_id, place.location_id))


def equipment_item(piece: Equipment) -> dict[str, Any]:
    return _item(piece, keys.equipment(piece.tenant_id, piece.job_id, piece.equipment_id))


def place_name_item(tenant_id: str, job_id: str, kind: str, name: str, place_id: str) -> dict[str, Any]:
    """The marker keeping a location's or equipment's name unique on its job: `T#t#JOB#j` / `{KIND}NAME#{name}`."""
    return {**keys.place_name(tenant_id, job_id, kind, name), "entity": f"{kind.title()}Name", "place_id": place_id}


def delivery_item(delivery: Delivery) -> dict[str, Any]:
    """A delivery in its job's partition, listed by start (GSI1) and, while pending, on the tenant's
    pending list (sparse GSI2) that the dashboard counts."""
    pending = ({"GSI2PK": keys.pending_deliveries(delivery.tenant_id),
                "GSI2SK": f"{keys.by_job(delivery.job_id)}{delivery.delivery_id}"}
               if delivery.status == DeliveryStatus.PENDING.value else {})
    return _item(delivery, keys.delivery(delivery.tenant_id, delivery.job_id, delivery.delivery_id),
                 keys.delivery_gsi1(delivery.tenant_id, delivery.job_id, delivery.start, delivery.delivery_id), pending)


def job_request_item(request: JobRequest) -> dict[str, Any]:
    """A job request, listed by account then time (GSI1) and, while open, on the tenant's open list (sparse GSI2)."""
    open_ = ({"GSI2PK": keys.open_requests(request.tenant_id),
              "GSI2SK": f"{keys.by_job(request.job_id)}{request.request_id}"}
             if request.status == JobRequestStatus.OPEN.value else {})
    return _item(request, keys.job_request(request.tenant_id, request.job_id, request.request_id),
                 {"GSI1PK": keys.job_requests(request.tenant_id, request.job_id),
                  "GSI1SK": f"{keys.requests_of_account(request.account_id)}{request.created_at}#{request.request_id}"},
                 open_)


def portal_item(job: Job) -> dict[str, Any]:
    """The public portal's marker: job id -> tenant, `T#platform#PORTAL#j` / `PORTAL` (written with the job)."""
    return {**keys.portal(job.job_id), "entity": "PortalMarker", "tenant_id": job.tenant_id}


def portal_tenant(job_id: str) -> str | None:
    """The tenant of a job, for the public portal: table key `T#platform#PORTAL#j` / `PORTAL`."""
    item = table().get_item(Key=keys.portal(job_id)).get("Item")
    return None if item is None else str(item["tenant_id"])


def remove_portal(job: Job) -> Remove:
    return Remove(keys.portal(job.job_id))


def job_locations_page(job: Job, limit: int, cursor: str | None) -> Page[Location]:
    """A job's locations: table partition `T#t#JOB#j`, sort prefix `LOCATION#`."""
    return query_page(Location, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.LOCATION_PREFIX,
                      limit=limit, cursor=cursor)


def job_locations(tenant_id: str, job_id: str) -> list[Location]:
    """Every location of a job (the portal's gates): table partition `T#t#JOB#j`, sort prefix `LOCATION#`."""
    return query_all(Location, keys.job_partition(tenant_id, job_id), keys.LOCATION_PREFIX)


def job_equipment_page(job: Job, limit: int, cursor: str | None) -> Page[Equipment]:
    """A job's shared equipment: table partition `T#t#JOB#j`, sort prefix `EQUIPMENT#`."""
    return query_page(Equipment, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.EQUIPMENT_PREFIX,
                      limit=limit, cursor=cursor)


@dataclass(frozen=True)
class BookingRead:
    """What booking a delivery reads, in one BatchGetItem: the tenant (its time zone), the company
    booked for and its entry on the job, the location, the equipment, the vendor named (its entry,
    and whether an entry of it was removed), and the day items of every resource for the days the
    window touches."""

    tenant: Tenant | None
    company: Account | None
    company_grant: JobGrant | None
    location: Location | None
    equipment: dict[str, Equipment]
    vendor: Account | None
    vendor_grant: JobGrant | None
    vendor_ended: AccessEnded | None
    days: dict[tuple[str, str, str], BookingDay | None]  # (resource, id, day) -> its item, None if new


def read_booking(job: Job, for_account_id: str | None, location_id: str, equipment_ids: Sequence[str],
                 vendor_account_id: str | None, days: Sequence[tuple[str, str, str]]) -> BookingRead:
    """`for_account_id` None: booked for the GC, whose account the caller's read already holds."""
    t, j = job.tenant_id, job.job_id
    tenant_key, location_key = keys.tenant(t), keys.location(t, j, location_id)
    company_keys = [keys.account(t, for_account_id), keys.job_grant(t, j, for_account_id)] if for_account_id else []
    equipment_keys = {e: keys.equipment(t, j, e) for e in equipment_ids}
    vendor_keys = [keys.account(t, vendor_account_id), keys.job_grant(t, j, vendor_account_id),
                   keys.access_ended(t, j, vendor_account_id)] if vendor_account_id else []
    day_keys = {d: keys.booking_day(t, j, *d) for d in days}
    found = _batch_get([tenant_key, *company_keys, location_key, *equipment_keys.values(), *vendor_keys,
                        *day_keys.values()])
    equipment = {e: piece for e, key in equipment_keys.items() if (piece := _pick(Equipment, found, key)) is not None}
    return BookingRead(
        tenant=_pick(Tenant, found, tenant_key),
        company=_pick(Account, found, company_keys[0]) if company_keys else None,
        company_grant=_pick(JobGrant, found, company_keys[1]) if company_keys else None,
        location=_pick(Location, found, location_key),
        equipment=equipment, vendor=_pick(Account, found, vendor_keys[0]) if vendor_keys else None,
        vendor_grant=_pick(JobGrant, found, vendor_keys[1]) if vendor_keys else None,
        vendor_ended=_pick(AccessEnded, found, vendor_keys[2]) if vendor_keys else None,
        days={d: _pick(BookingDay, found, key) for d, key in day_keys.items()})


def read_days(job: Job, days: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], BookingDay | None]:
    """Day items of a delivery's resources (to release its slot), in one BatchGetItem."""
    day_keys = {d: keys.booking_day(job.tenant_id, job.job_id, *d) for d in days}
    found = _batch_get(list(day_keys.values()))
    return {d: _pick(BookingDay, found, key) for d, key in day_keys.items()}


def booking_day_write(job: Job, day: tuple[str, str, str], read: BookingDay | None,
                      intervals: list[tuple[int, int, str]]) -> Create | Replace:
    """The new state of one day item: created if it was not there when read, else replaced under the
    version read. Either fails if another booking wrote it meanwhile."""
    item = {**keys.booking_day(job.tenant_id, job.job_id, *day), "entity": "BookingDay",
            "intervals": [list(i) for i in intervals], "version": (read.version + 1) if read else 0}
    if read is None:
        return Create(item, "booked by someone else meanwhile")
    return Replace(item, "booked by someone else meanwhile")


def vendor_by_name(tenant_id: str, name: str) -> Account | None:
    """The vendor account with this name (however spaced, cased or composed), the active one first:
    GSI1 `T#t#ACCOUNTS`, sort prefix `vendor#{comparable name}#`. An archived one is returned only
    when no active one carries the name, so the caller can refuse it."""
    found = query_page(Account, keys.tenant_accounts(tenant_id), index="GSI1",
                       sort_prefix=keys.accounts_named("vendor", name), limit=10, cursor=None).items
    same = [a for a in found if comparable(a.name) == comparable(name)]  # not a longer name sharing the prefix
    return min(same, key=lambda a: a.status != "active", default=None)


def get_delivery_and_tenant(job: Job, delivery_id: str) -> tuple[Delivery | None, Tenant | None]:
    """One delivery and its tenant (time zone), in one BatchGetItem: `T#t#JOB#j`/`DELIVERY#d`, `T#t#TENANT`/`TENANT`."""
    delivery_key, tenant_key = keys.delivery(job.tenant_id, job.job_id, delivery_id), keys.tenant(job.tenant_id)
    found = _batch_get([delivery_key, tenant_key])
    return _pick(Delivery, found, delivery_key), _pick(Tenant, found, tenant_key)


def write_versioned(creates: Sequence[Create | ReplaceExpired] = (), replaces: Sequence[Replace] = (),
                    removes: Sequence[Remove] = ()) -> None:
    """`write`, but a versioned item (a day item, the delivery, the request) changed since it was read,
    or held by a concurrent transaction, raises Stale: the caller reads again and retries."""
    try:
        write(creates=creates, replaces=replaces, removes=removes)
    except Conflict as exc:
        cause = exc.__cause__
        if not isinstance(cause, ClientError):
            raise
        operations = [*creates, *replaces, *removes]
        reasons = [r.get("Code") for r in cause.response.get("CancellationReasons", [])]
        versioned = ("BookingDay", "Delivery", "JobRequest", "JobGrant", "Account")
        if "TransactionConflict" in reasons or any(
                reason == "ConditionalCheckFailed" and not isinstance(op, Remove) and op.item.get("entity") in versioned
                for op, reason in zip(operations, reasons, strict=False)):
            raise Stale() from exc
        raise


def deliveries_page(job: Job, *, start_from: str | None, start_before: str | None, ends_after: str | None,
                    status: str | None, limit: int, cursor: str | None) -> Page[Delivery]:
    """A job's deliveries by start: GSI1 `T#t#JOB#j#DELIVERIES`, sort key between the bounds given
    (a day: starts from 24 h before it to its end, filtered on `end` after its start), filtered on status."""
    where = _all_of(Attr("end").gt(ends_after) if ends_after is not None else None,
                    Attr("status").eq(status) if status is not None else None)
    between = (start_from, start_before) if start_from is not None and start_before is not None else None
    return filtered_page(Delivery, keys.job_deliveries(job.tenant_id, job.job_id), index="GSI1", sort_between=between,
                         where=where, limit=limit, cursor=cursor)


def approved_deliveries_between(tenant_id: str, job_id: str, start_from: str, start_before: str,
                                ends_after: str) -> list[Delivery]:
    """Approved deliveries overlapping a day (the portal): GSI1 `T#t#JOB#j#DELIVERIES`, every page."""
    overlapping_approved = _all_of(Attr("end").gt(ends_after), Attr("status").eq(DeliveryStatus.APPROVED.value))
    return _models(Delivery, _query_all_items(keys.job_deliveries(tenant_id, job_id), index="GSI1",
                                              sort_between=(start_from, start_before), where=overlapping_approved))


def get_job_request(job: Job, request_id: str) -> JobRequest | None:
    """One job request: table key `T#t#JOB#j` / `REQUEST#r`."""
    return get_item(JobRequest, keys.job_request(job.tenant_id, job.job_id, request_id))


def job_requests_page(job: Job, account_id: str | None, requested_by: str | None, limit: int,
                      cursor: str | None) -> Page[JobRequest]:
    """A job's requests, by account then time: GSI1 `T#t#JOB#j#REQUESTS` (sort prefix `{account}#` for one
    account's; filtered on the requester for one user's own)."""
    return filtered_page(JobRequest, keys.job_requests(job.tenant_id, job.job_id), index="GSI1",
                         sort_prefix=keys.requests_of_account(account_id) if account_id is not None else None,
                         where=Attr("requested_by").eq(requested_by) if requested_by is not None else None,
                         limit=limit, cursor=cursor)


def count_pending_deliveries(tenant_id: str, job_ids: Sequence[str] | None = None) -> int:
    """Pending deliveries of a tenant (or of these jobs): sparse GSI2 `T#t#PENDINGDELIVERIES`, Select=COUNT
    (one Query per job when jobs are given)."""
    if job_ids is None:
        return count(keys.pending_deliveries(tenant_id), index="GSI2")
    return sum(count(keys.pending_deliveries(tenant_id), index="GSI2", sort_prefix=keys.by_job(j)) for j in job_ids)


def count_open_requests(tenant_id: str, job_ids: Sequence[str] | None = None) -> int:
    """Open job requests of a tenant (or of these jobs): sparse GSI2 `T#t#OPENREQUESTS`, Select=COUNT."""
    if job_ids is None:
        return count(keys.open_requests(tenant_id), index="GSI2")
    return sum(count(keys.open_requests(tenant_id), index="GSI2", sort_prefix=keys.by_job(j)) for j in job_ids)


def pending_deliveries_of_job(job: Job) -> list[Delivery]:
    """A job's pending deliveries as they stand: the sparse GSI2 `T#t#PENDINGDELIVERIES` (sort prefix
    `{job}#`) finds them, one consistent BatchGetItem per 100 reads them, and only those still pending count."""
    found = query_all(Delivery, keys.pending_deliveries(job.tenant_id), keys.by_job(job.job_id), index="GSI2")
    wanted = [keys.delivery(d.tenant_id, d.job_id, d.delivery_id) for d in found]
    items = _batch_get(wanted)
    current = (_pick(Delivery, items, key) for key in wanted)
    return [d for d in current if d is not None and d.status == DeliveryStatus.PENDING.value]


def job_counted_items(job: Job) -> list[Remove]:
    """A job's pending deliveries and open requests (to remove with the job, so the dashboard stops
    counting them): sparse GSI2 partitions, sort prefix `{job}#`."""
    removes = []
    for partition, model, key in ((keys.pending_deliveries(job.tenant_id), Delivery,
                                   lambda d: keys.delivery(d.tenant_id, d.job_id, d.delivery_id)),
                                  (keys.open_requests(job.tenant_id), JobRequest,
                                   lambda r: keys.job_request(r.tenant_id, r.job_id, r.request_id))):
        removes += [Remove(key(found)) for found in query_all(model, partition, keys.by_job(job.job_id), index="GSI2")]
    return removes


def get_job_and_tenant(tenant_id: str, job_id: str) -> tuple[Job | None, Tenant | None]:
    """A job and its tenant (the portal), in one BatchGetItem: `T#t#JOB#j`/`JOB`, `T#t#TENANT`/`TENANT`."""
    job_key, tenant_key = keys.job(tenant_id, job_id), keys.tenant(tenant_id)
    found = _batch_get([job_key, tenant_key])
    return _pick(Job, found, job_key), _pick(Tenant, found, tenant_key)
