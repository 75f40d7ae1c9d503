"""What a run computes beside its solve: the attorneys' components and the greedy baseline.

The greedy objective is only a statistic (the run records how much the exact optimum gains over
it), but at backlog scale it costs seconds of pure Python. A forked child computes it: it shares
the loaded arrays copy-on-write, runs the greedy on the second core while the parent solves on
one (the write that follows wants both: run.py), and sends back three numbers. Not niced: on
a busy machine a niced child starved and the run waited for it. Nothing personal is in the
problem (ids and integers), and the child never touches the database connection it inherits:
it leaves with ``os._exit``, which skips every finaliser that could close the parent's socket.

Before the greedy, the child finds the connected component of every attorney
(solver.attorney_components, what the write batches by: 0.3-0.5 s at 1M cases, the graph of
every arc and hub path), which does not depend on the solution either. It leaves them in memory
shared with the parent (an anonymous shared map made before the fork) and says so on the pipe;
the parent reads them when its solve is done.

Small problems, platforms without ``fork`` and a child that dies or hangs fall back to the same
computations in process, so the statistic and the components are always there.
"""

import ctypes
import ctypes.util
import gc
import mmap
import os
import resource
import select
import signal
import warnings
from contextlib import suppress
from dataclasses import dataclass
from time import perf_counter

import numpy as np

from matching.solver import (
    AttorneyComponents,
    Hubs,
    Instance,
    attorney_components,
    greedy_pairs,
)

# Below this many arcs and cells the greedy takes milliseconds: not worth a process (a fork
# costs 5-20 ms). The greedy's heap works cell by cell: a small run's 38k arcs over 15.5k cells
# (300 verifications at 1M) took 0.15-0.20 s in process, hidden beside the write in a child.
FORK_ABOVE_WORK = 20_000
# A child still busy after this long is taken for stuck: killed, and the greedy rerun in process.
CHILD_TIMEOUT_SECONDS = 600
# What the child writes on the pipe once the components are in the shared map (then the line of
# the greedy's figures follows).
COMPONENTS_READY = b"c"


@dataclass(frozen=True, slots=True)
class Baseline:
    objective: int
    assigned: int
    seconds: float
    in_child: bool
    child_peak_rss_mib: float | None = None


class BesideSolve:
    """What a run computes beside its solve, from the loaded problem alone: the attorneys'
    components (what the write batches by) and the greedy baseline (a statistic). Start with
    ``BesideSolve(instance, hubs)``; ``components()`` and ``greedy()`` wait for what they
    return."""

    def __init__(self, instance: Instance, hubs: Hubs) -> None:
        self.instance, self.hubs = instance, hubs
        # The child's pid and the pipe's read end, both set by _fork or both None; the map the
        # child leaves the components in (the count, then a label per attorney) while it lives.
        self.pid: int | None = None
        self.reader: int | None = None
        self.shared: mmap.mmap | None = None
        self.found: AttorneyComponents | None = None
        work = instance.n_arcs + len(hubs.arc_attorney) + instance.n_cells
        if hasattr(os, "fork") and work > FORK_ABOVE_WORK:
            self._fork()

    def _fork(self) -> None:
        reader, writer = os.pipe()
        shared = mmap.mmap(-1, 8 * (self.instance.n_attorneys + 1))  # MAP_SHARED
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
                shared.close()
                gc.unfreeze()
                return
        if pid == 0:  # pragma: no cover (the child; its result is checked in the parent)
            status = 1
            try:
                os.close(reader)
                found = attorney_components(self.instance, self.hubs)
                into = np.frombuffer(shared, dtype=np.int64)
                into[0], into[1:] = found.count, found.label
                os.write(writer, COMPONENTS_READY)
                started = perf_counter()
                objective, assigned = _greedy(self.instance, self.hubs)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                line = f"{objective} {assigned} {perf_counter() - started} {rss}"
                os.write(writer, line.encode())
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        self.pid, self.reader, self.shared = pid, reader, shared

    def components(self) -> AttorneyComponents:
        """The attorneys' components, as the child found them, or found here if it did not:
        it died, or it is still busy after CHILD_TIMEOUT_SECONDS (then it is killed, and
        ``greedy()`` computes the greedy here too)."""
        if self.found is None:
            self.found = self._from_child() or attorney_components(self.instance, self.hubs)
        return self.found

    def _from_child(self) -> AttorneyComponents | None:
        if self.pid is None or self.reader is None or self.shared is None:
            return None
        ready, _, _ = select.select([self.reader], [], [], CHILD_TIMEOUT_SECONDS)
        if not ready:
            os.kill(self.pid, signal.SIGKILL)
            return None
        if os.read(self.reader, len(COMPONENTS_READY)) != COMPONENTS_READY:
            return None  # the child died first
        found = np.frombuffer(self.shared, dtype=np.int64).copy()
        return AttorneyComponents(label=found[1:], count=int(found[0]))

    def cancel(self) -> None:
        """The run failed: stop the child, if any, and reap it."""
        if self.pid is not None and self.reader is not None:
            os.close(self.reader)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
            self._release()

    def _release(self) -> None:
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        gc.unfreeze()

    def greedy(self) -> Baseline:
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
            self._release()
        try:  # (the components' mark is still there if components() was not asked for)
            objective, assigned, seconds, rss = data.removeprefix(COMPONENTS_READY).decode().split()
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
