"""The shape of the code: every module imports on its own, no import cycle, and the layers
import downwards only (README, "Architecture").

The graph is read with ``ast`` from kpplan/**/*.py and counts module-level imports only:
an import inside a function runs when the function is called, after every module has
loaded, and one under ``if TYPE_CHECKING:`` never runs.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from kpplan import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "kpplan"

# From the bottom up. A package (or a top-level module of kpplan) may import those on lower
# lines only: never one on its own line (siblings stay independent) or above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "config"),  # the kernel, and the settings the app is built with
    ("permissions",),  # the roles and who may do what
    ("audit", "errorpages", "headers"),  # the trail every feature writes; the app's shell
    ("directory",),  # states, organisations, users
    ("auth",),  # signing in, as a user of the directory
    ("meetings",),  # activities: the kinds, their life, milestones
    ("recommendations", "chair", "participants"),  # what activities produce; who chairs; who comes
    ("review", "reminders", "reports"),  # what reads the features below
    ("home",),  # the page that gathers them
    ("operations",),  # backups and restores of the whole installation
    ("kpplan", "models", "cli", "seed"),  # the application: the factory, metadata, commands
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(statements: list[ast.stmt], module: str, is_package: bool) -> set[str]:
    """The kpplan modules that the module-level ``statements`` of ``module`` import."""
    found: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upwards
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            submodules = {f"{source}.{alias.name}" for alias in node.names}
            # ``from kpplan import permissions`` imports the module kpplan.permissions.
            named = submodules & MODULES.keys()
            found.update(named or {source})
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found |= _imported(node.body, module, is_package)
            found |= _imported(node.orelse, module, is_package)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found |= _imported(block, module, is_package)
    return {name for name in found if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[module] = _imported(tree.body, module, path.name == "__init__.py") - {module}
    return graph


def layer_of(module: str) -> str:
    """The package (or top-level module) a module belongs to: kpplan.meetings.kinds →
    meetings; kpplan.permissions → permissions; kpplan itself → kpplan."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_its_place_in_the_layers():
    """A new package (or top-level module) is placed in LAYERS before it can be checked."""
    assert {layer_of(module) for module in MODULES} == set(RANK)


def test_the_graph_sees_imports_at_module_level_only():
    """The reader is right about what counts, or the checks below would prove nothing."""
    graph = import_graph()
    assert "kpplan.core.db" in graph["kpplan.directory.models"]
    assert "kpplan.permissions" in graph["kpplan.audit.views"]  # ``from kpplan import ...``
    # Imported under TYPE_CHECKING only, and inside functions only.
    assert "kpplan.directory.models" not in graph["kpplan.audit.models"]
    assert "kpplan.reminders.planner" not in graph["kpplan.cli"]


def test_core_imports_no_feature():
    graph = import_graph()
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if layer_of(module) == "core"
        for target in targets
        if layer_of(target) != "core"
    )
    assert upward == []


def test_packages_import_only_the_layers_below_them():
    """No package imports one on its own line or above: so no two packages import each
    other, and no cycle runs through several."""
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target} ({layer_of(target)} is not below {layer_of(module)})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) != layer_of(module) and RANK[layer_of(target)] >= RANK[layer_of(module)]
    )
    assert wrong == []


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


# Each module imported first, in an interpreter where nothing of the package is loaded yet:
# a cycle that only works when some other module happens to be imported first fails here.
IMPORT_EACH_ALONE = textwrap.dedent(
    """
    import importlib, sys, traceback, warnings
    warnings.simplefilter("error")
    package, names = sys.argv[1], sys.argv[2:]
    failed = []
    for name in names:
        for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[loaded]
        try:
            importlib.import_module(name)
        except BaseException:
            failed.append(name + ":\\n" + traceback.format_exc(limit=-3))
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
    """
)


def import_each_alone(package: str, names: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_ALONE, package, *names],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    result = import_each_alone("kpplan", sorted(MODULES), PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_alone_finds_a_cycle(tmp_path):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from cyclic.second import LATER\nEARLY = 1\n")
    (package / "second.py").write_text("from cyclic.first import EARLY\nLATER = 2\n")
    result = import_each_alone("cyclic", ["cyclic.first", "cyclic.second"], tmp_path)
    assert result.returncode == 1
    assert result.stdout.count("partially initialized module") == 2
