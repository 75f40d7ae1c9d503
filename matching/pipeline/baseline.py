"""The greedy baseline of a run, computed beside the solve.

The greedy objective is only a statistic (the run records how much the exact optimum gains over
it), but at backlog scale it costs seconds of pure Python. A forked child computes it: it shares
the loaded arrays copy-on-write, runs the greedy on the second core while the parent solves on
one (the write that follows wants both: run.py), and sends back three numbers. Not niced: on
a busy machine a niced child starved and the run waited for it. Nothing personal is in the
problem (ids and integers), and the child never touches the database connection it inherits:
it leaves with ``os._exit``, which skips every finaliser that could close the parent's socket.

Small problems, platforms without ``fork`` and a child that dies or hangs fall back to the same
greedy in process, so the statistic is always there.
"""

import ctypes
import ctypes.util
import gc
import os
import resource
import select
import signal
import warnings
from contextlib import suppress
from dataclasses import dataclass
from time import perf_counter

from matching.solver import Hubs, Instance, greedy_pairs

# Below this many arcs and cells the greedy takes milliseconds: not worth a process (a fork
# costs 5-20 ms). The greedy's heap works cell by cell: a small run's 38k arcs over 15.5k cells
# (300 verifications at 1M) took 0.15-0.20 s in process, hidden beside the write in a child.
FORK_ABOVE_WORK = 20_000
# A child still busy after this long is taken for stuck: killed, and the greedy rerun in process.
CHILD_TIMEOUT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Baseline:
    objective: int
    assigned: int
    seconds: float
    in_child: bool
    child_peak_rss_mib: float | None = None


class GreedyBaseline:
    """Start with ``GreedyBaseline(instance, hubs)``; ``result()`` waits for it."""

    def __init__(self, instance: Instance, hubs: Hubs) -> None:
        self.instance, self.hubs = instance, hubs
        # The child's pid and the pipe's read end, both set by _fork or both None.
        self.pid: int | None = None
        self.reader: int | None = None
        work = instance.n_arcs + len(hubs.arc_attorney) + instance.n_cells
        if hasattr(os, "fork") and work > FORK_ABOVE_WORK:
            self._fork()

    def _fork(self) -> None:
        reader, writer = os.pipe()
        _return_free_memory()
        # Objects that exist now move to a generation the collector never visits, in both
        # processes, until the child is reaped: a collection writes to every object it visits,
        # and each page written after the fork is copied, doubling the memory they share.
        gc.freeze()
        with warnings.catch_warnings():
            # Python warns that forking a threaded process may deadlock a child that takes a
            # lock another thread held. The child takes none: it computes and writes one line.
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:
                os.close(reader)
                os.close(writer)
                gc.unfreeze()
                return
        if pid == 0:  # pragma: no cover (the child; its result is checked in the parent)
            status = 1
            try:
                os.close(reader)
                started = perf_counter()
                objective, assigned = _greedy(self.instance, self.hubs)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                line = f"{objective} {assigned} {perf_counter() - started} {rss}"
                os.write(writer, line.encode())
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        self.pid, self.reader = pid, reader

    def cancel(self) -> None:
        """The run failed: stop the child, if any, and reap it."""
        if self.pid is not None and self.reader is not None:
            os.close(self.reader)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
            gc.unfreeze()

    def result(self) -> Baseline:
        if self.pid is not None and self.reader is not None:
            received = self._receive(self.pid, self.reader)
            if received is not None:
                return received
        started = perf_counter()
        objective, assigned = _greedy(self.instance, self.hubs)
        return Baseline(objective, assigned, perf_counter() - started, False)

    def _receive(self, pid: int, reader: int) -> Baseline | None:
        data = b""
        try:
            while True:
                ready, _, _ = select.select([reader], [], [], CHILD_TIMEOUT_SECONDS)
                if not ready:
                    os.kill(pid, signal.SIGKILL)
                    break
                chunk = os.read(reader, 4096)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(reader)
            os.waitpid(pid, 0)
            gc.unfreeze()
        try:
            objective, assigned, seconds, rss = data.decode().split()
            return Baseline(int(objective), int(assigned), float(seconds), True, float(rss))
        except ValueError:  # the child died before writing its line
            return None


def _greedy(instance: Instance, hubs: Hubs) -> tuple[int, int]:
    """The greedy's (objective, assigned): its pairs' scores summed, without the Solution of
    ids (sorting a hundred thousand assignments the statistic does not need)."""
    _, _, score = greedy_pairs(instance, hubs)
    return int(score.sum()), len(score)


def _return_free_memory() -> None:
    """Give the heap's free pages back to the system before forking (glibc). Left mapped, the
    two processes would share them, and each page the parent reuses would be copied while the
    child's copy lingers: memory the run no longer even uses, counted twice."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
