"""Tests that every binary's --help shows runnable examples, and that
importing tfvidinterp leaves the process's logging alone."""

import ast
import glob
import os
import re
import shlex
import subprocess
import sys

import pytest

from tests import testing

BINARIES = sorted(
    path
    for path in glob.glob(os.path.join(testing.REPO, "binaries", "*.py"))
    if not path.endswith("__init__.py")
)


def _parse(path):
    """`(module docstring as Python sees it, {flag: help expression})`."""
    with open(path) as f:
        tree = ast.parse(f.read())
    defined = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr.startswith("DEFINE_")
        ):
            name, _, help_text = node.args[:3]
            defined[name.value] = help_text
    return ast.get_docstring(tree, clean=False), defined


def _commands(doc):
    """The `python -m binaries...` commands of a docstring, each with its
    continuation lines joined, as a shell would read them."""
    joined = re.sub(r"\\\n\s*", " ", doc)
    return [
        shlex.split(line.split("#")[0])
        for line in joined.splitlines()
        if line.strip().startswith("python -m binaries.")
    ]


@pytest.mark.parametrize(
    "path", BINARIES, ids=[os.path.basename(p) for p in BINARIES]
)
def test_docstring_examples_use_the_binarys_flags(path):
    doc, defined = _parse(path)
    name = os.path.basename(path)[: -len(".py")]
    commands = [c for c in _commands(doc) if c[2] == f"binaries.{name}"]
    assert commands, f"{name} has no example command"
    for line in doc.splitlines():
        # What a `\` at a line end of a plain string leaves in --help.
        assert not re.search(r"\S {5,}--", line), line
    for command in commands:
        for word in command[3:]:
            assert word.startswith("--"), (name, word)
            flag = word[2:].split("=")[0].split(".")[0]
            assert flag in defined, (name, flag)
    for flag, help_text in defined.items():
        assert not (
            isinstance(help_text, ast.Constant) and not help_text.value
        ), (name, flag)


def test_help_prints_the_example_as_written():
    result = subprocess.run(
        [sys.executable, "-m", "binaries.explain", "--help"],
        cwd=testing.REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # absl's --help exits with status 1.
    assert result.returncode == 1, result.stderr[-2000:]
    assert (
        "    python -m binaries.explain --workdir=runs/i3d_synthetic \\\n"
        "        --max_clips=32" in result.stdout
    )
    assert "--videos:" in result.stdout


def test_importing_the_package_leaves_logging_alone():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    script = (
        "import os, tfvidinterp.jobs.compare, tfvidinterp.report.pictures; "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=testing.REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "None"
