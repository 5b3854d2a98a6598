"""Sending contract events to a running ccdata (`POST /ccdata/v1/events`) in batches, retrying what was not
acknowledged. Safe to resend: the server drops an event id it already holds as a duplicate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import httpx

from ccdata.pipeline import IngestReport, RejectionNote

PATH = "/ccdata/v1/events"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class IngestRefused(Exception):
    """The server refused a batch for good (a wrong token, a body too large): retrying would not help."""


class IngestClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        batch_lines: int = 2000,
        batch_bytes: int = 4 << 20,
        retries: int = 10,
        first_delay_s: float = 0.5,
        timeout_s: float = 120.0,
        on_retry: Callable[[str, float], None] | None = None,
    ) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.token = token
        self.batch_lines, self.batch_bytes = batch_lines, batch_bytes
        self.retries, self.first_delay_s = retries, first_delay_s
        self.on_retry = on_retry

    def send(self, lines: Iterable[bytes]) -> IngestReport:
        """Post every line, batch by batch; positions in the report are 1-based line numbers of the input."""
        report = IngestReport()
        started = time.perf_counter()
        for first, batch in self._batches(lines):
            self._merge(report, self._post(batch), first)
        report.seconds = time.perf_counter() - started
        return report

    def close(self) -> None:
        self.http.close()

    def _batches(self, lines: Iterable[bytes]) -> Iterator[tuple[int, list[bytes]]]:
        batch: list[bytes] = []
        size, first = 0, 1
        for number, line in enumerate(lines, 1):
            if batch and (len(batch) >= self.batch_lines or size + len(line) > self.batch_bytes):
                yield first, batch
                batch, size, first = [], 0, number
            batch.append(line if line.endswith(b"\n") else line + b"\n")
            size += len(line) + 1
        if batch:
            yield first, batch

    def _post(self, batch: list[bytes]) -> dict:
        body = b"".join(batch)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"}
        delay = self.first_delay_s
        for attempt in range(self.retries + 1):
            try:
                response = self.http.post(PATH, content=body, headers=headers)
            except httpx.TransportError as exc:  # refused, reset, timed out: not acknowledged
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code not in RETRIED_STATUSES:
                    raise IngestRefused(f"HTTP {response.status_code}: {response.text[:300]}")
                problem = f"HTTP {response.status_code}"
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            if attempt == self.retries:
                raise IngestRefused(f"a batch was not acknowledged after {self.retries} retries: {problem}")
            if self.on_retry is not None:
                self.on_retry(problem, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _merge(report: IngestReport, answer: dict, first: int) -> None:
        report.accepted += answer["accepted"]
        report.duplicates += answer["duplicates"]
        for note in answer["rejections"]:
            report.reject(RejectionNote(first + note["position"] - 1, note["eventId"], note["code"], note["reason"]))
        # The server lists at most so many rejections one by one; its counts are exact.
        report.rejected = report.rejected - len(answer["rejections"]) + answer["rejected"]
        for code, count in answer["reasons"].items():
            report.reasons[code] += count - sum(1 for n in answer["rejections"] if n["code"] == code)
