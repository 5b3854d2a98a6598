"""`ccdata` commands as real processes: a server started on a free loopback port, commands run beside it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def ccdata(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
           stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ccdata", *map(str, args)],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait_live(self, ready_s: float) -> None:
        """Until the server answers its liveness probe; it is killed and the test fails if it does not in time."""
        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ccdata exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/ccdata/v1/health/live", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"ccdata did not answer within {ready_s} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_serve(
    *args: str | Path,
    log: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
    ready_s: float = 60,
    command: str = "serve",
    wait: bool = True,
) -> Served:
    """`ccdata serve ARGS --port P` (or another serving command) in the background, once it answers its liveness
    probe (at once, without `wait`)."""
    port = port or free_port()
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ccdata", command, *map(str, args), "--port", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    served = Served(process, f"http://127.0.0.1:{port}", log)
    if wait:
        served.wait_live(ready_s)
    return served


@contextmanager
def serving(*args: str | Path, log: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    served = start_serve(*args, log=log, env=env)
    try:
        yield served
    finally:
        served.stop()


def demo_config_with(path: Path, **settings: str) -> Path:
    """The packaged demo configuration with some `key = value` lines changed (by key), written to `path`."""
    import re
    from importlib import resources

    text = resources.files("ccdata").joinpath("default.toml").read_text()
    for key, value in settings.items():
        text, found = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value} ", text)
        assert found == 1, key
    path.write_text(text)
    return path


def serve_args(tmp: Path, db: str, mode: str | None, config: Path | None = None) -> list[str | Path]:
    """The arguments of a `ccdata serve` whose state lives at `tmp` in `mode` (conftest's `mode`): the embedded
    store `tmp`/`db`, or a node of the distributed place of `tmp`: its `[cluster]` table appended to the
    configuration (`config`, else the packaged demo one), written beside."""
    if mode != "distributed":
        return ["--db", tmp / db, *(["--config", config] if config is not None else [])]
    from importlib import resources

    from backends import distributed_place

    text = config.read_text() if config is not None else resources.files("ccdata").joinpath("default.toml").read_text()
    clustered = tmp / "cluster.toml"
    clustered.write_text(text + distributed_place(str(tmp)).cluster_toml())
    return ["--config", clustered]
