"""A CC-Gateway client that behaves like Huawei's Java agent-workbench demo (`CloudIPCC_AgentServerDemo_Java`):

- it looks the `Set-GUID` response header up case-sensitively, removes `JSESSIONID=`, and keeps the rest;
- it sends the GUID in a request header named `guid` (lower case);
- it keeps every `Set-Cookie` it gets and replays the cookies as `Cookie` (here it also starts with a load
  balancer's cookie, as behind an NSLB);
- it keeps polling `agentevent`, which rotates the GUID in dynamic mode.

Requests go over raw sockets with the exact header names written here, and answers are parsed without folding
header names, so a server that lower-cases `Set-GUID` fails this client as it fails Huawei's.
"""

from __future__ import annotations

import socket
from typing import Any

import msgspec

PREFIX = "/agentgateway/resource"


class RawAnswer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.raw_head = head
        self.headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name, value.strip()))  # the name exactly as sent

    def header(self, name: str) -> str | None:
        """Case-sensitive, as Java's `response.getFirstHeader` in the demo is used with `equals`."""
        return next((value for key, value in self.headers if key == name), None)

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


def exchange(host: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> RawAnswer:
    address, port = host.rsplit(":", 1)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers),
             f"Content-Length: {len(body)}", "Connection: close"]  # fmt: skip
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection((address, int(port)), timeout=15) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return RawAnswer(received)


class DemoWorkbench:
    def __init__(self, host: str, agent_id: int, password: str) -> None:
        self.host = host
        self.agent_id = agent_id
        self.password = password
        self.guid = ""
        self.cookies: dict[str, str] = {"NSLB_ROUTE": "node-a"}
        self.guids_seen: list[str] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = [("Content-Type", "application/json; charset=UTF-8"), ("guid", self.guid)]
        if self.cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        raw = b"" if body is None else msgspec.json.encode(body)
        answer = exchange(self.host, method, PREFIX + path, headers, raw)
        assert answer.status == 200, answer.body
        self._deal_guid(answer)
        for name, value in answer.headers:
            if name == "Set-Cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return answer.json()

    def _deal_guid(self, answer: RawAnswer) -> None:
        fresh = answer.header("Set-GUID")
        if fresh:
            self.guid = fresh.replace("JSESSIONID=", "")
            self.guids_seen.append(self.guid)

    def sign_in(self, **fields: Any) -> dict[str, Any]:
        body = {"password": self.password, "phonenum": f"6{self.agent_id}", "status": "4", "releasephone": "true",
                "agenttype": "4", **fields}  # fmt: skip
        return self.call("PUT", f"/onlineagent/{self.agent_id}", body)

    def poll(self) -> dict[str, Any] | None:
        answer = self.call("GET", f"/agentevent/{self.agent_id}")
        assert answer["retcode"] == "0", answer
        return answer["event"]

    def events(self) -> list[dict[str, Any]]:
        """Every event queued now (polls until an empty answer)."""
        out = []
        while (event := self.poll()) is not None:
            out.append(event)
        return out

    def agent(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call(method, f"/onlineagent/{self.agent_id}/{action}", body)

    def voice(self, method: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call(method, f"/voicecall/{self.agent_id}/{action}", body)

    def data(self, action: str) -> dict[str, Any]:
        return self.call("GET", f"/calldata/{self.agent_id}/{action}")
