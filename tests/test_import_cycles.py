"""No two modules of the project import each other, directly or through others.

The graph is built with the standard library (``ast``) from every import statement, at module
level or inside a function: an import deferred into a function to dodge a cycle is still a
dependency, only a later one. The apps are the local ones in INSTALLED_APPS (those whose code
sits in this repository), plus ``config``, so an app is checked as soon as it is installed.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def local_packages() -> list[str]:
    names = {"config"}
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            names.add(app.name.split(".")[0])
    return sorted(names)


def modules(packages: list[str]) -> dict[str, Path]:
    """Module name -> file, migrations left out (Django imports them by name, not the app)."""
    found = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports. ``from package import module`` depends on the
    module, not on the package's ``__init__``; anything else on the longest known prefix."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            candidates = [m for m in submodules if m in known]
            if len(candidates) < len(submodules):
                candidates.append(base)
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules(local_packages())
    return {name: imported(name, path, known) for name, path in known.items()}


def test_the_checked_packages_are_the_installed_local_apps():
    assert {"config", "core", "cases", "volunteers", "matching"} <= set(local_packages())
    assert not {"django", "allauth", "celery"} & set(local_packages())


def test_no_two_modules_of_the_apps_import_each_other():
    found = cycles(import_graph())

    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_check_sees_a_cycle_through_a_function_level_import():
    graph = {
        "shop.services": {"shop.models"},
        "shop.tasks": {"shop.services"},
        "shop.models": set(),
    }
    assert cycles(graph) == []

    graph["shop.services"].add("shop.tasks")  # e.g. `from shop.tasks import x` in a function

    assert cycles(graph) == [["shop.services", "shop.tasks"]]


def test_the_graph_follows_relative_and_from_package_imports(tmp_path):
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text("")
    (package / "tasks.py").write_text("def f():\n    from . import services\n")
    (package / "services.py").write_text("from shop import models\nimport shop.tasks\n")
    known = {name: package / f"{name.split('.')[-1]}.py" for name in ("shop.models", "shop.tasks")}
    known["shop.services"] = package / "services.py"
    known["shop"] = package / "__init__.py"

    assert imported("shop.tasks", known["shop.tasks"], known) == {"shop.services"}
    assert imported("shop.services", known["shop.services"], known) == {
        "shop.models",
        "shop.tasks",
    }
