"""Rules of the house, read from the source (docs/architecture.md):

* no import cycle between the package's modules (function-level imports included, since a lazy
  import is still a dependency);
* no module uses another module's private (``_name``) helpers from outside its own subpackage
  (the top-level modules of ``fastmask`` count as one subpackage);
* no product file (Python, Cython, C) over 700 lines.
"""

import ast
import os

import pytest
from conftest import import_cycles

import fastmask

PKG = os.path.dirname(os.path.abspath(fastmask.__file__))
ROOT = os.path.dirname(PKG)
MAX_LINES = 700


def _modules():
    """{module name: file} for every .py file of the package."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(PKG):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        rel = os.path.relpath(dirpath, ROOT).replace(os.sep, ".")
        for name in filenames:
            if name.endswith(".py"):
                out[rel if name == "__init__.py" else f"{rel}.{name[:-3]}"] = \
                    os.path.join(dirpath, name)
    return out


MODULES = _modules()
#: compiled modules (Cython): importable like the modules above
COMPILED = {"fastmask." + os.path.splitext(f)[0] for f in os.listdir(PKG) if f.endswith(".pyx")}


def _subpackage(mod):
    """The package a module belongs to: ``fastmask`` for top-level modules, else
    ``fastmask.<sub>``."""
    parts = mod.split(".")
    if MODULES[mod].endswith("__init__.py"):
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) > 2 else "fastmask"


def _base(mod, level):
    parts = mod.split(".")
    if not MODULES[mod].endswith("__init__.py"):
        parts = parts[:-1]
    return parts[:len(parts) - level + 1]


def _imports(mod):
    """(target module, name or None, line) for every import in ``mod``, and the local names
    bound to fastmask modules (for ``module._name`` attribute uses)."""
    with open(MODULES[mod], encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in MODULES:
                    found.append((a.name, None, node.lineno))
                    if a.asname:
                        aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                target = ".".join(_base(mod, node.level) + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in MODULES:
                    found.append((sub, None, node.lineno))
                    aliases[a.asname or a.name] = sub
                elif sub in COMPILED:
                    pass  # a private module of the package is imported, not a private helper
                elif target in MODULES:
                    found.append((target, a.name, node.lineno))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            found.append((aliases[node.value.id], node.attr, node.lineno))
    return found


def test_no_import_cycle():
    graph = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, _ in _imports(m):
            # a module's own package __init__ runs first anyway: not an edge of interest
            if target != m and not (MODULES[target].endswith("__init__.py")
                                    and m.startswith(target + ".")):
                graph[m].add(target)
    assert [" -> ".join(cycle) for cycle in import_cycles(graph)] == []


def test_import_cycles_reports_each_cycle_it_meets():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert import_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_private_names_from_other_subpackages():
    bad = []
    for m in MODULES:
        for target, name, line in _imports(m):
            if name and name.startswith("_") and not name.startswith("__") \
                    and _subpackage(target) != _subpackage(m):
                bad.append(f"{MODULES[m]}:{line} uses {target}.{name}")
    assert bad == []


def _product_files():
    for top in ("fastmask", "csrc"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "tests")]
            for name in filenames:
                if name.endswith((".py", ".pyx", ".pxi", ".pxd", ".c", ".h")) and name != "_core.c":
                    yield os.path.join(dirpath, name)


def test_no_product_file_over_700_lines():
    files = list(_product_files())
    if not any(f.endswith(".c") for f in files):
        pytest.fail("the C sources were not found beside the package")
    big = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            big.append(f"{os.path.relpath(path, ROOT)}: {n} lines")
    assert big == []
