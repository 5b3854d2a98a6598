"""Webhook deliveries in the PostgreSQL store: the outbox its commits fill (`PostgresStore.commit`), the dead
letters, read and updated here through a small pool of this module's own connections.

Several nodes of the distributed form may run a dispatcher on one database at once. How they share the work:
each due delivery is **claimed** by one of them. `due` takes the oldest due rows that no live claim holds,
`FOR UPDATE SKIP LOCKED` (two dispatchers asking at the same moment skip each other's rows instead of waiting
for them), and marks them with the dispatcher's number (`claimed_by`, one per `PostgresWebhookStore`) and the
end of the claim (`claimed_until`, wall-clock ms), in the same statement. A claim is live while both hold: its
time has not run out (the dispatcher sizes it to the longest its round of attempts can take), and its dispatcher
is alive, which is a session-level advisory lock on that number held by a connection of its own (gone the moment
the process or its connection dies, even by SIGKILL: a restarted server, or another node, takes a dead
dispatcher's deliveries at once rather than after its claims ran out). Until then no other dispatcher is given
them; the claimer deletes a delivery its receiver acknowledged, or hands the row back with its next attempt time
(`retry_later`, which clears the claim) or buries it, each only while the claim is still its own, so a claimer
that outlived its claim never undoes another's newer attempt. At-least-once, with the same delivery ID (the
row's `id`, kept in the dead letters and by a replay): a delivery whose claimer died after its receiver
acknowledged it is sent again. A dispatcher whose liveness connection broke while its requests were in flight
may see another node attempt them too (it takes its lock again before its next claim).

Why claims and not "only the record writer dispatches": every node stays a full server (any node's dispatcher
works, the load spreads over them), no dispatcher has to follow who holds the writer's lease, and a lease moving
in the middle of a round (the old writer still sending) cannot make two nodes send one delivery at once. The
cost is two columns, one UPDATE per round instead of a SELECT, and one idle connection per dispatcher.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Sequence
from typing import Final

import psycopg
from psycopg_pool import ConnectionPool

from ccdata.store.ports import DeadLetter, Delivery, StoreUnavailable
from ccdata.store.postgres import unavailable, where
from ccdata.store.postgres_schema import migrate

CLAIMERS_LOCK: Final = 0x63636477  # the advisory locks' first key: "ccdw", a live dispatcher's (second: its number)
_OUTBOX: Final = "id, webhook, kind, vdn, seq, data, attempts, last_error"
# The claimers alive now: their advisory locks, in this database.
_LIVE: Final = """SELECT objid::bigint::text FROM pg_locks WHERE locktype = 'advisory' AND granted
    AND classid::bigint = %(claimers)s AND objsubid = 2
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
_FREE: Final = f"(claimed_until <= %(now)s OR claimed_by NOT IN ({_LIVE}))"  # no live claim on it
_CLAIM: Final = f"""UPDATE webhook_outbox SET claimed_by = %(me)s, claimed_until = %(until)s
WHERE id IN (
    SELECT id FROM webhook_outbox
    WHERE webhook = %(webhook)s AND next_at <= %(now)s AND {_FREE}
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
RETURNING {_OUTBOX}"""
_NEXT_DUE: Final = f"""SELECT min(
    CASE WHEN claimed_by IN ({_LIVE}) THEN greatest(next_at, claimed_until) ELSE next_at END
) FROM webhook_outbox WHERE webhook = %(webhook)s"""
_BURY: Final = """WITH buried AS (
    DELETE FROM webhook_outbox WHERE id = %(id)s AND claimed_by = %(me)s
    RETURNING id, webhook, kind, vdn, seq, data
)
INSERT INTO webhook_dead (id, webhook, kind, vdn, seq, data, attempts, died_at, last_error)
SELECT id, webhook, kind, vdn, seq, data, %(attempts)s, %(now)s, %(error)s FROM buried
ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, died_at = excluded.died_at,
    last_error = excluded.last_error"""
_REPLAY: Final = """WITH moved AS (
    DELETE FROM webhook_dead {where} RETURNING id, webhook, kind, vdn, seq, data, last_error
)
INSERT INTO webhook_outbox (id, webhook, kind, vdn, seq, data, attempts, next_at, last_error)
SELECT id, webhook, kind, vdn, seq, data, 0, 0, last_error FROM moved"""


