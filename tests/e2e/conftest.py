"""The local stack (`python -m local.stack`) started on a free port, used over HTTP."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def token(self, email: str) -> str:
        reply = self.request("POST", "/local/token", json={"email": email})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["id_token"])


@pytest.fixture(scope="session")
def api() -> Iterator[Api]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": f"{ROOT / 'layers/shared'}:{ROOT}"}
    # The stack's log goes to a file, not a pipe: nobody reads a pipe while tests run, and a full
    # one (64 KB of logged tracebacks) would block the stack mid-request.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen([sys.executable, "-m", "local.stack"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log, text=True)
        api = Api(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if api.request("GET", "/health").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                raise RuntimeError(f"local stack did not start: {log.read()}")
            time.sleep(0.2)
        yield api
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
def operator_token(api: Api) -> str:
    return api.token("operator@sitegate.local")
