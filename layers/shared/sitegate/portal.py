"""A job's public portal: anyone may read it, without a token. It shows nothing but the job's
name, address, gate locations and the day's approved delivery windows (in the tenant's time
zone): no companies, people, descriptions or reasons."""

from __future__ import annotations

from sitegate.data import delivery_store, job_store
from sitegate.deliveries import MAX_WINDOW, day_bounds, parse_day, shown, utc_text, zone_of
from sitegate.errors import NotFound
from sitegate.models.responses import Portal, PortalDelivery
from sitegate.models.stored import LocationKind


def portal(job_id: str, day: str | None) -> Portal:
    tenant_id = job_store.portal_tenant(job_id)  # a job id we never made names nothing (404)
    job, tenant = job_store.get_job_and_tenant(tenant_id, job_id) if tenant_id else (None, None)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    zone = zone_of(tenant)
    first, last = day_bounds(parse_day(day, zone), zone)
    places = delivery_store.job_locations(job.tenant_id, job.job_id)
    names = {p.location_id: p.name for p in places}
    approved = delivery_store.approved_deliveries_between(job.tenant_id, job.job_id, utc_text(first - MAX_WINDOW), utc_text(last),
                                                 utc_text(first))
    return Portal(name=job.name, address=job.address,
                  gates=sorted(p.name for p in places if p.kind == LocationKind.GATE.value),
                  deliveries=[PortalDelivery(start=shown(d.start, zone), end=shown(d.end, zone),
                                             location=names.get(d.location_id, d.location_name))
                              for d in sorted(approved, key=lambda d: (d.start, d.end))])