class PostgresWebhookStore:
    """The `WebhookStore` of the PostgreSQL store at `url`: every method is one short transaction (autocommit),
    safe from any thread; several of them (one per node) may dispatch from one database at once."""

    def __init__(self, url: str, *, busy_timeout_s: float = 5.0, pool_size: int = 2) -> None:
        self.url = url
        self.where = where(url)
        self._timeout = max(1, round(busy_timeout_s))
        self._number = 0  # this dispatcher's claims (`claimed_by`), alive while `_alive` holds its lock
        self._alive: psycopg.Connection | None = None
        self._alive_lock = threading.Lock()
        timeout = self._timeout
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=timeout) as conn:
                migrate(conn)  # a database older than webhooks gets its tables here
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True, "connect_timeout": timeout},
                check=ConnectionPool.check_connection,
                timeout=max(busy_timeout_s, 1.0),
                open=True,
                name="ccdata-webhooks",
            )
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"{self.where}: {str(exc).strip().splitlines()[0]}") from exc

    @property
    def name(self) -> str:
        """This dispatcher's claims' mark (`claimed_by`)."""
        return str(self._number)

    def _live(self) -> None:
        """Hold this dispatcher's liveness lock (again, if its connection was lost) before it claims anything."""
        with self._alive_lock:
            conn = self._alive
            if conn is not None and not conn.closed and not conn.broken:
                return
            if conn is not None:
                conn.close()
            self._alive = None
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self._timeout)
            conn.execute("SET application_name = 'ccdata-webhooks'")
            number = self._number or secrets.randbelow(2**31 - 1) + 1
            while not conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (CLAIMERS_LOCK, number)).fetchone()[0]:  # type: ignore[index]
                number = secrets.randbelow(2**31 - 1) + 1  # another dispatcher's number (or our old one's session)
            self._number, self._alive = number, conn

    @unavailable
    def due(self, webhook: str, now_ms: int, limit: int = 100, claim_ms: int = 300_000) -> list[Delivery]:
        """The deliveries of `webhook` whose attempt is due and that no live claim holds, oldest first, claimed by
        this dispatcher for `claim_ms` (or until it reports on them, or dies)."""
        self._live()
        args = {
            "me": self.name, "until": now_ms + claim_ms, "webhook": webhook, "now": now_ms, "limit": limit,
            "claimers": CLAIMERS_LOCK,
        }  # fmt: skip
        with self._pool.connection() as conn:
            return sorted(Delivery(*row) for row in conn.execute(_CLAIM, args))

    @unavailable
    def next_due(self, webhook: str) -> int | None:
        """When the earliest pending delivery of `webhook` is due (wall ms), or None if none is pending; one that a
        live dispatcher claims not before its claim runs out (its claimer reports before: then it is due at its
        next attempt)."""
        with self._pool.connection() as conn:
            row = conn.execute(_NEXT_DUE, {"webhook": webhook, "claimers": CLAIMERS_LOCK}).fetchone()
            return row[0]  # type: ignore[index]

    @unavailable
    def delivered(self, ids: Sequence[int]) -> None:
        """Acknowledged deliveries are gone, whoever claims them now (they are delivered)."""
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM webhook_outbox WHERE id = ANY(%s)", (list(ids),))

    @unavailable
    def retry_later(self, delivery_id: int, attempts: int, next_at: int, error: str) -> None:
        query = (
            "UPDATE webhook_outbox SET attempts = %s, next_at = %s, last_error = %s, "
            "claimed_by = '', claimed_until = 0 WHERE id = %s AND claimed_by = %s"
        )
        with self._pool.connection() as conn:
            conn.execute(query, (attempts, next_at, error[:500], delivery_id, self.name))

    @unavailable
    def bury(self, delivery_id: int, attempts: int, now_ms: int, error: str) -> None:
        """Move a delivery that failed its last attempt to the dead letters, in one statement."""
        args = {"id": delivery_id, "me": self.name, "attempts": attempts, "now": now_ms, "error": error[:500]}
        with self._pool.connection() as conn:
            conn.execute(_BURY, args)

    @unavailable
    def dead(self, limit: int = 1000) -> list[DeadLetter]:
        query = f"SELECT {_OUTBOX}, died_at FROM webhook_dead ORDER BY id LIMIT %s"
        with self._pool.connection() as conn:
            return [DeadLetter(Delivery(*row[:-1]), row[-1]) for row in conn.execute(query, (limit,))]

    @unavailable
    def replay(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (those of `ids`, or all) back in the outbox, due now, attempts from zero; how many."""
        where, args = ("", ()) if ids is None else ("WHERE id = ANY(%s)", (list(ids),))
        with self._pool.connection() as conn:
            return conn.execute(_REPLAY.format(where=where), args).rowcount

    @unavailable
    def pending(self) -> dict[str, int]:
        """Deliveries waiting, per webhook."""
        with self._pool.connection() as conn:
            return dict(conn.execute("SELECT webhook, count(*) FROM webhook_outbox GROUP BY webhook").fetchall())

    def close(self) -> None:
        """Its claims end with it (another dispatcher takes what it had not reported on)."""
        self._pool.close()
        with self._alive_lock:
            if self._alive is not None:
                # Released before the close returns: closing the socket alone leaves the server's backend holding
                # the lock until it notices, so another dispatcher could still see these claims as alive.
                with contextlib.suppress(psycopg.Error):
                    self._alive.execute("SELECT pg_advisory_unlock(%s, %s)", (CLAIMERS_LOCK, self._number))
                self._alive.close()
                self._alive = None
