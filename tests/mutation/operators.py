"""Cosmic Ray operators for what its core operators leave alone (`make mutate`, tests/mutation/run.py).

Cosmic Ray mutates operators, keywords and numbers, but no string, and no comparison by `in`.
The policy's rules are mostly text: its tables are multi-line strings parsed at import, and its
other rules are memberships in sets of names. So this provider adds, as Cosmic Ray plugins:

- `TableCell`: each cell of a module-level `*_TABLE` string becomes each other value seen in its
  column, and "no" (`-`) where the table writes "no" that way. A row's first column (its name)
  and the header are left alone: they are keys, and a changed key fails every lookup of it.
  Values the module reads as one (`synonyms`, e.g. the staff table's `yes` and `all`) are not
  swapped for each other: that swap changes nothing by construction.
- `StringElement`: each string element of a tuple, list or set display becomes `"XX...XX"`,
  so it is no longer a member and no longer reads as itself (dict displays are left alone).
- `ReplaceInWithNotIn`, `ReplaceNotInWithIn`: membership comparisons flipped.
"""

from __future__ import annotations

import re

import parso
from cosmic_ray.operators.operator import Argument, Example, Operator
from parso.python.tree import Keyword, Name, String

_QUOTED = re.compile(r"(?P<prefix>[a-zA-Z]*)(?P<quote>'''|\"\"\"|'|\")(?P<body>.*)(?P=quote)\Z", re.DOTALL)
NO = "-"


def table_name(node) -> str | None:
    """The name of the module-level `NAME_TABLE = \"\"\"...\"\"\"` that `node` is the string of."""
    statement = node.parent
    if not isinstance(node, String) or statement is None or statement.type != "expr_stmt":
        return None
    target = statement.children[0]
    if (len(statement.children) != 3 or statement.children[2] is not node or not isinstance(target, Name)
            or not target.value.endswith("_TABLE") or statement.parent.parent.type != "file_input"):
        return None
    return target.value


def table_cells(text: str) -> list[tuple[int, int, str, str, str]]:
    """Every data cell of a whitespace table: (line index, column offset, row name, column name, value).
    A row's name is its first cell, or its first two where the first repeats (roles x approvals)."""
    lines = text.split("\n")
    rows = [(i, [(m.start(), m.group()) for m in re.finditer(r"\S+", line)]) for i, line in enumerate(lines)]
    rows = [(i, tokens) for i, tokens in rows if tokens]
    header = [name for _, name in rows[0][1]] if rows else []
    firsts = [tokens[0][1] for _, tokens in rows[1:]]
    width = 1 if len(set(firsts)) == len(firsts) else 2
    return [(i, offset, " ".join(t for _, t in tokens[:width]), header[c] if c < len(header) else str(c), value)
            for i, tokens in rows[1:] for c, (offset, value) in enumerate(tokens) if c > 0]


class TableCell(Operator):
    """Replaces one cell of a module-level `*_TABLE` string with another value of its column, or "no"."""

    def __init__(self, synonyms=()):
        self.synonyms = [set(group) for group in synonyms]

    @classmethod
    def arguments(cls):
        return (Argument("synonyms", "groups of cell values the module reads as one: never swapped for each other"),)

    def _mutations(self, node) -> list[tuple[int, int, str, str]]:
        """(line index, column offset, old value, new value) for each mutation of this table string."""
        match = _QUOTED.match(node.value)
        if table_name(node) is None or match is None:
            return []
        cells = table_cells(match.group("body"))
        columns: dict[str, list[str]] = {}
        for _, _, _, column, value in cells:
            columns.setdefault(column, [])
            if value not in columns[column]:
                columns[column].append(value)
        uses_no = any(value == NO for *_, value in cells)
        mutations = []
        for line, offset, _, column, value in cells:
            candidates = columns[column] + ([NO] if uses_no and NO not in columns[column] else [])
            mutations += [(line, offset, value, other) for other in candidates
                          if other != value and not any({value, other} <= group for group in self.synonyms)]
        return mutations

    def mutation_positions(self, node):
        match = _QUOTED.match(node.value) if isinstance(node, String) else None
        if match is None:
            return
        body_line, body_column = node.start_pos[0], node.start_pos[1] + match.start("body")
        for line, offset, old, _ in self._mutations(node):
            start = (body_line + line, offset + (body_column if line == 0 else 0))
            yield start, (start[0], start[1] + len(old))

    def mutate(self, node, index):
        line, offset, old, new = self._mutations(node)[index]
        match = _QUOTED.match(node.value)
        lines = match.group("body").split("\n")
        lines[line] = lines[line][:offset] + new + lines[line][offset + len(old):]
        node.value = match.group("prefix") + match.group("quote") + "\n".join(lines) + match.group("quote")
        return node

    @classmethod
    def examples(cls):
        return (
            Example('T_TABLE = """\nrow a b\nx yes -\ny - -\n"""\n', 'T_TABLE = """\nrow a b\nx - -\ny - -\n"""\n',
                    operator_args={"synonyms": []}),
            Example('T_TABLE = """\nrow a b\nx yes -\ny - -\n"""\n', 'T_TABLE = """\nrow a b\nx yes -\ny yes -\n"""\n',
                    occurrence=1, operator_args={"synonyms": []}),
        )


