"""The layout of fastmask.bench: what the command line and earlier code import from it, file
sizes, and no import cycles between its modules."""

import ast
import os

import fastmask.bench as bench

#: What ``fastmask bench`` and ``fastmask demo`` call (``bm.<name>``).
CLI_NAMES = ("MASKINGS", "PEERS", "BenchError", "plot_chart", "save_json", "load_json",
             "format_report", "run", "DataSource", "Settings", "default_threads", "MAX_LENGTHS",
             "DEFAULT_INPUTS", "BATCH_SIZES", "INPUT_FORMS", "Timing", "timing_line",
             "headline_table", "machine_line", "machine_info", "validate_results")

PACKAGE = os.path.dirname(bench.__file__)


def test_the_command_line_names_are_exported():
    for name in CLI_NAMES:
        assert name in bench.__all__ and hasattr(bench, name), name
    for name in bench.__all__:
        assert hasattr(bench, name), name


def _modules():
    return sorted(f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py"))


def test_every_file_is_under_700_lines():
    for m in _modules():
        with open(os.path.join(PACKAGE, m + ".py"), encoding="utf-8") as f:
            assert sum(1 for _ in f) < 700, m


def test_no_import_cycle_inside_the_package():
    graph = {}
    for m in _modules():
        with open(os.path.join(PACKAGE, m + ".py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        deps = set()
        for node in ast.walk(tree):  # function-level imports count too
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
        graph[m] = deps - {m}
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", " -> ".join(path + [m])
        state[m] = "open"
        for d in graph.get(m, ()):
            if d != "__init__" and m != "__init__":
                visit(d, path + [m])
        state[m] = "done"

    for m in graph:
        visit(m, [])
