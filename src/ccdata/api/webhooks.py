"""Webhook delivery: the outbox's rows POSTed, signed, at least once (docs/operations.md, "Webhooks").

A supervised background task (api/background.py) beside the server. Each delivery is
`POST <url>` with the body `{"id", "webhook", "kind", "seq", "vdn", "data"}` and the headers
`X-Ccdata-Delivery` (the ID receivers dedup on), `X-Ccdata-Kind` and
`X-Ccdata-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>` (docs/security.md).
A 2xx answer acknowledges it (the row is deleted); anything else (another status, a timeout, a refused
connection) is retried after `first_retry_s`, doubled each time up to `max_retry_s`; after `max_attempts` the
delivery moves to the dead letters, which `ccdata webhooks list` shows and `ccdata webhooks replay` re-queues.
Rows are written with their event's commit, so a restart resumes where the last run stopped; a delivery may
then be repeated (its receiver acknowledged it, the server died before deleting the row): receivers dedup by ID.
The store is the record store's `webhook_store()`, embedded or distributed; in the distributed form every node
may run a dispatcher: each round claims its deliveries for as long as its attempts can take (`claim_ms`), so
one delivery is attempted by one node at a time (`store/postgres_webhooks.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections import Counter

import httpx
import msgspec

from ccdata import __version__
from ccdata.config import Webhook
from ccdata.pipeline import Committed
from ccdata.service import Service, wall_clock_ms
from ccdata.store.ports import Delivery, WebhookStore

log = logging.getLogger("ccdata.webhooks")
IDLE_CHECK_S = 5.0  # at most this long between looks at the outbox (re-queued dead letters, a retry due)
BATCH = 100  # deliveries taken per webhook per round
CONCURRENCY = 8  # requests in flight per webhook
CLAIM_SLACK_S = 30.0  # beyond the attempts' longest: the store's own writes after them
# After an event that owes deliveries, look this often for this long: in the distributed form the event is applied
# (and this dispatcher told) a moment before the record writer, maybe on another node, stores its deliveries.
FOLLOW_EVERY_S = 0.2
FOLLOW_S = 2.0


def signature(secret: str, body: bytes) -> str:
    """The `X-Ccdata-Signature` value of a body: `sha256=` and the HMAC-SHA256 hex digest."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(delivery: Delivery) -> bytes:
    return msgspec.json.encode({
        "id": str(delivery.id), "webhook": delivery.webhook, "kind": delivery.kind, "seq": delivery.seq,
        "vdn": delivery.vdn, "data": msgspec.Raw(delivery.data),
    })  # fmt: skip


def attempt_deadline_s(hook: Webhook) -> float:
    """The longest one attempt may take, whatever the receiver does (`timeout_s` bounds each phase of a request,
    connecting, sending, each read: a receiver answering a byte at a time would hold it much longer)."""
    return 2 * hook.timeout_s


