"""`make mutate`: mutation testing of the policy and the billing arithmetic with the unit tests.

Cosmic Ray (pinned in requirements-dev.txt) makes the mutants and runs the tests on each; its
core operators plus the few of tests/mutation/operators.py (table cells, string elements of
sets and tuples, `in`/`not in`), which Cosmic Ray takes as a plugin. Each file is mutated in a
copy of the tree (the work tree is never touched), one mutant at a time, and each mutant runs
only the unit tests of its file, stopping at the first failure. Not part of `make test`: a run
takes tens of minutes.

Left out, and counted apart (never in the score):
- operator swaps that can only make a type error or repeat another mutant: a comparison becomes
  its negation (`==`/`!=`, `is`/`is not`) or, for an order, its boundary (`<`/`<=`...) and its
  negation; arithmetic stays arithmetic, set operators stay set operators;
- mutations inside annotations (`from __future__ import annotations`: never evaluated), of the
  bare `*` before keyword-only parameters (Cosmic Ray takes it for a multiplication; as `/` it
  even compiles), and mutants that do not compile.

Score = killed / (mutants run - listed equivalents), per file. The equivalents are the surviving
mutants judged to change nothing, each with one line why, in tests/mutation/equivalents.txt; a
survivor not listed is printed, and so is a listed one that no longer survives.

    python -m tests.mutation.run [policy] [billing] [--threshold 95] [--out DIR]
        [--match REGEX] [--only-survivors DIR]   # a part of the run, while writing tests
"""

from __future__ import annotations

import argparse
import ast
import compileall
import functools
import glob
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cosmic_ray.plugins
import parso
from cosmic_ray.commands.init import init
from cosmic_ray.mutating import mutate_code
from cosmic_ray.testing import run_tests
from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import TestOutcome

from tests.mutation.operators import Provider, table_cells

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENTS = Path(__file__).with_name("equivalents.txt")
COPIED = ["layers/shared", "tests/__init__.py", "tests/unit", "pyproject.toml", "docs/DOMAIN.md"]  # what the unit tests read


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]


TARGETS = {
    "policy": Target("layers/shared/sitegate/policy.py", ("tests/unit/test_policy*.py",)),
    "billing": Target("layers/shared/sitegate/billing.py", ("tests/unit/test_billing.py", "tests/unit/test_policy_billing.py")),
}
OPERATOR_ARGS = {"sitegate/TableCell": [{"synonyms": [["yes", "all"]]}]}  # the staff table reads both as Scope.ALL
_COMPARISONS_KEPT = "Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is|Lt_LtE|Lt_GtE|LtE_Lt|LtE_Gt|Gt_GtE|Gt_LtE|GtE_Gt|GtE_Lt"
_ARITHMETIC, _SETS = "Add|Sub|Mul|Div|FloorDiv|Mod|Pow", "BitOr|BitAnd|BitXor"
EXCLUDED_OPERATORS = re.compile("|".join((
    rf"core/ReplaceComparisonOperator_(?!(?:{_COMPARISONS_KEPT})$)",
    rf"core/ReplaceBinaryOperator_(?:{_ARITHMETIC})_(?!(?:{_ARITHMETIC})$)",
    rf"core/ReplaceBinaryOperator_(?:{_SETS})_(?!(?:{_SETS}|Sub)$)",
    r"core/ReplaceBinaryOperator_(?:RShift|LShift)_",
)))


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    tree = ast.parse(source)
    notes = [n.annotation for n in ast.walk(tree) if isinstance(n, ast.arg | ast.AnnAssign) and n.annotation]
    notes += [n.returns for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.returns]
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in notes]


