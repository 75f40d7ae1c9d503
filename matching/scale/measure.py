"""Phase timings and memory for the solver benchmarks: seconds, resident memory after the phase
and the phase's own peak (Linux: VmHWM, reset through /proc/self/clear_refs before each phase)."""

import resource
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
