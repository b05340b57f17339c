"""Every walk-through in README.md, run as written with bash against the local stack, its claims checked.

README's ```bash blocks: the first is the setup (it sets API from PORT, once, and defines the helpers);
each other one is a walk-through, run in a fresh bash after the setup, with `set -euo pipefail`, so a
walk-through that leans on another one's variables or helpers, or a command that fails, fails here.

A claim is a `# => ...` comment: at the end of a command's last line, or on the lines right after it
(consecutive `# =>` lines are one claim, one line each). It says what that command prints: all of it,
with `...` standing for anything (ids, times, fields left out) and whitespace ignored. To read one
command's output the test adds a marker line before and after it; the README's own lines run unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
TIMEOUT = 240  # seconds per walk-through; the slowest (billing, 16 users) takes a fraction of that
CLAIM = re.compile(r"(?:^|\s)# => ?(.*)$")
MARK = "@@readme-claim"


@dataclass
class Claim:
    first: int  # the claimed command's first and last line (0-based, in its block)
    last: int
    expected: list[str] = field(default_factory=list)
    line: int = 0  # where the claim starts, for messages


@dataclass
class Block:
    title: str
    lines: list[str]
    language: str = "bash"
    start: int = 0  # README's line number of the block's first line, for messages


def fenced_blocks(text: str) -> list[Block]:
    """Each fenced block with its language and the title of the heading above it."""
    blocks, title, fence, inside = [], "", None, []
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is not None:
            if line.startswith("```"):
                blocks.append(Block(title, inside, fence, number - len(inside)))
                fence, inside = None, []
            else:
                inside.append(line)
        elif line.startswith("```"):
            fence = line[3:].strip()
        elif line.startswith("#"):
            title = line.lstrip("#").strip()
    return blocks


def parses(script: str) -> bool:
    return subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False).returncode == 0


def complete(lines: list[str], end: int) -> bool:
    """Whether lines[:end] is whole commands: a marker may stand after them."""
    return (end == 0 or not lines[end - 1].rstrip().endswith("\\")) and parses("\n".join(lines[:end]) + "\n")


def claims(block: Block) -> list[Claim]:
    found: list[Claim] = []
    lines, previous_code = block.lines, -1
    for number, line in enumerate(lines):
        match = CLAIM.search(line)
        standalone = line.lstrip().startswith("#")
        if match and standalone and found and found[-1].line + len(found[-1].expected) == number:
            found[-1].expected.append(match.group(1))  # a further line of the same claim
            continue
        if not standalone and line.strip():
            previous_code = number
        if match:
            last = previous_code
            assert last >= 0, f"README.md line {block.start + number}: a claim that follows no command"
            assert complete(lines, last + 1), f"README.md line {block.start + number}: a claim inside an unfinished command"
            first = next(start for start in range(last, -1, -1) if complete(lines, start))
            found.append(Claim(first, last, [match.group(1)], number))
    return found


def instrumented(block: Block, found: list[Claim]) -> str:
    """The block with a marker line before and after each claimed command."""
    before = {claim.first: index for index, claim in enumerate(found)}
    after = {claim.last: index for index, claim in enumerate(found)}
    out = []
    for number, line in enumerate(block.lines):
        if number in before:
            out.append(f"printf '\\n{MARK} {before[number]}\\n'")
        out.append(line)
        if number in after:
            out.append(f"printf '\\n{MARK} {after[number]}\\n'")
    return "\n".join(out) + "\n"


def pattern(expected: list[str]) -> re.Pattern[str]:
    pieces = ["".join(piece.split()) for piece in "".join(expected).split("...")]
    return re.compile(".*?".join(re.escape(piece) for piece in pieces), re.S)


FENCED = fenced_blocks(README.read_text(encoding="utf-8"))
SETUP, *WALKS = [block for block in FENCED if block.language == "bash"]


def test_the_setup_block_sets_the_api_once_and_walk_throughs_do_not():
    assert SETUP.lines[0].startswith("# Setup"), SETUP.lines[0]
    # PORT as `make run` takes it; the test sets it to the e2e stack's port
    assert [line.split()[0] for line in SETUP.lines if line.startswith("API=")] == ["API=http://127.0.0.1:${PORT:-3000}"]
    for walk in WALKS:
        assert not [line for line in walk.lines if re.match(r"\s*API=", line)], walk.title


def test_every_block_that_calls_the_api_is_a_tested_bash_block():
    # A runnable walk-through marked `sh` (or unmarked) would escape this test.
    assert not [block.title for block in FENCED if block.language != "bash" and "$API" in "\n".join(block.lines)]


def test_each_walk_through_has_its_own_title_and_claims():
    assert len({walk.title for walk in WALKS}) == len(WALKS) >= 6
    assert all(claims(walk) for walk in WALKS)


@pytest.mark.parametrize("walk", WALKS, ids=[walk.title for walk in WALKS])
def test_readme_walk_through(api, walk: Block):
    # Given: the stack `make run` serves, on the port the setup reads from PORT
    found = claims(walk)
    script = "set -euo pipefail\n" + "\n".join(SETUP.lines) + "\n" + instrumented(walk, found)
    env = {**os.environ, "PORT": str(urlsplit(api.base).port)}
    env.pop("API", None)
    # When: bash runs it
    try:
        ran = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=TIMEOUT, check=False)
    finally:
        api.request("DELETE", "/local/clock")  # a walk-through stopped half-way must not leave the clock set
    # Then: it succeeds, and each command claimed prints what the README says it does
    assert ran.returncode == 0, f"exit {ran.returncode}\n--- stdout\n{ran.stdout[-4000:]}\n--- stderr\n{ran.stderr[-4000:]}"
    wrong = []
    for index, claim in enumerate(found):
        printed = re.search(rf"\n{MARK} {index}\n(.*?)\n{MARK} {index}\n", ran.stdout, re.S)
        assert printed, f"no output markers for the claim on README.md line {walk.start + claim.line}"
        if not pattern(claim.expected).fullmatch("".join(printed.group(1).split())):
            wrong.append(f"README.md line {walk.start + claim.line}:\n"
                         f"  command: {' '.join(line.strip() for line in walk.lines[claim.first:claim.last + 1])[:300]}\n"
                         f"  claims:  {' | '.join(claim.expected)}\n  printed: {printed.group(1).strip()[:2000]}")
    assert not wrong, f"{walk.title!r}:\n" + "\n".join(wrong)
