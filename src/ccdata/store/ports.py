"""The store's port: what the pipeline and the read APIs need from any record store (SQLite or PostgreSQL).

The event log and the records live in one store so that an accepted event and the records it produced are
committed together: after a crash the log and the records always agree, and live state is rebuilt from the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ccdata.domain.records import AgentOperation, CallResult, Record, TrackRow


class StoreUnavailable(Exception):
    """A write the store could not take now (locked by another process, disk full, I/O error): nothing of it
    was written, and the same write may succeed later."""


class LoggedEvent(NamedTuple):
    """An accepted event as the log keeps it: its JSON as received (or encoded, for parsed input), in order."""

    event_id: str
    type: str
    at: int
    body: bytes


class RejectedInput(NamedTuple):
    """An input ccdata did not apply, kept with its reason so that nothing sent is lost."""

    event_id: str | None
    reason_code: str
    reason: str
    body: bytes


def rejection_digest(rejected: RejectedInput) -> bytes:
    """What makes two rejections the same (each store keeps one of them): the input's bytes and the reason code."""
    return hashlib.sha256(rejected.reason_code.encode() + b"\0" + rejected.body).digest()


class OutboxEntry(NamedTuple):
    """A webhook delivery owed for an accepted event, stored in the same transaction as the event (so a crash
    never keeps one without the other), with the event's log position."""

    webhook: str
    kind: str
    vdn: int
    event_id: str
    data: bytes  # the message's JSON
    seq: int | None = None  # None: the position the store gives the event in this commit (the embedded form)


class Delivery(NamedTuple):
    """A webhook delivery waiting in the outbox."""

    id: int  # the delivery ID receivers dedup on: the same at every attempt, on every node, after a replay
    webhook: str
    kind: str
    vdn: int
    seq: int  # the log position of the event that caused it
    data: bytes
    attempts: int
    last_error: str


class DeadLetter(NamedTuple):
    delivery: Delivery
    died_at: int


@dataclass(slots=True)
class Batch:
    """What one commit writes, atomically."""

    events: list[LoggedEvent] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    outbox: list[OutboxEntry] = field(default_factory=list)
    # The distributed form: the shared event log's sequence of the last event the batch covers, stored in the same
    # transaction, so that the record writer (or its standby) resumes exactly after it.
    position: int | None = None


class Snapshot(NamedTuple):
    """The engine's state after the event at `seq`, in the engine's own format `version`."""

    seq: int
    version: int
    blob: bytes


@dataclass(slots=True)
class CallResultQuery:
    """The DataProcess call-result filters; None leaves a filter out. `begin`/`end` bound the arrival time."""

    cc_id: int
    vdn: int
    call_id: str | None = None
    caller_no: str | None = None
    callee_no: str | None = None
    begin: int | None = None
    end: int | None = None
    call_type: int | None = None
    media_type: int | None = None
    evaluation_value: str | None = None
    inbound: bool | None = None  # True: DataProcess callType 0 (inbound) only; False: every other type
    offset: int = 0
    limit: int = 100


class Store(Protocol):
    def stored_events(self, event_ids: Sequence[str]) -> dict[str, bytes]:
        """The stored bodies of those of `event_ids` that the log already holds."""
        ...

    def commit(self, batch: Batch) -> int:
        """Write a batch atomically and durably; return the log sequence of its last event (of this batch,
        whatever else writes the log). The batch's events take consecutive positions ending there, in order (the
        live push numbers its messages so). `outbox` rows are written in the same transaction, each with the log
        position of its event. Raises `StoreUnavailable` when nothing was written and a retry may work."""
        ...

    def events_after(self, seq: int) -> Iterator[tuple[int, bytes]]:
        """(seq, body) of every logged event after `seq`, in order."""
        ...

    def last_seq(self) -> int: ...

    def position(self) -> int:
        """The shared log's position the records are complete up to (the distributed form; 0 if none)."""
        ...

    def save_snapshot(self, snapshot: Snapshot) -> None: ...

    def load_snapshot(self) -> Snapshot | None: ...

    def track_rows(self, cc_id: int, vdn: int, call_id: str, month: str) -> list[TrackRow]:
        """The call-track rows of a call in the table of `month` (YYYYMM), in callIdNum order, -1 last."""
        ...

    def find_track_rows(self, cc_id: int, call_id: str) -> list[TrackRow]:
        """The call-track rows of a call, whatever its month (for operators; the CMS API selects a month)."""
        ...

    def call_results(self, cc_id: int, call_id: str) -> list[CallResult]:
        """The call results of a call ID (one, unless the ID was reused after the evaluation window)."""
        ...

    def call_results_released_since(self, cc_id: int, since: int) -> Iterator[CallResult]:
        """A call center's call results released (`log_date`) at or after `since`, in release order (monitoring's
        rebuild at start: an index look-up, not a scan of every result)."""
        ...

    def search_call_results(self, query: CallResultQuery) -> tuple[int, list[CallResult]]:
        """(how many match, the page of them), ordered by arrival time then call ID."""
        ...

    def call_result_pages(
        self,
        cc_id: int,
        begin: int,
        end: int,
        vdn: int | None = None,
        page: int = 5000,
        fields: Sequence[str] | None = None,
    ) -> Iterator[list]:
        """Call results arrived in [begin, end), of `vdn` or of each VDN in turn, in arrival order, a page at a
        time (exports: constant memory whatever the window); `CallResult`s, or tuples of `fields` if given."""
        ...

    def count_call_results(self, cc_id: int, begin: int, end: int, vdn: int | None = None) -> int: ...

    def track_row_pages(
        self,
        cc_id: int,
        begin: int,
        end: int,
        vdn: int | None = None,
        page: int = 5000,
        fields: Sequence[str] | None = None,
    ) -> Iterator[list]:
        """Call-track rows of the calls arrived in [begin, end), month by month and call by call (each call's
        rows in callIdNum order, -1 last), a page at a time; `TrackRow`s, or tuples of `fields` if given."""

    def agent_operations(
        self, cc_id: int, agent_id: int, begin: int, end: int, operate_type: int | None = None
    ) -> list[AgentOperation]:
        """An agent's operation records whose period overlaps [begin, end] (ms), by begin time."""
        ...

    def rejected_inputs(self, limit: int = 100) -> list[RejectedInput]: ...

    def count(self, what: str) -> int:
        """Rows in `events`, `rejected`, `results` or `track` (all months)."""
        ...

    def webhook_store(self) -> WebhookStore:
        """The webhook deliveries of this store (its commits write the outbox): a `WebhookStore` of its own
        connection(s), for the dispatcher and `ccdata webhooks`; ValueError if this store cannot have one."""
        ...

    def close(self) -> None: ...


