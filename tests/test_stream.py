"""The live stream over a real socket: credentials and filters, reconnects with Last-Event-ID, slow clients."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from processes import serve_args, start_serve
from server import Api, running_server
from sse import Sse, stream
from test_http_cms_monitoring import event, traffic

STREAM_CONFIG = """
[stream]
replay_messages = {replay}
client_queue = {queue}
clients = [
    { name = "wallboard", token = "wall-all", vdns = [1, 2] },
    { name = "vdn2-board", token = "wall-vdn2", vdns = [2] },
]
"""


def config(replay: int = 100_000, queue: int = 10_000) -> str:
    return STREAM_CONFIG.replace("{replay}", str(replay)).replace("{queue}", str(queue))


def position(message: Sse) -> tuple[int, int]:
    assert message.id is not None
    seq, _, index = message.id.partition(".")
    return int(seq), int(index)


def test_credentials_and_filters_are_checked(tmp_path: Path) -> None:
    with running_server(tmp_path, extra=config()) as running:
        http = httpx.Client(base_url=running.url, timeout=5)
        assert http.get("/ccdata/v1/stream").status_code == 401
        assert http.get("/ccdata/v1/stream", headers={"Authorization": "Bearer nope"}).status_code == 401
        vdn2 = {"Authorization": "Bearer wall-vdn2"}
        refused = http.get("/ccdata/v1/stream", params={"vdn": "1"}, headers=vdn2)
        assert refused.status_code == 403 and "VDN 1" in refused.json()["message"]
        bad = http.get("/ccdata/v1/stream", params={"kinds": "agent,weather"}, headers=vdn2)
        assert bad.status_code == 400 and "weather" in bad.json()["message"]
        assert http.get("/ccdata/v1/stream", params={"vdn": "x"}, headers=vdn2).status_code == 400


def answered_call(t: int) -> list[dict[str, object]]:
    """Six agents sign in; a call queues for skill 7, rings agent 1001, is answered and released."""
    agents = enumerate(range(1001, 1007))
    events = [event(i, "agent.login", t, agentId=a, skills=[7, 8], phone=f"6{a}") for i, a in agents]
    call = {"callId": "1700001000-0"}
    events += [event(10, "call.arrive", t + 1000, caller="88881363", called="650550", **call),
               event(11, "call.queue", t + 1000, skillId=7, **call),
               event(12, "call.alert", t + 3000, agentId=1001, **call),
               event(13, "call.answer", t + 4000, agentId=1001, **call),
               event(14, "call.release", t + 9000, by="agent", **call)]  # fmt: skip
    return events


def test_messages_of_each_kind_with_the_event_position(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    with running_server(tmp_path, extra=config()) as running, stream(running.url, "wall-all") as reader:
        api = Api(running)
        api.ingest_ok(answered_call(now))
        messages = reader.take(running.app.state.stream.counters["messages"])
    kinds = [m.event for m in messages]
    assert kinds[:6] == ["agent"] * 6
    assert {"call", "track", "result", "agent"} <= set(kinds)
    seqs = [position(m) for m in messages]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    result = next(m for m in messages if m.event == "result")
    assert result.data["data"]["callId"] == "1700001000-0" and result.data["vdn"] == 1
    assert result.data["seq"] == position(result)[0]
    answered = [m.data["data"] for m in messages if m.event == "agent" and m.data["data"]["state"] == 5]
    assert answered and answered[0]["callId"] == "1700001000-0"  # talking (CMS state 5) on that call


def test_reconnect_with_last_event_id_loses_and_repeats_nothing(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    events = traffic(now, 60, seed=3)
    with running_server(tmp_path, extra=config()) as running:
        api = Api(running)
        hub = running.app.state.stream
        with stream(running.url, "wall-all") as reference:
            seen: list[Sse] = []
            with stream(running.url, "wall-all") as first:
                api.ingest_ok(events[:100])
                seen += first.take(40)
                last = first.last_id
            # Disconnected: more happens meanwhile.
            api.ingest_ok(events[100:250])
            with stream(running.url, "wall-all", last_event_id=last) as second:
                api.ingest_ok(events[250:])
                total = hub.counters["messages"]
                seen += second.take(total - 40)
            everything = reference.take(total)
    assert [(m.id, m.event, m.data) for m in seen] == [(m.id, m.event, m.data) for m in everything]
    assert len({m.id for m in seen}) == len(seen) == total > 300


def test_reconnect_filters_the_replay_and_resets_beyond_the_buffer(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    events = traffic(now, 30, seed=4)
    with running_server(tmp_path, extra=config(replay=50)) as running:
        api = Api(running)
        with stream(running.url, "wall-all", {"kinds": "result"}) as reader:
            api.ingest_ok(events[:20])
            first = reader.next()
            assert first.event == "result"
        api.ingest_ok(events[20:])  # far more than 50 messages while away
        with stream(running.url, "wall-all", {"kinds": "result"}, last_event_id=first.id) as reader:
            reset = reader.next()
            assert reset.event == "reset" and reset.data["lastEventId"] == first.id
            assert int(reset.id or 0) == running.service.pipeline.seq
        # From the reset's id on nothing is missed: the next result comes live.
        with stream(running.url, "wall-all", {"kinds": "result"}, last_event_id=reset.id) as reader:
            late = {"callId": "1700009999-1"}
            api.ingest_ok([event(900, "call.arrive", now, caller="1", called="650550", **late),
                           event(901, "call.queue", now, skillId=7, **late),
                           event(902, "call.release", now + 5000, by="customer", **late)])  # fmt: skip
            assert reader.next().event == "result"


def test_a_client_reading_too_slowly_is_disconnected_and_catches_up(tmp_path: Path) -> None:
    now = time.time_ns() // 1_000_000
    with running_server(tmp_path, extra=config(queue=5)) as running:
        api = Api(running)
        hub = running.app.state.stream
        with stream(running.url, "wall-all") as slow:
            api.ingest_ok(traffic(now, 20, seed=5))  # all at once: far more than 5 queued messages
            got: list[Sse] = []
            try:
                while True:
                    got.append(slow.next())
            except (EOFError, httpx.RemoteProtocolError):
                pass
        assert hub.counters["slow_disconnects"] == 1
        with stream(running.url, "wall-all", last_event_id=got[-1].id) as again:
            got += again.take(hub.counters["messages"] - len(got))
        assert len({m.id for m in got}) == len(got) == hub.counters["messages"]


def test_open_streams_end_cleanly_when_the_server_stops(tmp_path: Path, mode: str) -> None:
    served = start_serve(*serve_args(tmp_path, "store.db", mode), log=tmp_path / "serve.log")
    try:
        with stream(served.url, "ccdata-demo-wallboard") as reader:
            started = time.monotonic()
            served.process.send_signal(signal.SIGINT)
            with pytest.raises((EOFError, httpx.RemoteProtocolError)):
                reader.next()  # the stream ends (no message came): the server closed it
        served.process.wait(20)
        assert time.monotonic() - started < 10
    finally:
        served.stop()
    assert served.process.returncode == 0
    assert "without completing response" not in served.output()


def test_stream_and_webhook_credentials_are_never_empty() -> None:
    from ccdata import config as configuration

    base = "[[vdns]]\nid = 1\n"
    with pytest.raises(configuration.ConfigError, match="token"):
        configuration.parse(base + '[stream]\nclients = [{ name = "w", token = "", vdns = [1] }]\n')
    with pytest.raises(configuration.ConfigError, match="VDNs"):
        configuration.parse(base + '[stream]\nclients = [{ name = "w", token = "12345678", vdns = [2] }]\n')
    with pytest.raises(configuration.ConfigError, match="secret"):
        configuration.parse(base + '[[webhooks]]\nname = "a"\nurl = "http://x/"\nsecret = ""\n')
    with pytest.raises(configuration.ConfigError, match="url"):
        configuration.parse(base + '[[webhooks]]\nname = "a"\nurl = "ftp://x/"\nsecret = "12345678"\n')
    hook = '[[webhooks]]\nname = "a"\nurl = "http://x/"\nsecret = "12345678"\n'
    with pytest.raises(configuration.ConfigError, match="twice"):
        configuration.parse(base + hook + hook)


def test_messages_derived_for_webhooks_alone_are_not_replayed_to_a_later_stream_client(tmp_path: Path) -> None:
    from ccdata import config as configuration
    from ccdata.api.push import Push
    from ccdata.api.stream import StreamHub, Subscriber
    from ccdata.domain.push import KINDS
    from ccdata.service import Service
    from ccdata.store.sqlite import SqliteStore
    from server import TEST_CONFIG

    text = TEST_CONFIG.replace("{auth_mode}", "2").replace("{heartbeat}", "60000") + config()
    text += '[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/"\nsecret = "12345678"\n'
    service = Service(configuration.parse(text), SqliteStore(tmp_path / "store.db"))
    hub = StreamHub(service, Push(service))
    now = time.time_ns() // 1_000_000
    events = answered_call(now)
    service.ingest(events[:8])  # results owed to the webhook; no stream client yet
    client = Subscriber("late", frozenset({1}), frozenset(KINDS), 100)
    [reset] = hub.subscribe(client, (1, 0))
    assert reset.startswith(b"id: 8\nevent: reset\n")
    service.ingest(events[8:])  # now listening: everything of these is for the stream
    assert sorted({e.position[0] for e in client.waiting}) == [9, 10, 11]
    assert {e.kind for e in client.waiting} == {"call", "agent", "track", "result"}
    service.store.close()
