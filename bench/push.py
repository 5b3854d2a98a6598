"""The live push's cost on the ingest: events/s with nobody listening, with a stream client, with a webhook.

Each variant ingests the same synthetic events into a fresh store through the server's service (`Service.ingest`);
they alternate for three rounds and the medians are kept. "nobody" is the baseline of the same run: the push
derives nothing then (`Pipeline.derive` is None), so its ratio to an ingest without the push code is 1 by
construction; the others show what a listener costs.

    .venv/bin/python -m bench.push [EVENTS]        # default 200,000
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
from pathlib import Path

import msgspec

from ccdata import config as configuration
from ccdata.api.push import Push
from ccdata.api.stream import StreamHub, Subscriber
from ccdata.domain.push import KINDS
from ccdata.service import Service
from ccdata.sim.synthetic import synthetic_events
from ccdata.store.sqlite import SqliteStore

ROUNDS = 3
WEBHOOK = '\n[[webhooks]]\nname = "bench"\nurl = "http://127.0.0.1:9/"\nsecret = "bench-secret"\nkinds = ["result"]\n'


def run(lines: list[bytes], path: Path, variant: str) -> float:
    text = configuration.resources.files("ccdata").joinpath("default.toml").read_text()
    config = configuration.parse(text + (WEBHOOK if variant == "webhook" else ""))
    config.stream.client_queue = 10**9  # the bench's client never reads: it must not be dropped
    service = Service(config, SqliteStore(path, durable=False))
    hub = StreamHub(service, Push(service))
    if variant == "stream":
        hub.subscribe(Subscriber("bench", frozenset({1, 2}), frozenset(KINDS), config.stream.client_queue), None)
    gc.collect()
    report = service.ingest(lines)
    assert report.accepted == len(lines), report.reasons
    service.store.close()
    return len(lines) / report.seconds


def main(count: int) -> dict[str, float]:
    encoder = msgspec.json.Encoder()
    lines = [encoder.encode(event) for event in synthetic_events(count)]
    rates: dict[str, list[float]] = {"nobody": [], "stream": [], "webhook": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(ROUNDS):
            for variant, found in rates.items():
                found.append(run(lines, Path(tmp) / f"{variant}-{n}.db", variant))
    medians = {variant: statistics.median(found) for variant, found in rates.items()}
    return {"events": count, **{f"{v}_eps": r for v, r in medians.items()},
            "stream_ratio": medians["stream"] / medians["nobody"],
            "webhook_ratio": medians["webhook"] / medians["nobody"]}  # fmt: skip


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
