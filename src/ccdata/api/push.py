"""The live push's source: messages derived while events are applied, then fanned out once committed.

Nothing is derived while nobody wants it (no webhook configured, no stream client ever connected): the apply
path then pays one `is None` test per event. From the first stream client on, or from the start when webhooks
are configured, every accepted event's messages are derived (`domain/push.py`) with the engine as that event
left it; the webhooks' deliveries go into the same commit as the event (`OutboxEntry`).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ccdata.domain import events
from ccdata.domain import push as domain
from ccdata.domain.records import Record
from ccdata.service import Service
from ccdata.store.ports import OutboxEntry

_encode = msgspec.json.Encoder().encode


class Push:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.webhooks = service.config.webhooks
        self.listening = False
        self.kinds: frozenset[str] = frozenset(kind for hook in self.webhooks for kind in hook.kinds)
        self._install()

    def listen(self) -> None:
        """A stream client connected: derive messages from now on (for the rest of the process's life)."""
        if not self.listening:
            self.listening = True
            self.kinds = domain.ALL_KINDS
            self._install()

    def _install(self) -> None:
        wanted = self.listening or bool(self.webhooks)
        self.service.pipeline.derive = self.derive if wanted else None

    def derive(
        self, event: events.Event, records: list[Record]
    ) -> tuple[Sequence[domain.Message] | None, list[OutboxEntry]]:
        """The event's messages for the stream (None until a client listens: those derived for the webhooks'
        kinds alone are not the stream's whole picture), and the webhooks' deliveries."""
        found = domain.messages(event, records, self.service.engine, self.kinds)
        outbox = [
            OutboxEntry(hook.name, message.kind, message.vdn, event.id, _encode(message.data))
            for hook in self.webhooks
            for message in found
            if message.kind in hook.kinds and (not hook.vdns or message.vdn in hook.vdns)
        ]
        return (found if self.listening else None), outbox
