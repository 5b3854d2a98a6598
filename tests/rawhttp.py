"""Raw HTTP/1.x over a loopback socket: requests that httpx would refuse to send, and their answers, parsed."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from ccdata import signing


@dataclass
class Answer:
    status: int  # 0: the server closed the connection without an answer
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> object:
        return msgspec.json.decode(self.body)


def exchange(host: str, data: bytes, timeout: float = 10.0) -> Answer:
    """Send `data` as is, read until the server closes (or the answer's length is read), parse the first answer."""
    address, port = host.rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may refuse before reading everything: its answer is there
            sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
            answer = _parse(received)
            if answer is not None and len(answer.body) >= int(answer.headers.get("content-length", "-1")) >= 0:
                break
    return _parse(received) or Answer(0)


def _parse(data: bytes) -> Answer | None:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, body)


def request(
    method: str,
    target: bytes | str,
    host: str,
    body: bytes = b"",
    headers: list[tuple[bytes | str, bytes | str]] | None = None,
    *,
    version: str = "HTTP/1.1",
    content_length: bool = True,
) -> bytes:
    """The bytes of one request (Connection: close); text is sent as UTF-8, bytes byte for byte."""
    lines = [_b(method) + b" " + _b(target) + b" " + _b(version)]
    given = [(_b(n), _b(v)) for n, v in headers or []]
    names = {n.lower() for n, _ in given}
    if b"host" not in names and version == "HTTP/1.1":
        given.insert(0, (b"Host", _b(host)))
    if content_length and b"content-length" not in names and b"transfer-encoding" not in names:
        given.append((b"Content-Length", str(len(body)).encode()))
    given.append((b"Connection", b"close"))
    lines += [n + b": " + v for n, v in given]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def signed_cms(path: str, host: str, body: bytes, query: dict[str, str] | None = None, raw_query: str = "") -> bytes:
    """A correctly signed CC-CMS request carrying any body bytes (`raw_query` is sent instead of `query`)."""
    auth = signing.authorization("ak-all", "sk-all", datetime.now(UTC), "POST", path, query or {}, {"host": host}, body)
    target = path + (("?" + raw_query) if raw_query else "")
    return request("POST", target, host, body, [("Authorization", auth), ("Content-Type", "application/json")])


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def _b(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")
