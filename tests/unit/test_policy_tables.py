"""The policy's text tables go through one reader, which refuses a table that does not read as one."""

from __future__ import annotations

import inspect
import re

import pytest

from sitegate import policy


def test_a_table_reads_as_rows_of_named_cells_in_its_order():
    table = """
    action  staff  account
    b.one   yes    -
    a.two   -      yes
    """
    assert policy._rows(table) == {"b.one": {"staff": "yes", "account": "-"}, "a.two": {"staff": "-", "account": "yes"}}
    assert list(policy._rows(table)) == ["b.one", "a.two"]


def test_a_table_keyed_by_two_columns_reads_tuple_keys():
    table = """
    requester  booked_for  gc
    gc_lead    gc          given
    gc_lead    trade       given
    """
    assert policy._rows(table, keys=2) == {("gc_lead", "gc"): {"gc": "given"}, ("gc_lead", "trade"): {"gc": "given"}}


@pytest.mark.parametrize(("table", "message"), [
    pytest.param("capability a b\nx.y yes\n", "has 1 cells for 2 columns", id="a-missing-cell"),
    pytest.param("capability a b\nx.y yes - yes\n", "has 3 cells for 2 columns", id="a-cell-too-many"),
    pytest.param("capability a\nx.y yes\nx.y -\n", "written twice", id="a-repeated-row"),
])
def test_a_ragged_or_repeated_row_is_refused(table, message):
    with pytest.raises(ValueError, match=message):
        policy._rows(table)


def test_a_capability_table_reads_by_column_without_its_no_cells():
    table = """
    capability  lead  member
    x.view      yes   yes
    x.send      yes   -
    """
    assert policy._by_column(table, {"yes": policy.Scope.ALL}) == {
        "lead": {"x.view": policy.Scope.ALL, "x.send": policy.Scope.ALL}, "member": {"x.view": policy.Scope.ALL}}


def test_every_table_of_the_policy_goes_through_the_one_reader():
    # Then: the only line splitting in the policy is the reader's own
    source = inspect.getsource(policy)
    reader = inspect.getsource(policy._rows)
    assert source.count(".splitlines()") == reader.count(".splitlines()") == 1


def test_every_rule_name_is_written_once():
    names = re.findall(r'_(?:allow|deny)\("([a-z0-9-]+)"', inspect.getsource(policy))
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
