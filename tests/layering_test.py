"""The package's import rules, read from the source with `ast`.

Core modules never import the jobs; a job imports only jobs below it in
`JOBS`; nothing imports inside a function (the way to dodge a cycle).
"""

import ast
import os
import textwrap

import pytest

from tests import testing

PACKAGE = os.path.join(testing.REPO, "tfvidinterp")
# Layers from the bottom; a module may import only its own layer and those
# below it.
LAYERS = (
    ("errors", "files", "cli", "distribute", "precision"),
    ("data", "models", "measures"),
    ("interp", "report"),
    ("jobs",),
)
# The jobs from the bottom: each may import only the jobs before it.
JOBS = (
    "rundir",
    "resultsdir",
    "stages",
    "prepare_data",
    "train_eval",
    "train_log",
    "train_model",
    "train_state",
    "train",
    "modelfile",
    "evaluate",
    "sweep",
    "explain_clips",
    "explain_records",
    "explain",
    "export",
    "faithfulness_spatial",
    "faithfulness",
    "compare",
    "demo_summary",
    "demo",
)


def _imports(tree):
    """`(module, line, at_top_level)` of every tfvidinterp import."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [
            (n, node.lineno, id(node) in top)
            for n in names
            if n.startswith("tfvidinterp.")
        ]
    return found


def _unit(module):
    """`tfvidinterp.jobs.train.x` -> ("jobs", "train"); a top-level module
    is its own unit: `tfvidinterp.files` -> ("files", None)."""
    parts = module.split(".")[1:] + [None, None]
    return parts[0], parts[1]


def _layer(unit):
    return next(i for i, names in enumerate(LAYERS) if unit in names)


def violations(source: str, module: str) -> list:
    """The import rules `source`, the text of `module`, breaks."""
    unit, job = _unit(module)
    errors = []
    for imported, line, at_top in _imports(ast.parse(source)):
        target, target_job = _unit(imported)
        if not at_top:
            errors.append(f"{module}:{line} imports {imported} in a function")
        if target == "__init__" or target is None:
            continue
        if _layer(target) > _layer(unit):
            errors.append(f"{module}:{line} imports {imported} from above")
        elif (
            unit == target == "jobs"
            and target_job in JOBS
            and JOBS.index(target_job) >= JOBS.index(job)
        ):
            errors.append(
                f"{module}:{line} imports the job {target_job} at or above it"
            )
    return errors


def _modules():
    for root, _, names in os.walk(PACKAGE):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                relative = os.path.relpath(path, testing.REPO)[:-3]
                module = relative.replace(os.sep, ".")
                yield path, module.removesuffix(".__init__")


def test_every_module_belongs_to_a_layer():
    units = {_unit(m)[0] for _, m in _modules() if m != "tfvidinterp"}
    assert units <= {u for layer in LAYERS for u in layer}
    jobs = {
        _unit(m)[1]
        for _, m in _modules()
        if _unit(m)[0] == "jobs" and _unit(m)[1]
    }
    assert jobs == set(JOBS)


@pytest.mark.parametrize("path,module", list(_modules()))
def test_module_follows_the_import_rules(path, module):
    with open(path) as f:
        assert violations(f.read(), module) == []


def test_a_violation_is_caught():
    source = textwrap.dedent("""
        from tfvidinterp.jobs import train
        from tfvidinterp.interp import grad_cam

        def f():
            from tfvidinterp import files
    """)
    assert violations(source, "tfvidinterp.data.pipeline") == [
        "tfvidinterp.data.pipeline:2 imports tfvidinterp.jobs.train from above",
        "tfvidinterp.data.pipeline:3 imports tfvidinterp.interp.grad_cam "
        "from above",
        "tfvidinterp.data.pipeline:6 imports tfvidinterp.files in a function",
    ]
    assert violations(
        "from tfvidinterp.jobs import demo\n", "tfvidinterp.jobs.compare"
    ) == ["tfvidinterp.jobs.compare:1 imports the job demo at or above it"]
    assert (
        violations(
            "from tfvidinterp.jobs import rundir\n", "tfvidinterp.jobs.compare"
        )
        == []
    )
