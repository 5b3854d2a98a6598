"""The ASGI application: the CC-CMS, CC-Gateway, API Fabric, DataProcess and ingest facades over one service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from ccdata.api import (
    apifabric,
    background,
    cms,
    cms_agents,
    cms_monitoring,
    cms_skills,
    cms_vdn,
    dataprocess,
    docs_page,
    http,
    ingest,
    openapi,
    simulator,
    stream,
    wallboard,
    webhooks,
)
from ccdata.api.access_log import AccessLog
from ccdata.api.auth.apifabric import Tokens
from ccdata.api.fairness import ReadActivity
from ccdata.api.gateway import Gateway
from ccdata.api.metrics import Metrics, PushFigures
from ccdata.api.push import Push
from ccdata.domain import codes
from ccdata.service import Service, wall_clock_ms
from ccdata.sim.clocks import LiveSimulator
from ccdata.store.ports import SessionStore
from ccdata.store.sqlite import SqliteStore
from ccdata.store.sqlite_sessions import session_store_beside


def create_app(
    service: Service,
    *,
    live: LiveSimulator | None = None,
    close_on_shutdown: bool = True,
    sessions: SessionStore | None = None,
    started: Callable[[], None] | None = None,
) -> Starlette:
    """The application; with `live`, the simulator runs beside it and the data follows the simulator's clock.
    `sessions` keeps the gateway's sessions across restarts (default: beside the service's store); `started` is
    called once the service has built or caught up its live state, before the first request."""
    gateway = Gateway(
        service, sessions if sessions is not None else session_store_beside(service.store), simulated=live is not None
    )
    tokens = Tokens(service.config.dataprocess.apps, wall_clock_ms, service.config.limits.max_tokens_per_app)
    hub = stream.StreamHub(service, Push(service))
    dispatcher = webhooks.Dispatcher(service, service.store.webhook_store()) if service.config.webhooks else None
    if live is not None:
        service.clock = live.data_now
    if isinstance(service.store, SqliteStore):
        service.store.limit_wal(service.config.limits.wal_max_bytes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        if started is not None:
            started()
        if live is not None:
            live.started()
        health = service.health

        def supervised(bodies: dict[str, Any]) -> list[asyncio.Task[None]]:
            return [asyncio.create_task(background.supervise(name, body, health)) for name, body in bodies.items()]

        # The pipeline's own work first: a cluster node applies its events (its own included) in its log follower,
        # so the gateway's start, which may sign agents out by events, waits for it.
        tasks = supervised(service.background())
        try:
            await gateway.start()
            bodies = {
                "gateway-heartbeat": background.every(1.0, gateway.sweep),
                "stale-calls": background.every(
                    service.config.engine.stale_sweep_interval_s, service.release_stale_calls
                ),
            }
            if live is not None:
                bodies["simulator"] = live.run
            if dispatcher is not None:
                bodies["webhooks"] = dispatcher.run
            tasks += supervised(bodies)
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await gateway.stop()
            await service.stop()
            if dispatcher is not None:
                dispatcher.store.close()
            if close_on_shutdown:
                await service.snapshot_async()
                service.store.close()

    async def spec(request: Request) -> Response:
        return http.json(openapi.document())

    async def health(request: Request) -> Response:
        return http.json({"status": "UP"})

    async def ready(request: Request) -> Response:
        ok, reasons = service.ready()
        body = {
            "status": "UP" if ok else "DOWN",
            "reasons": reasons,
            "logSeq": service.pipeline.seq,
            "recordWriter": service.pipeline.writer,
            "snapshotSeq": service.pipeline.snapshot_seq,
            "replayedAtStart": service.pipeline.replayed,
            "failedCommits": service.pipeline.health.failures,
            "staleCallsReleased": service.health.stale_calls_released,
            "taskRestarts": dict(service.health.task_restarts),
        }
        return http.json(body, 200 if ok else 503)

    cms_endpoint = cms.endpoint_factory(service)
    routes = [
        *cms.routes(service, cms_endpoint),
        *cms_monitoring.routes(service, cms_endpoint),
        *cms_agents.routes(service, cms_endpoint),
        *cms_skills.routes(service, cms_endpoint),
        *cms_vdn.routes(service, cms_endpoint),
        *gateway.routes(),
        *apifabric.routes(service, tokens),
        *dataprocess.routes(service, tokens),
        *ingest.routes(service),
        *simulator.routes(service, live),
        *stream.routes(hub),
        *wallboard.routes(service, hub),
        Route("/openapi.json", spec, methods=["GET"]),
        Route("/ccdata/v1/health", health, methods=["GET", "POST"]),  # POST: the benchmarks' bare baseline
        Route("/ccdata/v1/health/live", health, methods=["GET"]),
        Route("/ccdata/v1/health/ready", ready, methods=["GET"]),
        *docs_page.routes(service.config),
        Mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui"),
    ]
    metrics = Metrics(service) if service.config.metrics.enabled else None
    if metrics is not None:
        routes.append(metrics.route())
        metrics.registry.register(PushFigures(hub, dispatcher))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, ClientDisconnect: _client_gone, Exception: _internal_error},
        middleware=[
            Middleware(AccessLog, style=service.config.server.access_log, observe=metrics.observe if metrics else None),
            Middleware(ReadActivity, service=service),
        ],
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.gateway = gateway
    app.state.stream = hub
    app.state.webhooks = dispatcher  # its `counters`: deliveries and failures per webhook, for the metrics
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    names = {404: "Not Found", 405: "Method Not Allowed"}
    status, detail = exc.status_code, str(exc.detail)
    return http.spring_error(request, status, names.get(status, "Error"), detail, exc.headers)  # 405: Allow


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client left (or was cut off for not finishing its request in time): nobody reads this answer.
    return Response(status_code=408)


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Never a stack trace on the wire; the server log has it.
    if request.url.path.startswith(cms.PREFIX):
        return http.json({"resultCode": codes.CMS_UNKNOWN_ERROR, "resultDesc": "Unknown error."}, 500)
    if request.url.path.startswith("/agentgateway"):
        return http.json({"message": "Internal error.", "retcode": "100-007", "result": None}, 500)
    return http.spring_error(request, 500, "Internal Server Error", "internal error")
