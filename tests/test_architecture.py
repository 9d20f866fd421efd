"""The package's layers keep to themselves: no module reaches into another's private names."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.joinpath("backprop").rglob("*.py"),
                  *ROOT.joinpath("benchmarks").glob("*.py")])


def private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def own_names(tree):
    """Every name this module defines: functions, classes, globals, attributes it assigns."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def foreign_private_uses(source):
    tree = ast.parse(source)
    own = own_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            found += [f"from {module} import {a.name}" for a in node.names if private(a.name)]
            if any(private(part) for part in module.split(".")):
                found.append(f"from {module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names
                      if any(private(part) for part in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in own:
            found.append(f"{ast.unparse(node)} (line {node.lineno})")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_uses_another_modules_private_names(path):
    assert foreign_private_uses(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    ["from backprop.network import _helper", "import backprop._checks",
     "model._forward(X)", "from backprop._checks import look_up"],
)
def test_the_check_sees_each_kind_of_private_use(source):
    assert foreign_private_uses(source)


def test_a_module_may_use_its_own_private_names():
    assert foreign_private_uses("class A:\n    def _f(self):\n        other._f()\n") == []
