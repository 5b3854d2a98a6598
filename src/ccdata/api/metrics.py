"""`GET /metrics`: Prometheus metrics of one application, in the standard exposition format.

Each application has a registry of its own (several apps in one process never share a metric). Two kinds of
figures:
- counted on the request path (`observe`, called by the access-log middleware, which times every request for its
  log line anyway): requests and their latency
  per interface (the route's template, never the raw path), method, HTTP status and the facade's business code
  (`resultCode` / `retcode` / `returnCode`, as `http.JsonResponse` recorded it; "" for answers without one). The
  label children are cached per combination, so a request costs two dictionary look-ups and two updates;
- read from the service at each scrape (`ServiceFigures`): events by outcome and rejection reason, the log
  position, ingest lag, live calls, agents by state, failed commits, background task restarts. The engine is
  only ever read on the event loop (it is not thread-safe), so they are sampled there first; the text is then
  rendered in a worker thread.

Who may scrape (docs/operations.md, docs/security.md): with `[metrics] token` set, any client carrying it as a
Bearer credential; without one, loopback peers only.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from ccdata.api import http
from ccdata.domain.monitoring import Census, count_agents, count_calls
from ccdata.service import Service

PATH = "/metrics"
UNMATCHED = "unmatched"  # the interface label of a request no route took (a 404): raw paths are unbounded
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WRONG_TOKEN = "the metrics Bearer token is missing or wrong"
LOOPBACK_ONLY = "metrics are served to loopback clients only, unless [metrics] token is set"
CENSUS_SLICE = 250  # agents (and calls) counted per turn of the event loop: about a millisecond
_LABELS = ("interface", "method", "status", "code")


class Metrics:
    """The registry of one application and the request metrics on it.

    Other parts of ccdata add their own metrics to `registry` (the application keeps this object as
    `app.state.metrics`): webhook deliveries and failures, for one, belong beside these as
    `ccdata_webhook_deliveries_total{outcome}`, registered by the webhook sender when it starts."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ccdata_http_requests", "HTTP requests answered, per interface and result", _LABELS, registry=self.registry
        )
        self.latency = Histogram(
            "ccdata_http_request_duration_seconds", "Time from a request's arrival to its answer's last byte",
            _LABELS, buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.figures = ServiceFigures(service)
        self.registry.register(self.figures)
        self._children: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """One request answered (`access_log.AccessLog` times it): its route's template, never the raw path."""
        route = scope.get("route")
        interface = route.path if route is not None else UNMATCHED
        key = (interface, scope["method"], str(status), scope.get("state", {}).get("resultCode", ""))
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(*key), self.latency.labels(*key))
        children[0].inc()
        children[1].observe(seconds)

    async def render(self) -> bytes:
        await self.figures.sample()  # on the loop: the engine is read nowhere else
        return await asyncio.to_thread(generate_latest, self.registry)

    def route(self) -> Route:
        token = self.service.config.metrics.token

        async def metrics(request: Request) -> Response:
            if token:
                given = http.bearer(request.headers.get("authorization")) or ""
                if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
                    return http.spring_error(request, 401, "Unauthorized", WRONG_TOKEN)
            elif not _is_loopback(http.client_address(request)):
                return http.spring_error(request, 403, "Forbidden", LOOPBACK_ONLY)
            return Response(await self.render(), media_type=CONTENT_TYPE_LATEST)

        return Route(PATH, metrics, methods=["GET"])


