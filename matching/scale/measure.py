"""Phase timings and memory for the solver benchmarks: seconds, resident memory after the phase
and the phase's own peak (Linux: VmHWM, reset through /proc/self/clear_refs before each phase)."""

import os
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from time import perf_counter

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


class PhaseMeter:
    """``with meter.phase("solve"): ...`` records seconds, rss_mib and peak_mib per phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.rss_mib: dict[str, int] = {}
        self.peak_mib: dict[str, int] = {}
        self.baseline_mib = 0  # resident memory when the first phase began

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        _reset_peak()
        if not self.seconds:
            self.baseline_mib = _status_mib().get("VmRSS", 0)
        started = perf_counter()
        yield
        self.seconds[name] = round(perf_counter() - started, 3)
        status = _status_mib()
        self.rss_mib[name] = status.get("VmRSS", 0)
        self.peak_mib[name] = status.get("VmHWM", 0)

    @property
    def process_peak_mib(self) -> int:
        """The process's peak over its whole life (getrusage: not reset by the phases)."""
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _reset_peak() -> None:
    # "5" resets the peak resident set size (Linux >= 4.0). Elsewhere, or if not allowed, a
    # phase's peak is the process's peak so far.
    with suppress(OSError):
        _CLEAR_REFS.write_text("5")


def _status_mib() -> dict[str, int]:
    try:
        lines = _STATUS.read_text().splitlines()
    except OSError:
        return {}
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) // 1024
    return values


class PssPeak:
    """``with PssPeak() as peak: ...`` then ``peak.mib``: the largest proportional set size
    (PSS) of this process plus its children, sampled every ``interval`` seconds by a thread.

    PSS, not RSS: the run's greedy child shares the run's pages copy-on-write, and RSS would
    count them twice. Linux only (``/proc/<pid>/smaps_rollup``); elsewhere ``mib`` stays 0.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="pss-peak", daemon=True)

    def __enter__(self) -> "PssPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        pid = os.getpid()
        while True:
            total = sum(_pss_kib(p) for p in (pid, *_children(pid)))
            self.mib = max(self.mib, round(total / 1024, 1))
            if self._stop.wait(self.interval):
                return


def _pss_kib(pid: int) -> int:
    with suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    """The process's children (the greedy's fork), through every thread's list."""
    found: list[int] = []
    with suppress(OSError, ValueError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found
