"""The operators `make mutate` adds to Cosmic Ray's: their examples hold, and they still find the
policy's table cells (a renamed or reshaped table would otherwise leave its cells unmutated)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cosmic_ray.ast import ast_nodes, get_ast
from cosmic_ray.mutating import mutate_code

from tests.mutation.operators import OPERATORS, TableCell, table_name
from tests.mutation.run import EXCLUDED_OPERATORS, OPERATOR_ARGS, describe

POLICY = Path(__file__).parents[2] / "layers" / "shared" / "sitegate" / "policy.py"


@pytest.mark.parametrize(("name", "example"), [
    pytest.param(name, example, id=f"{name}-{i}") for name, op in OPERATORS.items() for i, example in enumerate(op.examples())])
def test_operator_examples(name, example):
    operator = OPERATORS[name](**example.operator_args)
    assert mutate_code(example.pre_mutation_code, operator, example.occurrence) == example.post_mutation_code


def test_every_table_of_the_policy_has_its_cells_mutated():
    # Given
    source = POLICY.read_text(encoding="utf-8")
    operator = TableCell(**OPERATOR_ARGS["sitegate/TableCell"][0])
    # When
    found = {table_name(node): len(list(operator.mutation_positions(node))) for node in ast_nodes(get_ast(source))
             if table_name(node)}
    # Then: every module-level *_TABLE string is mutated, every cell of it at least once (the
    # smallest, NOTICE_TABLE, is two rows of one capability cell each: two mutants)
    tables = {line.split(" =")[0] for line in source.splitlines() if line.split(" =")[0].endswith("_TABLE")}
    assert set(found) == tables
    assert min(found.values()) >= 2


def test_a_cell_mutant_is_named_by_its_table_row_and_column():
    # Given: a table whose first column repeats (its rows are named by their first two cells)
    source = 'X = 1\nT_TABLE = """\nwho  for  gc\nlead gc   given\nlead trade given\n"""\n'
    operator = TableCell(synonyms=[])
    # When
    names = [describe(Path("m.py"), source, mutate_code(source, operator, i)) for i in range(2)]
    # Then: a column without "-" gets only its own values
    assert names == ["m.py T_TABLE[lead gc][for]: gc => trade", "m.py T_TABLE[lead trade][for]: trade => gc"]
    assert mutate_code(source, operator, 2) is None


def test_a_cell_is_never_swapped_for_its_synonym():
    # Given: one column with "yes", "all" (read alike) and "no"
    operator = TableCell(synonyms=[["yes", "all"]])
    source = 'T_TABLE = """\nrow a\nx yes\ny all\nz -\n"""\n'
    # When
    cells = [mutate_code(source, operator, i).split("\n")[2:5] for i in range(4)]
    # Then: yes and all become "no", "no" becomes each; never yes <-> all
    assert cells == [["x -", "y all", "z -"], ["x yes", "y -", "z -"], ["x yes", "y all", "z yes"], ["x yes", "y all", "z all"]]
    assert mutate_code(source, operator, 4) is None


@pytest.mark.parametrize(("operator", "left_out"), [
    ("core/ReplaceComparisonOperator_Eq_NotEq", False),
    ("core/ReplaceComparisonOperator_Eq_Lt", True),
    ("core/ReplaceComparisonOperator_Lt_LtE", False),
    ("core/ReplaceComparisonOperator_Is_Eq", True),
    ("core/ReplaceBinaryOperator_Add_Sub", False),
    ("core/ReplaceBinaryOperator_Add_BitOr", True),
    ("core/ReplaceBinaryOperator_BitAnd_BitOr", False),
    ("core/ReplaceBinaryOperator_BitAnd_Sub", False),
    ("core/ReplaceBinaryOperator_BitAnd_Mul", True),
    ("sitegate/TableCell", False),
])
def test_the_operators_left_out(operator, left_out):
    assert bool(EXCLUDED_OPERATORS.match(operator)) is left_out