def _is_element(node) -> bool:
    """A string that is an element of a tuple, list or set display (not of a dict, not a lone value in parentheses)."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "testlist_comp":
        return True
    if parent.type == "dictorsetmaker":
        return not any(child.type == "operator" and child.value == ":" for child in parent.children)
    if parent.type == "atom":  # a one-element set or list: {"x"}, ["x"]
        return parent.children[0].type == "operator" and parent.children[0].value in "{["
    return False


class StringElement(Operator):
    """Replaces a string element of a tuple, list or set display with `"XX<it>XX"`."""

    def mutation_positions(self, node):
        if isinstance(node, String) and _QUOTED.match(node.value) and _is_element(node):
            yield node.start_pos, node.end_pos

    def mutate(self, node, index):
        match = _QUOTED.match(node.value)
        node.value = f"{match.group('prefix')}{match.group('quote')}XX{match.group('body')}XX{match.group('quote')}"
        return node

    @classmethod
    def examples(cls):
        return (Example('x = ("a", "b")', 'x = ("XXaXX", "b")'),
                Example('x = {"a", "b"}', 'x = {"a", "XXbXX"}', occurrence=1),
                Example('x = frozenset({"a"})', 'x = frozenset({"XXaXX"})'))


def _membership(node, negated: bool):
    """The `in` (or `not in`) operators of a comparison node, by their index among its operators."""
    if node.type != "comparison":
        return []
    found = []
    for index, op in enumerate(node.children[1::2]):
        is_not_in = op.type == "comp_op" and [c.value for c in op.children] == ["not", "in"]
        is_in = isinstance(op, Keyword) and op.value == "in"
        if (negated and is_not_in) or (not negated and is_in):
            found.append(index)
    return found


class _Membership(Operator):
    negated = False
    replacement = ""

    def mutation_positions(self, node):
        for index in _membership(node, self.negated):
            op = node.children[index * 2 + 1]
            yield op.start_pos, op.end_pos

    def mutate(self, node, index):
        op_index = _membership(node, self.negated)[index]
        node.children[op_index * 2 + 1] = parso.parse(" " + self.replacement)
        return node

    @classmethod
    def examples(cls):
        return ()


class ReplaceInWithNotIn(_Membership):
    """`x in y` becomes `x not in y`."""

    replacement = "not in"

    @classmethod
    def examples(cls):
        return (Example("a in b", "a not in b"),)


class ReplaceNotInWithIn(_Membership):
    """`x not in y` becomes `x in y`."""

    negated = True
    replacement = "in"

    @classmethod
    def examples(cls):
        return (Example("a not in b", "a in b"),)


OPERATORS = {op.__name__: op for op in (TableCell, StringElement, ReplaceInWithNotIn, ReplaceNotInWithIn)}


class Provider:
    """Cosmic Ray operator provider `sitegate` (registered by tests/mutation/run.py)."""

    def __iter__(self):
        return iter(OPERATORS)

    def __getitem__(self, name):
        return OPERATORS[name]
