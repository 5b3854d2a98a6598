"""Background tasks beside the server (the live simulator, the heartbeat sweep, stale calls, snapshots).

A task that dies is logged with its cause and restarted with back-off; readiness turns false until it runs
again. Nothing dies silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ccdata.service import Health

log = logging.getLogger("ccdata.tasks")

MAX_BACKOFF_S = 30.0


async def supervise(
    name: str, run: Callable[[], Awaitable[None]], health: Health, *, first_delay_s: float = 1.0
) -> None:
    """Run `run()` for good: restart it after any failure, saying so in the log and in `health`."""
    delay = first_delay_s
    while True:
        health.tasks[name] = "running"
        try:
            await run()
            log.error("background task %s returned; restarting it", name)
            health.tasks[name] = "failed: returned"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("background task %s failed; restarting it in %.0f s", name, delay)
            health.tasks[name] = f"failed: {type(exc).__name__}: {exc}"
        health.task_restarts[name] += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_BACKOFF_S)


def every(interval_s: float, step: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    """A task body that awaits `step()` every `interval_s` seconds."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await step()

    return loop
