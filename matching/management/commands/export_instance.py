"""Write the current matching problem as anonymous JSON: `manage.py export_instance FILE`.

The file is in the solver's format (matching/solver/io.py) and holds no personal data: attorneys are
"a<primary key>", cases "c<primary key>", cells are named by their key (language, relay language,
court id, case type, detained and remote flags), with capacities, priorities and affinities. Solve
it offline with `manage.py solve_instance FILE`. "-" writes to standard output.

Remote-work hubs (matching/solver/hubs.py) are written as the run holds them, in the format's
"hubs" and "hub_arcs" sections; `--expand-hubs` writes each hub path as a plain arc instead, for
tools that do not know hubs (the same problem, ~80x the arcs at backlog scale).
"""

from collections.abc import Buffer

from django.core.management.base import BaseCommand, CommandError

from matching.pipeline.export import export_columns, export_to
from matching.solver import write_instance
from matching.solver.writer import BinarySink


class Command(BaseCommand):
    help = "Export the current matching problem (open cases, available attorneys) as JSON."
    # An offline tool: Django's system checks (URLs, admin, templates) would add ~0.3 s.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the JSON; - for standard output.")
        parser.add_argument(
            "--expand-hubs",
            action="store_true",
            help="Write every remote-work hub path as a plain arc (no hubs sections).",
        )

    def handle(self, *args, file: str, expand_hubs: bool = False, **options):
        if file == "-":
            _export(_BinaryOut(self.stdout), expand_hubs=expand_hubs)
            return
        try:
            with open(file, "wb", buffering=1 << 22) as handle:
                _export(handle, expand_hubs=expand_hubs)
        except OSError as error:
            raise CommandError(f"cannot write {file}: {error.strerror}") from error
        self.stderr.write(f"wrote {file}")


def _export(out: BinarySink, *, expand_hubs: bool) -> None:
    """Streamed, written by a second process while scoring runs (pipeline/export.py); expanded
    hubs need every arc at once (solver/writer.py finds the paths a direct arc beats)."""
    if expand_hubs:
        columns, hubs = export_columns()
        write_instance(columns, out, hubs=hubs, expand_hubs=True)
    else:
        export_to(out)


class _BinaryOut:
    """The command's stdout for bytes (ASCII), without the line ending it adds after every
    write."""

    def __init__(self, out) -> None:
        self._out = out

    def write(self, data: Buffer) -> None:
        self._out.write(bytes(data).decode("ascii"), ending="")
