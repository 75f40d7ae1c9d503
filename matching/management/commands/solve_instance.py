"""Solve a matching instance file and print the solution as JSON: `manage.py solve_instance FILE`.

Input and output formats are in matching/solver/io.py. A file with hubs (export_instance's) is
solved with them, as the run solves them (solver.solve_component): its paths are never made
arcs. A file without hubs is solved as before (solver.solve, component by component). A bad
file (malformed JSON, an unknown id, a negative capacity...) ends with one line naming the
problem and a non-zero exit status, never a traceback. "-" reads standard input.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from matching.solver import (
    Hubs,
    Instance,
    InstanceError,
    Solution,
    load_instance_with_hubs,
    read_instance_with_hubs,
    solution_to_json,
    solve,
    solve_component,
)


class Command(BaseCommand):
    help = "Solve a matching instance (JSON) exactly and print the solution as JSON."
    # An offline tool: Django's system checks (URLs, admin, templates) would add ~0.3 s.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="The instance JSON; - for standard input.")

    def handle(self, *args, file: str, **options):
        try:
            instance, hubs = _read(file)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from error
        except InstanceError as error:
            raise CommandError(f"{file}: {error}") from error
        except RecursionError as error:
            raise CommandError(f"{file}: malformed JSON: nested too deeply") from error
        self.stdout.write(json.dumps(solution_to_json(_solve(instance, hubs))))


def _read(file: str) -> tuple[Instance, Hubs]:
    """A file is read a piece at a time (solver.read_instance_with_hubs); standard input, which
    cannot be read twice, whole."""
    if file == "-":
        return load_instance_with_hubs(sys.stdin.buffer.read())
    with open(file, "rb") as handle:
        return read_instance_with_hubs(handle)


def _solve(instance: Instance, hubs: Hubs) -> Solution:
    if len(hubs.arc_attorney):  # hubs nobody enters carry nothing
        return solve_component(instance, hubs)
    return solve(instance)
