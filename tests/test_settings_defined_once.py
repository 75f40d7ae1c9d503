"""Every setting is defined once: read from the environment in config/settings.py (through the
config/env.py helpers), listed in .env.example, and read as `settings.X` everywhere else.

Static checks over the source with the standard library's ast, so they need no database.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "core", "cases", "volunteers", "matching", "pledges", "mentoring", "interpreters")
ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_list", "env_url"}
# The one module allowed to read os.environ: the typed helpers themselves.
ENV_READER = ROOT / "config" / "env.py"
# Still restating defaults, being converted with the rest of matching/ (issue 14, item 5). The
# list may only shrink: a listed file that no longer needs it fails the test below.
PENDING: set[str] = set()


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _parse(path):
    return ast.parse(path.read_text(), filename=str(path))


def _is_name(node, name):
    return isinstance(node, ast.Name) and node.id == name


def _settings_with_default(tree):
    """`getattr(settings, ...)` and `hasattr(settings, ...)`: a default restated at the call."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and (_is_name(node.func, "getattr") or _is_name(node.func, "hasattr"))
            and node.args
            and _is_name(node.args[0], "settings")
        ):
            yield node.lineno


def _environment_reads(tree):
    """`os.environ[...]`, `os.environ.get(...)`, `os.getenv(...)`. Not reads of a setting:
    setdefault of DJANGO_SETTINGS_MODULE (how Django finds the settings at all) and handing the
    whole environment on to a child process (`{**os.environ, ...}`)."""
    passed_on = {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True)
        if key is None
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _is_name(node.value, "os")):
            continue
        if node.attr == "getenv" or (
            node.attr == "environ"
            and id(node) not in passed_on
            and not _sets_settings_module(tree, node)
        ):
            yield node.lineno


def _sets_settings_module(tree, environ_node):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and node.func.value is environ_node
        ):
            first = node.args[0] if node.args else None
            return isinstance(first, ast.Constant) and first.value == "DJANGO_SETTINGS_MODULE"
    return False


def test_app_code_reads_settings_as_attributes_never_with_a_default():
    found = {
        str(path.relative_to(ROOT)): list(_settings_with_default(_parse(path)))
        for path in _app_modules()
    }
    offending = [
        f"{name}:{lines}" for name, lines in found.items() if lines and name not in PENDING
    ]
    assert offending == [], "read settings.X (defined once in config/settings.py): " + ", ".join(
        offending
    )
    done = [name for name in PENDING if name in found and not found[name]]
    assert done == [], f"remove from PENDING: {done}"


def test_only_the_settings_helpers_read_the_environment():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _app_modules()
        if path != ENV_READER
        for line in _environment_reads(_parse(path))
    ]
    assert found == [], (
        "read the environment in config/settings.py via config/env.py: " + ", ".join(found)
    )


def _variables_read_in_settings():
    names = set()
    for node in ast.walk(_parse(ROOT / "config" / "settings.py")):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ENV_HELPERS:
            first = node.args[0]
            assert isinstance(first, ast.Constant), f"line {node.lineno}: name the variable"
            names.add(first.value)
    return names


def _variables_in_env_example():
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_every_variable_read_in_settings_is_listed_in_env_example():
    missing = _variables_read_in_settings() - _variables_in_env_example()
    assert missing == set(), f"add to .env.example: {sorted(missing)}"


def test_env_example_lists_no_variable_that_settings_does_not_read():
    stale = _variables_in_env_example() - _variables_read_in_settings()
    assert stale == set(), f"not read by config/settings.py: {sorted(stale)}"


def test_the_checks_see_a_default_restated_and_a_direct_environment_read():
    # The checks above pass vacuously if they cannot see what they look for.
    code = ast.parse(
        "import os\nx = getattr(settings, 'X', 5)\ny = os.environ.get('Y')\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "child = {**os.environ, 'DEBUG': '0'}\n"
    )
    assert list(_settings_with_default(code)) == [2]
    assert list(_environment_reads(code)) == [3]
    assert {"SECRET_KEY", "DATABASE_URL", "DEBUG"} <= _variables_read_in_settings()
