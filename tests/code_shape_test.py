"""Size limits that keep the code readable: no library function over 60
lines (docstring included), no binary over 60 lines."""

import ast
import glob
import os

import pytest

from tests import testing

LIMIT = 60


def long_functions(source: str, limit: int = LIMIT) -> list:
    """`(name, lines)` of the functions and methods of `source` longer than
    `limit` lines, from `def` to their last line."""
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > limit
    ]


def _files(pattern):
    return sorted(
        glob.glob(os.path.join(testing.REPO, pattern), recursive=True)
    )


@pytest.mark.parametrize("path", _files("tfvidinterp/**/*.py"))
def test_library_functions_are_short(path):
    with open(path) as f:
        assert long_functions(f.read()) == []


@pytest.mark.parametrize("path", _files("binaries/*.py"))
def test_binaries_are_short(path):
    with open(path) as f:
        assert len(f.read().splitlines()) <= LIMIT


def test_a_long_function_is_caught():
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT))
    assert long_functions(f"def f():\n{body}\ndef g():\n    pass\n") == [
        ("f", LIMIT + 1)
    ]