def claim_ms(hook: Webhook, count: int) -> int:
    """How long a round of `count` deliveries of `hook` keeps them its own (a distributed store gives them to no
    other dispatcher meanwhile): every attempt, CONCURRENCY at a time, within its deadline, and some slack."""
    waves = -(-count // CONCURRENCY)
    return int((waves * attempt_deadline_s(hook) + CLAIM_SLACK_S) * 1000)


def retry_delay_s(hook: Webhook, attempts: int) -> float:
    """The wait after the `attempts`-th failed attempt: exponential back-off, capped."""
    return min(hook.first_retry_s * 2 ** (attempts - 1), hook.max_retry_s)


class Dispatcher:
    def __init__(self, service: Service, store: WebhookStore) -> None:
        self.hooks = {hook.name: hook for hook in service.config.webhooks}
        self.store = store
        # (webhook, outcome) -> count; outcome "delivered", "failed" (an attempt), "dead": for the metrics.
        self.counters: Counter[tuple[str, str]] = Counter()
        self._wakeup: asyncio.Event | None = None
        self._owed_at = -FOLLOW_S  # monotonic time of the last event that owed deliveries
        service.subscribe(self._committed)

    def _committed(self, item: Committed) -> None:
        if item.deliveries:
            self._owed_at = time.monotonic()
            if self._wakeup is not None and not self._wakeup.is_set():
                self._wakeup.set()  # it owes deliveries: look now rather than at the next idle check

    async def run(self) -> None:
        self._wakeup = asyncio.Event()
        await self._report_orphans()
        async with httpx.AsyncClient(headers={"User-Agent": f"ccdata/{__version__}"}) as client:
            while True:
                self._wakeup.clear()
                wait_s = await self._round(client)
                if time.monotonic() - self._owed_at < FOLLOW_S:
                    wait_s = min(wait_s, FOLLOW_EVERY_S)  # deliveries owed may not be stored yet
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), wait_s)

    async def _report_orphans(self) -> None:
        pending = await asyncio.to_thread(self.store.pending)
        for name, count in pending.items():
            if name not in self.hooks:
                log.error("%d webhook deliveries are pending for %r, which is no longer configured", count, name)

    async def _round(self, client: httpx.AsyncClient) -> float:
        """Attempt every due delivery; return how long until the next one is due (at most IDLE_CHECK_S)."""
        wait_s = IDLE_CHECK_S
        for hook in self.hooks.values():
            due = await asyncio.to_thread(self.store.due, hook.name, wall_clock_ms(), BATCH, claim_ms(hook, BATCH))
            if due:
                await self._deliver_all(client, hook, due)
                if len(due) == BATCH:
                    wait_s = 0  # more are waiting
            next_at = await asyncio.to_thread(self.store.next_due, hook.name)
            if next_at is not None:
                wait_s = min(wait_s, max(0.0, (next_at - wall_clock_ms()) / 1000))
        return wait_s

    async def _deliver_all(self, client: httpx.AsyncClient, hook: Webhook, due: list[Delivery]) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(delivery: Delivery) -> tuple[Delivery, str | None]:
            async with gate:
                return delivery, await self._attempt(client, hook, delivery)

        outcomes = await asyncio.gather(*(one(d) for d in due))
        delivered = [d.id for d, error in outcomes if error is None]
        if delivered:
            await asyncio.to_thread(self.store.delivered, delivered)
            self.counters[(hook.name, "delivered")] += len(delivered)
        for delivery, error in outcomes:
            if error is not None:
                await self._failed(hook, delivery, error)

    async def _attempt(self, client: httpx.AsyncClient, hook: Webhook, delivery: Delivery) -> str | None:
        """POST one delivery; None when acknowledged, else why not."""
        body = body_of(delivery)
        headers = {
            "Content-Type": "application/json",
            "X-Ccdata-Delivery": str(delivery.id),
            "X-Ccdata-Kind": delivery.kind,
            "X-Ccdata-Signature": signature(hook.secret, body),
        }
        try:
            async with asyncio.timeout(attempt_deadline_s(hook)):  # the claim on it counts on this
                response = await client.post(hook.url, content=body, headers=headers, timeout=hook.timeout_s)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        except TimeoutError:
            return f"no answer within {attempt_deadline_s(hook):g} s"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def _failed(self, hook: Webhook, delivery: Delivery, error: str) -> None:
        attempts = delivery.attempts + 1
        self.counters[(hook.name, "failed")] += 1
        if attempts >= hook.max_attempts:
            await asyncio.to_thread(self.store.bury, delivery.id, attempts, wall_clock_ms(), error)
            self.counters[(hook.name, "dead")] += 1
            log.error("webhook %s: delivery %d (%s, seq %d) failed %d attempts, moved to the dead letters: %s",
                      hook.name, delivery.id, delivery.kind, delivery.seq, attempts, error)  # fmt: skip
            return
        delay = retry_delay_s(hook, attempts)
        next_at = wall_clock_ms() + int(delay * 1000)
        await asyncio.to_thread(self.store.retry_later, delivery.id, attempts, next_at, error)
        log.warning("webhook %s: delivery %d attempt %d failed (%s); next in %.1f s",
                    hook.name, delivery.id, attempts, error, delay)  # fmt: skip
