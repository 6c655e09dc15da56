"""The command line and corpus preparation import each other without a cycle (issue 9: the old
cli.py <-> prep.py cycle through ``_positive_int``), and neither reaches into another
subpackage's private names. Imports are read from the source, function-level ones included
(module to module; the parent package a submodule import also runs is not counted)."""

import ast
import os

from conftest import import_cycles

import fastmask

PKG = os.path.dirname(os.path.abspath(fastmask.__file__))
MODULE_FILES = {}
for sub in ("cli", "prep"):
    for name in sorted(os.listdir(os.path.join(PKG, sub))):
        if name.endswith(".py"):
            mod = "fastmask." + sub + ("" if name == "__init__.py" else "." + name[:-3])
            MODULE_FILES[mod] = os.path.join(PKG, sub, name)
MODULE_FILES["fastmask.vocab"] = os.path.join(PKG, "vocab.py")
MODULE_FILES["fastmask.__main__"] = os.path.join(PKG, "__main__.py")


def _resolve(mod, node):
    """(target module, imported names) of an ``import`` / ``from`` node in module ``mod``."""
    is_pkg = MODULE_FILES[mod].endswith("__init__.py")
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if isinstance(node, ast.Import):
        return [(a.name, None) for a in node.names]
    if node.level:
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    out = []
    for a in node.names:
        sub = f"{target}.{a.name}"
        out.append((sub, None) if sub in MODULE_FILES else (target, a.name))
    return out


def edges():
    graph = {m: set() for m in MODULE_FILES}
    private = []
    for mod, path in MODULE_FILES.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target, name in _resolve(mod, node):
                if target in MODULE_FILES and target != mod:
                    graph[mod].add(target)
                if name and name.startswith("_") and target.startswith("fastmask."):
                    same = target.split(".")[:2] == mod.split(".")[:2]
                    if not same:
                        private.append((mod, f"{target}.{name}"))
    return graph, private


def test_no_import_cycle_between_cli_prep_and_vocab():
    graph, _ = edges()
    assert graph["fastmask.prep.command"] >= {"fastmask.cli.args"}
    assert import_cycles(graph) == []


def test_no_private_names_from_other_subpackages():
    _, private = edges()
    # fastmask.arrow has no public name yet for building a list array on NumPy buffers
    allowed = {("fastmask.prep.readers", "fastmask.arrow._list_array")}
    assert set(private) - allowed == set()
