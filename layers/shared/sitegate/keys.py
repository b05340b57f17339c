"""Every key format of the single table, in one place.

The tenant is the first segment of every partition key (`T#{tenant}#...`), so no
key built here can address another tenant's data. Values are `ENTITY#id`.
"""

from __future__ import annotations

import zlib

from sitegate.errors import NotFound
from sitegate.models.stored import job_number_key
from sitegate.names import comparable

PLATFORM_TENANT = "platform"  # the platform operators' own tenant


def _id(value: str) -> str:
    """An id from a path or query: one that cannot have been made by us names nothing."""
    if not value or len(value) > 128 or "#" in value:
        raise NotFound("not found")
    return value


def _t(tenant_id: str) -> str:
    if not tenant_id or "#" in tenant_id:
        raise ValueError(f"bad tenant id {tenant_id!r}")
    return f"T#{tenant_id}"


# --- tenant: listed on the platform's own partition (GSI1), for jobs that run per tenant (billing)
def tenant(tenant_id: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#TENANT", "SK": "TENANT"}


def tenants_list() -> str:
    return f"{_t(PLATFORM_TENANT)}#TENANTS"


def tenant_gsi1(tenant_id: str) -> dict[str, str]:
    return {"GSI1PK": tenants_list(), "GSI1SK": tenant_id}


# --- accounts: listed per tenant by kind then name (GSI1)
def account(tenant_id: str, account_id: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#ACCOUNT#{_id(account_id)}", "SK": "ACCOUNT"}


def tenant_accounts(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#ACCOUNTS"


def accounts_of_kind(kind: str) -> str:
    """Sort-key prefix of one kind's accounts in the tenant's account list."""
    return f"{kind}#"


def account_gsi1(tenant_id: str, kind: str, name: str, account_id: str) -> dict[str, str]:
    return {"GSI1PK": tenant_accounts(tenant_id), "GSI1SK": f"{accounts_of_kind(kind)}{comparable(name)}#{account_id}"}


def accounts_named(kind: str, name: str) -> str:
    """GSI1 sort prefix of the accounts of a kind with this name (in its comparable form)."""
    return f"{accounts_of_kind(kind)}{comparable(name)}#"


def sponsored_guests(tenant_id: str, sponsor_account_id: str) -> str:
    return f"{_t(tenant_id)}#ACCOUNT#{sponsor_account_id}#GUESTS"


def account_gsi2(tenant_id: str, sponsor_account_id: str, name: str, account_id: str) -> dict[str, str]:
    """Guest contractor accounts listed under the account that created them."""
    return {"GSI2PK": sponsored_guests(tenant_id, sponsor_account_id), "GSI2SK": f"{name.lower()}#{account_id}"}


def customer_code(tenant_id: str, code: str) -> dict[str, str]:
    """Marker item: a customer code names one customer account in a tenant."""
    return {"PK": f"{_t(tenant_id)}#CUSTOMERCODE#{code}", "SK": "CUSTOMERCODE"}


# --- users: listed per account (GSI1) and per tenant (GSI2), by status then name
def user(tenant_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#USER#{_id(user_id)}", "SK": "USER"}


def users_with_status(status: str) -> str:
    """Sort-key prefix of one status's users in the account and tenant user lists."""
    return f"{status}#"


def user_sort(status: str, name: str, user_id: str) -> str:
    return f"{users_with_status(status)}{name.lower()}#{user_id}"


def account_users(tenant_id: str, account_id: str) -> str:
    return f"{_t(tenant_id)}#ACCOUNT#{_id(account_id)}#USERS"


def tenant_users(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#USERS"


def user_indexes(tenant_id: str, account_id: str, status: str, name: str, user_id: str) -> dict[str, str]:
    sort = user_sort(status, name, user_id)
    return {"GSI1PK": account_users(tenant_id, account_id), "GSI1SK": sort,
            "GSI2PK": tenant_users(tenant_id), "GSI2SK": sort}


# --- user history: under the user, and per tenant in time order (GSI2) for billing
def user_history(tenant_id: str, user_id: str, at_iso: str, seq: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#USER#{user_id}", "SK": f"HISTORY#{at_iso}#{seq}",
            "GSI2PK": f"{_t(tenant_id)}#HISTORY", "GSI2SK": f"{at_iso}#{user_id}#{seq}"}


# --- tenant settings and vehicles
def tenant_settings(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#SETTINGS"


SETTING_PREFIX = "SETTING#"  # sort-key prefix of the settings in the tenant's settings partition


def setting(tenant_id: str, key: str) -> dict[str, str]:
    return {"PK": tenant_settings(tenant_id), "SK": f"{SETTING_PREFIX}{key}"}


def vehicles(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#VEHICLES"


def vehicle(tenant_id: str, vehicle_id: str) -> dict[str, str]:
    return {"PK": vehicles(tenant_id), "SK": f"VEHICLE#{vehicle_id}"}


def vehicle_registration(tenant_id: str, registration: str) -> dict[str, str]:
    """Marker item: a registration names one vehicle in a tenant; case, spaces and hyphens do not
    count (`QQ 12`, `qq-12` and `QQ12` are one plate)."""
    plate = "".join(c for c in registration.upper() if c.isalnum())
    return {"PK": f"{_t(tenant_id)}#REGISTRATION#{plate}", "SK": "REGISTRATION"}


def user_email(tenant_id: str, email: str) -> dict[str, str]:
    """Marker item that keeps emails unique per tenant."""
    return {"PK": f"{_t(tenant_id)}#EMAIL#{email.lower()}", "SK": "EMAIL"}


# --- jobs: searched by job-number prefix (GSI1), found by customer code (GSI2);
# the job's partition also holds its access list, tickets, records and roles.
# Job numbers are compared case- and space-insensitively (`job_number_key`): the
# marker and every index sort on the normalized number; the job keeps it as typed.
ACCESS_PREFIX = "ACCESS#"  # sort-key prefix of the access list in a job's partition
ACCESS_ENDED_PREFIX = "ACCESSENDED#"  # ... of the markers of removed entries
TICKET_PREFIX = "TICKET#"  # ... of its tickets
RECORD_PREFIX = "RECORD#"  # ... of its time and equipment records
ROLE_PREFIX = "ROLE#"  # ... of its project roles


def job(tenant_id: str, job_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": "JOB"}


def job_partition(tenant_id: str, job_id: str) -> str:
    return f"{_t(tenant_id)}#JOB#{_id(job_id)}"


def tenant_jobs(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#JOBS"


def jobs_with_code(tenant_id: str, code: str) -> str:
    return f"{_t(tenant_id)}#CODEJOBS#{code}"


def job_indexes(tenant_id: str, job_number_: str, customer_code_: str | None) -> dict[str, str]:
    number = job_number_key(job_number_)
    indexes = {"GSI1PK": tenant_jobs(tenant_id), "GSI1SK": number}
    if customer_code_:
        indexes |= {"GSI2PK": jobs_with_code(tenant_id, customer_code_), "GSI2SK": number}
    return indexes


def job_number(tenant_id: str, number: str) -> dict[str, str]:
    """Marker item: a job number names one job in a tenant (case and spaces do not count)."""
    return {"PK": f"{_t(tenant_id)}#JOBNUMBER#{job_number_key(number)}", "SK": "JOBNUMBER"}


def account_jobs(tenant_id: str, account_id: str) -> str:
    return f"{_t(tenant_id)}#ACCOUNT#{_id(account_id)}#JOBS"


def job_grant(tenant_id: str, job_id: str, account_id: str) -> dict[str, str]:
    """An account's entry on a job's access list."""
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{ACCESS_PREFIX}{_id(account_id)}"}


def access_ended(tenant_id: str, job_id: str, account_id: str) -> dict[str, str]:
    """Marker item: the account's entry on the job was removed (a removal stands: a booking naming
    the account does not bring it back). Outside the `ACCESS#` prefix, so the access list skips it."""
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{ACCESS_ENDED_PREFIX}{_id(account_id)}"}


def job_grant_gsi1(tenant_id: str, account_id: str, job_number_: str) -> dict[str, str]:
    """The same entry, listed under the account by job number (its job search)."""
    return {"GSI1PK": account_jobs(tenant_id, account_id), "GSI1SK": job_number_key(job_number_)}


def ticket(tenant_id: str, job_id: str, ticket_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{TICKET_PREFIX}{_id(ticket_id)}"}


def ticket_number(tenant_id: str, job_id: str, number: str) -> dict[str, str]:
    """Marker item: a ticket number names one ticket on a job."""
    return {"PK": job_partition(tenant_id, job_id), "SK": f"TICKETNO#{number}"}


def record(tenant_id: str, job_id: str, date: str, record_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{RECORD_PREFIX}{date}#{record_id}"}


def project_role(tenant_id: str, job_id: str, user_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{ROLE_PREFIX}{_id(user_id)}"}


# --- idempotency: the first response to an Idempotency-Key, written with the create
def idempotency(tenant_id: str, scope: str, key: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#IDEMPOTENCY#{scope}#{key}", "SK": "IDEMPOTENCY"}


# --- domain events: the outbox, written with the change that raised them, emptied once published
OUTBOX_PREFIX = "EVENT#"


def outbox(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#OUTBOX"


def outbox_event(tenant_id: str, occurred_at: str, event_id: str) -> dict[str, str]:
    return {"PK": outbox(tenant_id), "SK": f"{OUTBOX_PREFIX}{occurred_at}#{event_id}"}


# --- notifications: jobsite alerts in the job's partition (newest first by their time-ordered id),
# and one "sent" marker per (event, person, channel) so a redelivered event never reaches anyone twice
ALERT_PREFIX = "ALERT#"  # sort-key prefix of the alerts in a job's partition


def alert(tenant_id: str, job_id: str, alert_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{ALERT_PREFIX}{_id(alert_id)}"}


# Each alert's roll-call has a partition of its own: one item per recipient (an acknowledgment
# writes only that item) and the acknowledgment counts in ALERT_COUNT_SHARDS small counter items,
# so a count never reads the recipients and racing acknowledgments rarely meet on one item.
ALERT_RECIPIENT_PREFIX = "R#"
ALERT_COUNT_PREFIX = "COUNT#"
ALERT_COUNT_SHARDS = 20


def alert_partition(tenant_id: str, alert_id: str) -> str:
    return f"{_t(tenant_id)}#ALERT#{_id(alert_id)}"


def alert_recipient(tenant_id: str, alert_id: str, user_id: str) -> dict[str, str]:
    return {"PK": alert_partition(tenant_id, alert_id), "SK": f"{ALERT_RECIPIENT_PREFIX}{_id(user_id)}"}


def alert_count(tenant_id: str, alert_id: str, shard: int | str) -> dict[str, str]:
    return {"PK": alert_partition(tenant_id, alert_id), "SK": f"{ALERT_COUNT_PREFIX}{str(shard).zfill(2)}"}


def sent_marker(tenant_id: str, event_id: str, user_id: str, channel: str) -> dict[str, str]:
    """Marker item: this event was sent (or is being sent) to this person on this channel."""
    return {"PK": f"{_t(tenant_id)}#SENT#{event_id}", "SK": f"{user_id}#{channel}"}


# --- billing: an invoice per tenant and month, its billed users in chunk items of the same
# partition, listed per tenant by period (GSI1)
def invoice_partition(tenant_id: str, period: str) -> str:
    return f"{_t(tenant_id)}#INVOICE#{period}"


def invoice(tenant_id: str, period: str) -> dict[str, str]:
    return {"PK": invoice_partition(tenant_id, period), "SK": "INVOICE"}


def tenant_invoices(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#INVOICES"


def invoice_gsi1(tenant_id: str, period: str) -> dict[str, str]:
    return {"GSI1PK": tenant_invoices(tenant_id), "GSI1SK": period}


INVOICE_USERS_PREFIX = "USERS#"  # sort-key prefix of an invoice's chunks of billed users


def invoice_users(tenant_id: str, period: str, chunk: int) -> dict[str, str]:
    return {"PK": invoice_partition(tenant_id, period), "SK": f"{INVOICE_USERS_PREFIX}{str(chunk).zfill(4)}"}


def tenant_history(tenant_id: str) -> str:
    """The tenant's user history in time order (GSI2): what billing reads."""
    return f"{_t(tenant_id)}#HISTORY"


# --- deliveries and job requests (delivery_approvals): all in the job's partition, except the
# portal marker (platform partition: the public portal has no token, so no tenant) and the
# sparse tenant-level GSI2 lists that the dashboard counts.
LOCATION_PREFIX = "LOCATION#"  # sort-key prefix of a job's locations
EQUIPMENT_PREFIX = "EQUIPMENT#"  # ... of its shared equipment
DELIVERY_PREFIX = "DELIVERY#"  # ... of its deliveries
REQUEST_PREFIX = "REQUEST#"  # ... of its job requests


def location(tenant_id: str, job_id: str, location_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{LOCATION_PREFIX}{_id(location_id)}"}


def equipment(tenant_id: str, job_id: str, equipment_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{EQUIPMENT_PREFIX}{_id(equipment_id)}"}


def place_name(tenant_id: str, job_id: str, kind: str, name: str) -> dict[str, str]:
    """Marker item: a location's (or a piece of equipment's) name is unique on its job, however it is
    spaced, cased or composed."""
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{kind.upper()}NAME#{comparable(name)}"}


def delivery(tenant_id: str, job_id: str, delivery_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{DELIVERY_PREFIX}{_id(delivery_id)}"}


def job_deliveries(tenant_id: str, job_id: str) -> str:
    """GSI1 partition of a job's deliveries, sorted by start (UTC) then id."""
    return f"{job_partition(tenant_id, job_id)}#DELIVERIES"


def delivery_gsi1(tenant_id: str, job_id: str, start_utc: str, delivery_id: str) -> dict[str, str]:
    return {"GSI1PK": job_deliveries(tenant_id, job_id), "GSI1SK": f"{start_utc}#{delivery_id}"}


def pending_deliveries(tenant_id: str) -> str:
    """Sparse GSI2 partition: the tenant's pending deliveries (only while pending), by job."""
    return f"{_t(tenant_id)}#PENDINGDELIVERIES"


def open_requests(tenant_id: str) -> str:
    """Sparse GSI2 partition: the tenant's open job requests (only while open), by job."""
    return f"{_t(tenant_id)}#OPENREQUESTS"


def by_job(job_id: str) -> str:
    """Sort-key prefix of one job's entries in the sparse tenant-level lists."""
    return f"{job_id}#"


def booking_day(tenant_id: str, job_id: str, resource: str, resource_id: str, day: str) -> dict[str, str]:
    """One location's or piece of equipment's bookings on one UTC day (`resource` is LOCATION or EQUIPMENT):
    the intervals held by pending and approved deliveries, with a version every booking writes under."""
    return {"PK": job_partition(tenant_id, job_id), "SK": f"BOOKING#{resource}#{_id(resource_id)}#{day}"}


def job_request(tenant_id: str, job_id: str, request_id: str) -> dict[str, str]:
    return {"PK": job_partition(tenant_id, job_id), "SK": f"{REQUEST_PREFIX}{_id(request_id)}"}


def job_requests(tenant_id: str, job_id: str) -> str:
    """GSI1 partition of a job's requests, sorted by the requester's account, then time."""
    return f"{job_partition(tenant_id, job_id)}#REQUESTS"


def requests_of_account(account_id: str) -> str:
    """Sort-key prefix of one account's requests in a job's request list."""
    return f"{account_id}#"


def portal(job_id: str) -> dict[str, str]:
    """Marker item on the platform partition: a job id names its tenant, for the public portal."""
    return {"PK": f"{_t(PLATFORM_TENANT)}#PORTAL#{_id(job_id)}", "SK": "PORTAL"}


def delivery_pending_gsi2(tenant_id: str, job_id: str, delivery_id: str) -> dict[str, str]:
    """A pending delivery's place on its tenant's pending list (sparse GSI2), by job."""
    return {"GSI2PK": pending_deliveries(tenant_id), "GSI2SK": f"{by_job(job_id)}{_id(delivery_id)}"}


def job_request_gsi1(tenant_id: str, job_id: str, account_id: str, created_at: str, request_id: str) -> dict[str, str]:
    """A job request's place on its job's request list: by the requester's account, then time."""
    return {"GSI1PK": job_requests(tenant_id, job_id),
            "GSI1SK": f"{requests_of_account(account_id)}{created_at}#{_id(request_id)}"}


def job_request_open_gsi2(tenant_id: str, job_id: str, request_id: str) -> dict[str, str]:
    """An open job request's place on its tenant's open list (sparse GSI2), by job."""
    return {"GSI2PK": open_requests(tenant_id), "GSI2SK": f"{by_job(job_id)}{_id(request_id)}"}


def en_route_tickets(tenant_id: str, job_id: str) -> str:
    """Sparse GSI2 partition: a job's tickets while they are en route (truck ETAs), by arrival instant."""
    return f"{job_partition(tenant_id, job_id)}#ENROUTE"


def ticket_en_route_gsi2(tenant_id: str, job_id: str, eta_utc: str, ticket_id: str) -> dict[str, str]:
    return {"GSI2PK": en_route_tickets(tenant_id, job_id), "GSI2SK": f"{eta_utc}#{_id(ticket_id)}"}


# --- the audit trail: every entry sorts by `{at}#{audit_id}` in each list it is on. The tenant's
# whole history and each action's are spread over AUDIT_SHARDS partitions (by audit id), so a busy
# tenant's writes never queue on one key; the actor's, the target's, the job's and the account's
# lists (GSI1, GSI2, GSI3, GSI5) are naturally spread. Seals: one partition per tenant, by range end.
AUDIT_SHARDS = 8


def audit_shard(audit_id: str) -> int:
    return zlib.crc32(audit_id.encode()) % AUDIT_SHARDS


def audit_sort(at: str, audit_id: str) -> str:
    return f"{at}#{audit_id}"


def audit_history(tenant_id: str, shard: int) -> str:
    return f"{_t(tenant_id)}#AUDIT#{shard}"


def audit_by_actor(tenant_id: str, actor_id: str) -> str:
    return f"{_t(tenant_id)}#AUDIT#ACTOR#{_id(actor_id)}"


def audit_by_target(tenant_id: str, target_id: str) -> str:
    return f"{_t(tenant_id)}#AUDIT#TARGET#{_id(target_id)}"


def audit_by_job(tenant_id: str, job_id: str) -> str:
    return f"{_t(tenant_id)}#AUDIT#JOB#{_id(job_id)}"


def audit_by_action(tenant_id: str, action: str, shard: int) -> str:
    return f"{_t(tenant_id)}#AUDIT#ACTION#{_id(action)}#{shard}"


def audit_by_account(tenant_id: str, account_id: str) -> str:
    return f"{_t(tenant_id)}#AUDIT#ACCOUNT#{_id(account_id)}"


def audit_entry(tenant_id: str, at: str, audit_id: str, actor_id: str, target_id: str, job_id: str | None,
                action: str, account_id: str | None) -> dict[str, str]:
    """The entry's table key and its index keys (GSI3 and GSI5 only when it has a job or an account)."""
    sort, shard = audit_sort(at, audit_id), audit_shard(audit_id)
    item = {"PK": audit_history(tenant_id, shard), "SK": sort,
            "GSI1PK": audit_by_actor(tenant_id, actor_id), "GSI1SK": sort,
            "GSI2PK": audit_by_target(tenant_id, target_id), "GSI2SK": sort,
            "GSI4PK": audit_by_action(tenant_id, action, shard), "GSI4SK": sort}
    if job_id:
        item |= {"GSI3PK": audit_by_job(tenant_id, job_id), "GSI3SK": sort}
    if account_id:
        item |= {"GSI5PK": audit_by_account(tenant_id, account_id), "GSI5SK": sort}
    return item


def audit_seals(tenant_id: str) -> str:
    return f"{_t(tenant_id)}#AUDITSEAL"


def audit_seal_sort(sealed_through: str) -> str:
    return f"SEAL#{sealed_through}"


def audit_seal(tenant_id: str, sealed_through: str) -> dict[str, str]:
    """A seal, by the end of its range: the newest is the last, a time range is a key range."""
    return {"PK": audit_seals(tenant_id), "SK": audit_seal_sort(sealed_through)}


# --- access reviews: a review, its items and its snapshot's chunks in one partition (one Query reads it all)
REVIEW_ITEM_PREFIX = "ITEM#"  # sort-key prefix of a review's items
REVIEW_SNAPSHOT_PREFIX = "SNAPSHOT#"  # ... of the chunks of the access report it opened with


def review_partition(tenant_id: str, review_id: str) -> str:
    return f"{_t(tenant_id)}#REVIEW#{_id(review_id)}"


def review(tenant_id: str, review_id: str) -> dict[str, str]:
    return {"PK": review_partition(tenant_id, review_id), "SK": "REVIEW"}


def review_item(tenant_id: str, review_id: str, item_id: str) -> dict[str, str]:
    return {"PK": review_partition(tenant_id, review_id), "SK": f"{REVIEW_ITEM_PREFIX}{_id(item_id)}"}


def review_snapshot(tenant_id: str, review_id: str, chunk: int) -> dict[str, str]:
    return {"PK": review_partition(tenant_id, review_id), "SK": f"{REVIEW_SNAPSHOT_PREFIX}{str(chunk).zfill(4)}"}


# --- tax invoices: each tenant's number sequences, its details as buyer, credit notes in their invoice's
# partition (one Query reads an invoice with its users and its credits), and the platform's supplier details
CREDIT_NOTE_PREFIX = "CREDIT#"  # sort-key prefix of an invoice's credit notes


def sequence(tenant_id: str, name: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#SEQUENCE", "SK": name}


def credit_note(tenant_id: str, period: str, number: str) -> dict[str, str]:
    return {"PK": invoice_partition(tenant_id, period), "SK": f"{CREDIT_NOTE_PREFIX}{_id(number)}"}


def billing_details(tenant_id: str) -> dict[str, str]:
    return {"PK": f"{_t(tenant_id)}#BILLINGDETAILS", "SK": "BILLINGDETAILS"}


def supplier() -> dict[str, str]:
    return {"PK": f"{_t(PLATFORM_TENANT)}#SUPPLIER", "SK": "SUPPLIER"}
