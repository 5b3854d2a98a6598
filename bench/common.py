"""Helpers shared by the benchmarks: a ccdata server in its own process, percentiles, RSS."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

OUT = Path(__file__).parent / "out"
DOC = Path(__file__).parent.parent / "docs" / "performance.md"


def marked(name: str, text: str) -> str:
    """A benchmark's section of docs/performance.md between its markers, so that it can be rewritten alone."""
    return f"<!-- bench.{name}: begin -->\n{text.rstrip()}\n<!-- bench.{name}: end -->\n"


def write_section(name: str, text: str) -> None:
    """Replace the benchmark's marked section of docs/performance.md (or append it)."""
    begin, end = f"<!-- bench.{name}: begin -->", f"<!-- bench.{name}: end -->"
    doc = DOC.read_text()
    if begin in doc:
        doc = doc[: doc.index(begin)] + marked(name, text) + doc[doc.index(end) + len(end) + 1 :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + marked(name, text)
    DOC.write_text(doc)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(db: Path | str, *args: str, config: Path | None = None) -> Iterator[str]:
    """`ccdata serve` in a separate process (so that load generators measure the server, not themselves), on an
    embedded store file or a postgresql:// URL."""
    with served(db, *args, config=config) as (url, _):
        yield url


@contextmanager
def served(db: Path | str, *args: str, config: Path | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """As `server`, with the process (for its CPU time)."""
    port = free_port()
    where = ["--store", db] if isinstance(db, str) and db.startswith("postgresql://") else ["--db", str(db)]
    command = [sys.executable, "-m", "ccdata", "serve", *where, "--port", str(port), *args]
    if config is not None:
        command += ["--config", str(config)]
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"server-{port}.log"  # a file, not a pipe: the access log would fill a pipe nobody reads
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/ccdata/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    try:
        yield url, process
    finally:
        process.terminate()
        process.wait(30)
        log.unlink(missing_ok=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def p50_p99(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), percentile(values, 99)


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process, MiB (Linux /proc)."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        # Debian's package: the benchmark machine is root on the project's own kind of machine.
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is needed for the real-time benchmark: apt-get install wrk")
    return path


def machine() -> str:
    cores = os.cpu_count()
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")  # fmt: skip
    return f"{cores} cores ({model}), {memory:.0f} GiB"


def replace_section(doc: Path, begin: str, end: str, text: str, before: str | None = None) -> None:
    """Put `text` (which starts with `begin` and ends with `end` and a newline) in place of that section of
    `doc`; a new one goes in front of the `before` heading, else at the end."""
    content = doc.read_text()
    if begin in content:
        content = content[: content.index(begin)] + text + content[content.index(end) + len(end) + 1 :]
    elif before is not None and before in content:
        content = content.replace(before, text + "\n" + before, 1)
    else:
        content = content.rstrip("\n") + "\n\n" + text
    doc.write_text(content)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