class WebhookStore(Protocol):
    """The other side of the outbox that `Store.commit` fills: the dispatcher takes due deliveries, deletes one
    its receiver acknowledged, pushes its next attempt back, or moves it to the dead letters after its last
    attempt; `ccdata webhooks` lists and replays the dead letters. Every method is one short transaction, safe
    from any one thread at a time; times are wall-clock ms."""

    def due(self, webhook: str, now_ms: int, limit: int = 100, claim_ms: int = 300_000) -> list[Delivery]:
        """The deliveries of `webhook` whose attempt is due, oldest first; each is the caller's alone for
        `claim_ms` (another dispatcher on the same store is not given it meanwhile), or until the caller says
        how its attempt went (`delivered`, `retry_later`, `bury`)."""
        ...

    def next_due(self, webhook: str) -> int | None:
        """When the earliest pending delivery of `webhook` is due (wall ms), or None if none is pending."""
        ...

    def delivered(self, ids: Sequence[int]) -> None: ...

    def retry_later(self, delivery_id: int, attempts: int, next_at: int, error: str) -> None: ...

    def bury(self, delivery_id: int, attempts: int, now_ms: int, error: str) -> None:
        """Move a delivery that failed its last attempt to the dead letters, in one transaction."""
        ...

    def dead(self, limit: int = 1000) -> list[DeadLetter]: ...

    def replay(self, ids: Sequence[int] | None = None) -> int:
        """Put dead letters (those of `ids`, or all) back in the outbox, due now, attempts from zero; how many."""
        ...

    def pending(self) -> dict[str, int]:
        """Deliveries waiting, per webhook."""
        ...

    def close(self) -> None: ...


@dataclass(slots=True)
class StoredSession:
    """A CC-Gateway session as the session store keeps it; times are wall-clock ms."""

    agent_id: int
    vdn: int
    guid: str
    issued_at: int
    last_poll: int  # the last poll (the heartbeat)
    previous: dict[str, int] = field(default_factory=dict)  # rotated-out GUID -> when it was issued
    cursor: int = 0  # the key of the last agent event delivered (or skipped): the next poll gets a later one


class QueuedEvent(NamedTuple):
    """An agent event waiting for the agent's poll. `key` orders and identifies it: the log position of the
    contract event it came from times `KEY_SPAN`, plus its place among that event's agent events. Every node
    derives the same events with the same keys from the log, so the queue takes each once, whoever sends it."""

    agent_id: int
    key: int
    event: bytes  # the agent event's JSON, as the poll returns it


#: Agent events one contract event may cause, at most (a key's place part); the last one is for reminders.
KEY_SPAN = 1000


class SessionStore(Protocol):
    """Where the CC-Gateway keeps its sessions and their agent-event queues: embedded SQLite (one process,
    across restarts) or Redis (every node of a deployment sees the same ones).

    Calls may block (disk, network): the gateway runs them off the event loop, one at a time, in the order it
    made them. Each call is atomic and durable when it returns. Cursors and heartbeats never go back: a write
    that carries an older one (another node's cached copy) keeps the newer.
    """

    def load_sessions(self) -> list[StoredSession]: ...

    def load_session(self, agent_id: int) -> StoredSession | None:
        """The agent's session as stored now (another node may have rotated its GUID or taken its events)."""
        ...

    def put_sessions(self, sessions: Sequence[StoredSession]) -> None:
        """Write each session's fields; its queue keeps the events after the (newer) cursor."""
        ...

    def record_polls(self, polls: Mapping[int, int]) -> None:
        """Heartbeats: the agent's last poll (wall-clock ms) of each session that still exists."""
        ...

    def delete_sessions(self, agent_ids: Sequence[int]) -> None:
        """The sessions and their queues."""
        ...

    def push_agent_events(self, events: Sequence[QueuedEvent]) -> None:
        """Queue events for their agents' polls; one whose agent has no session, whose key is not after the
        agent's cursor or already queued, is left out (so a replaying or lagging node repeats nothing)."""
        ...

    def take_agent_event(self, agent_id: int, guid: str | None = None) -> QueuedEvent | bool | None:
        """The first queued event after the cursor, the cursor moved to it (one poll anywhere gets it, no other);
        None when none is queued, False when the agent has no session any more, or (`guid` given: the caller's
        copy's GUID) when the stored session is not that copy's (neither its GUID nor a rotated-out one: the
        agent signed in again, maybe on another node), and nothing is taken."""
        ...

    def skip_agent_events(self, agent_id: int, up_to: int) -> None:
        """Drop the agent's queued events keyed up to `up_to` (a workbench that rebuilt itself from
        `syncagentinfo`, as of that log position): the cursor moves there; later ones stay queued."""
        ...

    def close(self) -> None: ...
