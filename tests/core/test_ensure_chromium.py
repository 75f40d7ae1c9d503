"""`make test` never skips the browser tests silently (issue 12, item 13): bin/ensure-chromium
passes when Chromium is there, installs it where it can (root with apt-get, as CI), and otherwise
fails with the command to run."""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bin" / "ensure-chromium"


def _run(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/sh", str(SCRIPT)],
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        check=False,
    )


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_without_chromium_and_no_way_to_install_it_fails_with_the_command(tmp_path):
    _tool(tmp_path, "id", "echo 1000")  # not root: nothing is installed
    result = _run(tmp_path)
    assert result.returncode == 1
    assert "apt-get install chromium" in result.stderr


def test_with_chromium_it_passes(tmp_path):
    _tool(tmp_path, "chromium", "exit 0")
    assert _run(tmp_path).returncode == 0