class ServiceFigures(Collector):
    """What the service knows, as metric families: sampled on the event loop, collected in any thread."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._families: list[Metric] = []

    async def sample(self) -> None:
        found = await self._census()
        self._families = [*self._families_now(), *self._live_families(found)]

    async def _census(self) -> Census:
        """The engine's calls and agents counted in slices, the loop free in between (10,000 agents take tens of
        ms): each agent's state is read whole, the census as a whole spans a few loop turns."""
        engine, found = self.service.engine, Census({}, {})
        calls, agents = list(engine.calls.values()), list(engine.agents.values())
        for start in range(0, max(len(calls), len(agents)), CENSUS_SLICE):
            count_calls(found, calls[start : start + CENSUS_SLICE])
            count_agents(found, engine, agents[start : start + CENSUS_SLICE])
            await asyncio.sleep(0)
        return found

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)

    def _families_now(self) -> Iterator[Metric]:
        service = self.service
        totals, pipeline, health = service.totals, service.pipeline, service.health
        events = CounterMetricFamily("ccdata_events", "Events given to this process, by outcome", labels=["outcome"])
        events.add_metric(["accepted"], totals.accepted)
        events.add_metric(["duplicate"], totals.duplicates)
        events.add_metric(["rejected"], sum(totals.rejected.values()))
        yield events
        rejected = CounterMetricFamily("ccdata_events_rejected", "Events rejected, by reason code", labels=["reason"])
        for reason, count in sorted(totals.rejected.items()):
            rejected.add_metric([reason], count)
        yield rejected
        store = pipeline.health
        yield GaugeMetricFamily("ccdata_event_log_position", "Log position of the last event applied", pipeline.seq)
        yield GaugeMetricFamily("ccdata_snapshot_position", "Log position of the last snapshot", pipeline.snapshot_seq)
        yield CounterMetricFamily("ccdata_failed_commits", "Commits that failed and were retried", store.failures)
        yield GaugeMetricFamily("ccdata_store_writable", "1 while the last commit went through", int(store.writable))
        yield CounterMetricFamily(
            "ccdata_stale_calls_released", "Calls released by ccdata after going silent", health.stale_calls_released
        )
        restarts = CounterMetricFamily("ccdata_task_restarts", "Background task restarts", labels=["task"])
        for name in sorted(set(health.tasks) | set(health.task_restarts)):
            restarts.add_metric([name], health.task_restarts[name])
        yield restarts
        yield from self._feed_families()

    def _feed_families(self) -> Iterator[Metric]:
        service = self.service
        lag = GaugeMetricFamily(
            "ccdata_ingest_lag_seconds", "The service's clock minus the latest event time", labels=["cc_id"]
        )
        silence = GaugeMetricFamily(
            "ccdata_seconds_since_last_event", "Wall time since a call center's latest event came in", labels=["cc_id"]
        )
        now = service.now()
        for cc_id in sorted(service.engine.clocks):
            latest = service.engine.clock_of(cc_id)
            lag.add_metric([str(cc_id)], (now - latest) / 1000)
            silence.add_metric([str(cc_id)], (service.feed_time(cc_id) - latest) / 1000)
        yield lag
        yield silence

    def _live_families(self, found: Census) -> Iterator[Metric]:
        calls = GaugeMetricFamily("ccdata_live_calls", "Customer calls in progress", labels=["cc_id", "vdn"])
        for (cc_id, vdn), count in sorted(found.calls.items()):
            calls.add_metric([str(cc_id), str(vdn)], count)
        yield calls
        agents = GaugeMetricFamily("ccdata_agents", "Agents by CTI state", labels=["cc_id", "vdn", "state"])
        for (cc_id, vdn), states in sorted(found.agents.items()):
            for state, count in states.items():
                agents.add_metric([str(cc_id), str(vdn), state.name.lower()], count)
        yield agents


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class PushFigures(Collector):
    """The live stream's and the webhooks' counters (`api/stream.py`, `api/webhooks.py`) as metric families."""

    def __init__(self, hub: Any, dispatcher: Any | None) -> None:
        self.hub = hub
        self.dispatcher = dispatcher

    def collect(self) -> Iterator[Metric]:
        clients = GaugeMetricFamily("ccdata_stream_clients", "Clients of the live stream connected now")
        clients.add_metric([], len(self.hub.subscribers))
        yield clients
        stream = CounterMetricFamily("ccdata_stream_events", "Live stream happenings, by kind", labels=["kind"])
        for kind, count in sorted(self.hub.counters.items()):
            stream.add_metric([kind], count)
        yield stream
        deliveries = CounterMetricFamily(
            "ccdata_webhook_deliveries",
            "Webhook delivery attempts, by webhook and outcome",
            labels=["webhook", "outcome"],
        )
        for (webhook, outcome), count in sorted(self.dispatcher.counters.items() if self.dispatcher else ()):
            deliveries.add_metric([webhook, outcome], count)
        yield deliveries
