"""Server and store limits: half-sent requests do not stay open, connections per address are capped, the WAL does
not keep its largest size."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import msgspec
import pytest

from ccdata.pipeline import Pipeline
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.sqlite import SqliteStore
from rawhttp import exchange, request
from server import running_server

LIMITS = """
[limits]
incomplete_request_timeout_s = 1.0
max_connections_per_address = 20
"""


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass  # a 408 before the close
        return True
    except ConnectionResetError:  # refused over the cap: aborted at once
        return True
    except TimeoutError:
        return False


def test_half_sent_requests_are_closed_and_connections_per_address_capped(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=LIMITS) as running:
        address, port = running.host.rsplit(":", 1)
        sockets = []
        for n in range(40):  # twice the cap: the last 20 are closed at once
            sock = socket.create_connection((address, int(port)), timeout=5)
            sock.sendall(b"POST /ccdata/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[" if n % 2 else
                         b"GET /ccdata/v1/health HTTP/1.1\r\nHost: x\r\n")  # fmt: skip
            sockets.append(sock)
        started = time.monotonic()
        assert all(_closed_by_server(sock) for sock in sockets)
        assert time.monotonic() - started < 4  # the timeout is 1 s; none stays open for good
        for sock in sockets:
            sock.close()
        time.sleep(0.2)
        assert exchange(running.host, request("GET", "/ccdata/v1/health", running.host)).status == 200


@pytest.mark.embedded_only("the SQLite WAL's size")
def test_the_wal_is_cut_back(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = SqliteStore(path, durable=False, wal_max_bytes=1 << 20)
    store._db.execute("PRAGMA wal_autocheckpoint=256")  # checkpoint every MiB, so that the limit applies in the test
    lines = [msgspec.json.encode(e) for e in synthetic_events(40_000)]
    Pipeline(store, batch_size=30_000).ingest(lines[:30_000])  # one large transaction: a WAL of several MiB
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 4 << 20
    Pipeline(store, batch_size=100).ingest(lines[30_000:])  # small ones after it: the WAL goes back to the limit
    # Back to the limit give or take the transactions since the last checkpoint (autocheckpoint: 1 MiB of pages);
    # without the limit it kept its 8 MiB.
    assert wal.stat().st_size <= 2 << 20, wal.stat().st_size
    store.close()
    assert not wal.exists() or wal.stat().st_size == 0
