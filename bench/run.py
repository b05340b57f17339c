"""`make bench`: cold-start import cost per function and DynamoDB calls per request.

Import times are measured in fresh processes and reported as a ratio to a bare
Powertools HTTP resolver measured in the same run, so a noisy shared machine
still gives comparable figures.
"""

import os
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7

BASELINE = "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver; APIGatewayHttpResolver()"
# Imports the handler module alone, as Lambda does (nothing of the local stack).
LOAD_FUNCTION = ("import importlib.util as u; s = u.spec_from_file_location('app', 'functions/{0}/app.py'); "
                 "s.loader.exec_module(u.module_from_spec(s))")
TIMED = "import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"


def import_seconds(code: str) -> float:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/shared'}:{ROOT}", "POWERTOOLS_TRACE_DISABLED": "true"}
    samples = []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", TIMED.format(code=code)], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def import_times() -> None:
    baseline = import_seconds(BASELINE)
    print(f"import time, median of {RUNS} fresh processes (ratio to a bare Powertools HTTP resolver)")
    print(f"  {'bare APIGatewayHttpResolver':28} {baseline * 1000:7.1f} ms   1.00x")
    for function in sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()):
        seconds = import_seconds(LOAD_FUNCTION.format(function))
        print(f"  {function:28} {seconds * 1000:7.1f} ms  {seconds / baseline:5.2f}x")


def dynamodb_calls() -> None:
    import boto3
    from moto import mock_aws

    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    sys.path[:0] = [str(ROOT / "layers/shared"), str(ROOT)]
    from local.template import provision

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix="bench")
        os.environ.update(resources.environment())
        from sitegate.data import aws
        from tests.integration.conftest import call, operator_identity

        operator = operator_identity()
        calls: Counter[str] = Counter()
        aws.dynamodb_client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        created = call("user_levels", "post_tenants.json", operator)
        admin = created_identity(created.body)
        job_id = call("job_access", "post_jobs.json", admin).body["job_id"]
        call("job_access", "post_job_tickets.json", admin, path={"job_id": job_id},
             body={"ticket_number": "T-1000", "material": "AP20", "quantity": "10", "unit": "t", "truck": "T-1"})
        on_job = {"job_id": job_id}
        print("DynamoDB calls per request")
        for label, function, event, who, path in [
            ("GET /health", "user_levels", "get_health.json", None, None),
            ("GET /me", "user_levels", "get_me.json", admin, None),
            ("GET /levels", "user_levels", "get_levels.json", admin, None),
            ("POST /tenants", "user_levels", "post_tenants.json", operator, None),
            ("POST /users", "user_levels", "post_users.json", admin, None),
            ("GET /jobs?q=249", "job_access", "get_jobs.json", admin, None),
            ("GET /jobs/{id}", "job_access", "get_job.json", admin, on_job),
            ("GET .../tickets", "job_access", "get_job_tickets.json", admin, on_job),
            ("POST .../tickets", "job_access", "post_job_tickets.json", admin, on_job),
        ]:
            calls.clear()
            reply = call(function, event, who, headers={"idempotency-key": ""}, path=path)
            detail = ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) or "none"
            print(f"  {label:17} {sum(calls.values()):2d}  ({detail}; status {reply.status})")


def created_identity(body: dict):
    from tests.integration.conftest import Identity

    return Identity(body["tenant_id"], body["admin_user_id"], body["owner_account_id"])


if __name__ == "__main__":
    import_times()
    dynamodb_calls()
