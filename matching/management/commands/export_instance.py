"""Write the current matching problem as anonymous JSON: `manage.py export_instance FILE`.

The file is in the solver's format (matching/solver/io.py) and holds no personal data: attorneys are
"a<primary key>", cases "c<primary key>", cells are named by their key (language, relay language,
court id, case type, detained and remote flags), with capacities, priorities and affinities. Solve
it offline with `manage.py solve_instance FILE`. "-" writes to standard output.

Remote-work hubs (matching/solver/hubs.py) are written as the run holds them, in the format's
"hubs" and "hub_arcs" sections; `--expand-hubs` writes each hub path as a plain arc instead, for
tools that do not know hubs (the same problem, ~80x the arcs at backlog scale).

A file that exists is written over in place and then cut to the export's length, not truncated
first (see _written_over).
"""

import gc
import os
import stat
from collections.abc import Buffer, Iterator
from contextlib import contextmanager
from typing import BinaryIO

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

    def run_from_argv(self, argv):
        # A process of its own (manage.py), which makes next to no cyclic garbage and ends with
        # the export: the garbage collector's passes free nothing, and cost ~0.4 s at 1M cases.
        # Those while it runs are stopped, and those at exit pass over start-up's objects no
        # more (frozen). (call_command, in a process that goes on, leaves the collector be.)
        gc.freeze()
        gc.disable()
        super().run_from_argv(argv)

    def handle(self, *args, file: str, expand_hubs: bool = False, **options):
        if file == "-":
            _export(_BinaryOut(self.stdout), expand_hubs=expand_hubs)
            return
        try:
            with _written_over(file) as handle:
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


@contextmanager
def _written_over(path: str) -> Iterator[BinaryIO]:
    """``path`` opened for writing from its start, and cut where the writing ended (a regular
    file). Not truncated when opened: on ext4, a file truncated to nothing and written again has
    all its data sent to disk when it is closed (its ``auto_da_alloc``), and its blocks and
    cached pages were freed to be allocated again. Exporting 500 MB at 1M cases under the name of
    the last export, that was ~0.3 s of the command's wall time."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    with os.fdopen(fd, "wb", buffering=1 << 22) as handle:
        try:
            yield handle
        finally:  # a failed export leaves what it wrote, as when it was truncated first
            if stat.S_ISREG(os.fstat(fd).st_mode):
                handle.truncate(handle.seek(0, os.SEEK_CUR))


class _BinaryOut:
    """The command's stdout for bytes (ASCII), without the line ending it adds after every
    write."""

    def __init__(self, out) -> None:
        self._out = out

    def write(self, data: Buffer) -> None:
        self._out.write(bytes(data).decode("ascii"), ending="")
