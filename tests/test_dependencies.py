"""Dependencies kept honest: bounded in pyproject.toml, installed from hashed locks that agree
with it, and declared whenever the code imports them. Static checks; no network, no database."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
DEV = [Requirement(line) for line in PYPROJECT["project"]["optional-dependencies"]["dev"]]
APPS = ("config", "core", "cases", "volunteers", "matching", "pledges", "mentoring", "interpreters")


def _lock(name):
    text = (ROOT / name).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", text, flags=re.MULTILINE))
    return {canonicalize_name(package): version for package, version in pins.items()}, text


def _has_upper_bound(requirement):
    return any(spec.operator in {"<", "<=", "==", "~=", "==="} for spec in requirement.specifier)


def test_every_dependency_has_an_upper_bound():
    open_ended = [str(r) for r in RUNTIME + DEV if not _has_upper_bound(r)]
    assert open_ended == []


def test_the_locks_pin_every_declared_dependency_within_its_bounds():
    runtime_lock, _ = _lock("requirements.lock")
    dev_lock, _ = _lock("requirements-dev.lock")
    for lock, requirements in ((runtime_lock, RUNTIME), (dev_lock, RUNTIME + DEV)):
        for requirement in requirements:
            version = lock.get(canonicalize_name(requirement.name))
            assert version is not None, f"{requirement.name} is not locked: run `make lock`"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{requirement.name}=={version} is outside {requirement}: run `make lock`"
            )


def test_the_two_locks_agree_on_every_package_they_share():
    runtime_lock, _ = _lock("requirements.lock")
    dev_lock, _ = _lock("requirements-dev.lock")
    differ = {name for name in runtime_lock if dev_lock.get(name) != runtime_lock[name]}
    assert differ == set()


def test_every_locked_package_carries_its_hashes():
    for name in ("requirements.lock", "requirements-dev.lock"):
        pins, text = _lock(name)
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
        unhashed = [entry.split("==")[0] for entry in entries if "--hash=sha256:" not in entry]
        assert pins and unhashed == [], f"{name}: {unhashed}"


def _type_checking_only(tree):
    """Nodes under ``if TYPE_CHECKING:``: read by mypy, never imported at run time."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }


def _third_party_imports(folders):
    local = set(APPS) | {"tests"}
    found = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            skipped = _type_checking_only(tree)
            for node in ast.walk(tree):
                if id(node) in skipped:
                    continue
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in local and top not in sys.stdlib_module_names:
                        found.setdefault(top, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _undeclared(imports, requirements):
    declared = {canonicalize_name(r.name) for r in requirements}
    distributions = packages_distributions()
    return sorted(
        f"{module} ({where})"
        for module, where in imports.items()
        if not {canonicalize_name(d) for d in distributions.get(module, [])} & declared
    )


def test_app_code_imports_only_declared_runtime_dependencies():
    present = [app for app in APPS if (ROOT / app).is_dir()]
    assert _undeclared(_third_party_imports(present), RUNTIME) == []


def test_tests_import_only_declared_dependencies():
    assert _undeclared(_third_party_imports(["tests"]), RUNTIME + DEV) == []


def test_imports_only_the_type_checker_reads_are_not_runtime_dependencies():
    tree = ast.parse("import typing\nif typing.TYPE_CHECKING:\n    import stubs\nimport real\n")
    skipped = _type_checking_only(tree)
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import) and id(node) not in skipped
        for alias in node.names
    ]
    assert imported == ["typing", "real"]