@functools.cache
def scopes(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function, class and module-level assignment."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])  # its decorators are its own
                found.append((first, child.end_lineno, prefix + child.name))
                visit(child, f"{prefix}{child.name}.")
            elif prefix == "" and isinstance(child, ast.Assign | ast.AnnAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                names = [ast.unparse(t) for t in targets]
                found.append((child.lineno, child.end_lineno, ", ".join(names)))

    visit(ast.parse(source), "")
    return found


def _code(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def describe(path: Path, original: str, mutated: str) -> str:
    """A mutant's name, stable while its own function or table is unchanged: where, then what."""
    before, after = original.split("\n"), mutated.split("\n")
    line = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b) + 1
    where = min((s for s in scopes(original) if s[0] <= line <= s[1]), key=lambda s: s[1] - s[0], default=(0, 0, "<module>"))
    old, new = _code(before[line - 1]), _code(after[line - 1])  # a removed line (a decorator): the line after it
    if where[2].endswith("_TABLE") and len(before) == len(after):
        cells = zip(table_cells("\n".join(before[where[0]:where[1]])), table_cells("\n".join(after[where[0]:where[1]])),
                    strict=False)
        changed = [(b[2], b[3], b[4], a[4]) for b, a in cells if b[4] != a[4]]
        if len(changed) == 1:
            row, column, old, new = changed[0]
            return f"{path.name} {where[2]}[{row}][{column}]: {old} => {new}"
    return f"{path.name} {where[2]}: {old} => {new}"


def read_equivalents() -> dict[str, str]:
    listed = {}
    for raw in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            key, _, why = raw.rpartition("  # ")
            listed[key.strip()] = why.strip()
    return listed


def copy_tree(into: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    # Byte-code for every module but the mutated ones, so that each test run compiles only the mutant
    # (PYTHONDONTWRITEBYTECODE is set for the test runs: a mutant's byte-code is never written).
    mutated = "|".join(re.escape(Path(t.module).name) for t in TARGETS.values())
    compileall.compile_dir(into, quiet=1, rx=re.compile(rf"(?:{mutated})$"))


def run_target(name: str, target: Target, tree: Path, args: argparse.Namespace, equivalents: dict[str, str]) -> float:
    started = time.monotonic()
    module = Path(target.module)
    tests = sorted(str(Path(f).relative_to(tree)) for pattern in target.tests for f in glob.glob(str(tree / pattern)))
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider --noconftest --assert=plain {' '.join(tests)}"
    outcome, output = run_tests(command, 600)
    if outcome is not TestOutcome.SURVIVED:
        sys.exit(f"{name}: the unit tests fail without any mutation:\n{output}")
    timeout = max(30.0, 10 * (time.monotonic() - started))
    original = module.read_text(encoding="utf-8")
    notes, tree_of_original = annotation_spans(original), parso.parse(original)
    left_out = dict.fromkeys(("operator left out", "in an annotation", "a signature's bare *", "does not compile",
                              "not chosen"), 0)
    chosen: list[tuple[str, str]] = []
    with use_db(tree / f"{name}.sqlite") as db:
        init([module], db, OPERATOR_ARGS)
        work = sorted(db.pending_work_items, key=lambda w: (w.mutations[0].start_pos, w.mutations[0].operator_name))
    for item in work:
        mutation = item.mutations[0]
        reason, mutated = None, None
        if EXCLUDED_OPERATORS.match(mutation.operator_name):
            reason = "operator left out"
        elif any(start <= tuple(mutation.start_pos) < end for start, end in notes):
            reason = "in an annotation"
        elif _bare_star(tree_of_original, tuple(mutation.start_pos)):
            reason = "a signature's bare *"
        else:
            operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**mutation.operator_args)
            mutated = mutate_code(original, operator, mutation.occurrence)
            if mutated is None or not _compiles(mutated):
                reason = "does not compile"
            elif not args.chosen(describe(module, original, mutated)):
                reason = "not chosen"
        if reason:
            left_out[reason] += 1
        else:
            chosen.append((describe(module, original, mutated), mutated))
    print(f"{name}: {len(chosen)} mutants to run; left out: {', '.join(f'{n} {why}' for why, n in left_out.items() if n)} "
          f"({time.monotonic() - started:.0f} s)", flush=True)
    killed, survived = [], []
    for done, (key, mutated) in enumerate(chosen, 1):
        module.write_text(mutated, encoding="utf-8")
        try:
            outcome, output = run_tests(command, timeout)
        finally:
            module.write_text(original, encoding="utf-8")
        (survived if outcome is TestOutcome.SURVIVED else killed).append(key)
        if done % 50 == 0 or done == len(chosen):
            print(f"  {done}/{len(chosen)} run, {len(survived)} survived ({time.monotonic() - started:.0f} s)", flush=True)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        lines = [f"killed\t{key}" for key in killed] + [f"survived\t{key}" for key in survived]
        (args.out / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report(module, killed, survived, equivalents, partial=left_out["not chosen"] > 0,
                  seconds=time.monotonic() - started)


def _bare_star(tree, position: tuple[int, int]) -> bool:
    """The `*` before keyword-only parameters: Cosmic Ray takes it for a multiplication (`/` even compiles)."""
    leaf = tree.get_leaf_for_position(position)
    return leaf is not None and leaf.value == "*" and leaf.parent.type == "parameters"


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def report(module: Path, killed: list[str], survived: list[str], equivalents: dict[str, str], *, partial: bool,
           seconds: float) -> float:
    mine = {key: why for key, why in equivalents.items() if key.startswith(f"{module.name} ")}
    listed = [key for key in survived if key in mine]
    for key in survived:
        if key not in mine:
            print(f"  SURVIVED {key}")
    if not partial:
        for key in sorted(set(mine) - set(survived)):
            print(f"  listed as equivalent but no longer survives: {key}")
    total = len(killed) + len(survived)
    net = total - len(listed)
    score = 100.0 * len(killed) / net if net else 100.0
    print(f"{module.name}: {total} mutants, {len(killed)} killed, {len(survived)} survived "
          f"({len(listed)} listed as equivalent): {100.0 * len(killed) / (total or 1):.1f} %, "
          f"net of equivalents {score:.1f} % ({seconds:.0f} s)", flush=True)
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help=f"of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--match", type=re.compile, help="run only the mutants whose name matches this pattern")
    parser.add_argument("--only-survivors", type=Path, metavar="DIR",
                        help="run only the mutants that survived in the results an earlier run wrote with --out DIR")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write each mutant's outcome to DIR/<file>.tsv")
    parser.add_argument("--threshold", type=float, default=95.0, help="fail below this net score (per file)")
    args = parser.parse_args(argv)
    if unknown := set(args.targets) - set(TARGETS):
        parser.error(f"no such target: {', '.join(sorted(unknown))}")
    args.out = args.out and args.out.resolve()
    earlier = set()
    if args.only_survivors:
        for results in args.only_survivors.glob("*.tsv"):
            earlier |= {line.split("\t", 1)[1] for line in results.read_text(encoding="utf-8").splitlines()
                        if line.startswith("survived\t")}

    def chosen(key: str) -> bool:
        return (args.match is None or bool(args.match.search(key))) and (not args.only_survivors or key in earlier)

    args.chosen = chosen
    cosmic_ray.plugins.OPERATOR_PROVIDERS["sitegate"] = Provider()
    equivalents = read_equivalents()
    started = time.monotonic()
    scores = {}
    with tempfile.TemporaryDirectory(prefix="sitegate-mutate-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        here = Path.cwd()
        os.chdir(tree)
        os.environ.update(PYTHONPATH=f"layers/shared{os.pathsep}.", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        try:
            for name in args.targets or TARGETS:
                scores[name] = run_target(name, TARGETS[name], tree, args, equivalents)
        finally:
            os.chdir(here)
    print(f"mutation run: {time.monotonic() - started:.0f} s; " + ", ".join(f"{n} {s:.1f} %" for n, s in scores.items()))
    low = [n for n, s in scores.items() if s < args.threshold]
    if low and args.match is None and not args.only_survivors:
        print(f"below {args.threshold:.0f} %: {', '.join(low)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
