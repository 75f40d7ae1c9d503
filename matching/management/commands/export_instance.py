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

from matching.pipeline.export import export_columns
from matching.solver import write_instance


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
        columns, hubs = export_columns()
        # Written a piece at a time (solver/writer.py: the text is never whole in memory).
        if file == "-":
            write_instance(columns, _BinaryOut(self.stdout), hubs=hubs, expand_hubs=expand_hubs)
            return
        try:
            with open(file, "wb", buffering=1 << 22) as handle:
                # Two processes write the arcs: the second core is idle once scoring is done.
                options = {"hubs": hubs, "expand_hubs": expand_hubs, "processes": 2}
                write_instance(columns, handle, **options)
        except OSError as error:
            raise CommandError(f"cannot write {file}: {error.strerror}") from error
        self.stderr.write(f"wrote {file}")


class _BinaryOut:
    """The command's stdout for bytes (ASCII), without the line ending it adds after every
    write."""

    def __init__(self, out) -> None:
        self._out = out

    def write(self, data: Buffer) -> None:
        self._out.write(bytes(data).decode("ascii"), ending="")
