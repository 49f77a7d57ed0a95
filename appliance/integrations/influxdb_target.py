"""InfluxDB as a delivery target: the line protocol of many events in one write.

- v2: ``POST {url}/api/v2/write?org=&bucket=&precision=ns``, ``Authorization: Token ...``;
- v3: ``POST {url}/api/v3/write_lp?db=&precision=nanosecond``, ``Authorization: Bearer ...``.

2xx: the batch is written. 400, 413 and 422 mean the server rejects the data: a batch is then
written one event at a time, and the event it still rejects is dropped and reported. 401,
403 and 404 (wrong token, no such bucket or database) are the configuration's fault, not the
events': they are retried, like 408, 429, 5xx, timeouts and connection errors, until someone
fixes the settings or the outbox's bounds drop the oldest events.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Final

import httpx

from appliance.app.events import EventBuildError
from appliance.integrations.courier import Progress, TargetStats
from appliance.integrations.http_config import InfluxDBConfig, InfluxDBVersion
from appliance.integrations.http_target import http_status_text, retry_after_s, transport_problem
from appliance.integrations.line_protocol import event_lines
from appliance.integrations.queue import Entry

_DATA_REJECTED: Final = frozenset({400, 413, 422})
_DETAIL_BYTES: Final = 300


class InfluxDBTarget:
    kind = "influxdb"

    def __init__(
        self,
        name: str,
        config: InfluxDBConfig,
        *,
        application_id: uuid.UUID,
        stats: TargetStats | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = config
        self.application_id: uuid.UUID | None = application_id
        self.batch_size = config.batch_size
        self.stats = stats or TargetStats()
        self.stats.connected = None
        self._transport = transport
        self._clock_s = clock_s
        self._client: httpx.AsyncClient | None = None
        if config.version is InfluxDBVersion.V2:
            self.write_url = f"{config.url}/api/v2/write"
            self.params = {"org": config.org, "bucket": config.bucket, "precision": "ns"}
            self.authorization = f"Token {config.token}"
        else:
            self.write_url = f"{config.url}/api/v3/write_lp"
            self.params = {"db": config.database, "precision": "nanosecond"}
            self.authorization = f"Bearer {config.token}"

    @property
    def destination(self) -> str:
        return self.write_url

    async def start(self) -> None:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.config.token:
            headers["Authorization"] = self.authorization
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=self.config.timeout_s,
            follow_redirects=False,
            transport=self._transport,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ready(self) -> None:
        return

    async def _write(self, lines: list[str]) -> httpx.Response:
        """The server's answer; for a refusal, the start of its explanation in
        ``response.extensions["detail"]`` (the rest of a body is never read)."""
        assert self._client is not None, "the target is not started"
        body = ("\n".join(lines) + "\n").encode()
        async with self._client.stream(
            "POST", self.write_url, params=self.params, content=body
        ) as response:
            detail = b""
            if response.status_code >= 400:
                async for chunk in response.aiter_raw():
                    detail += chunk
                    if len(detail) >= _DETAIL_BYTES:
                        break
            response.extensions["detail"] = detail[:_DETAIL_BYTES].decode("utf-8", "replace")
            return response

    async def deliver(self, entries: Sequence[Entry]) -> Progress:
        lines: list[str] = []
        refused: dict[int, str] = {}
        for index, entry in enumerate(entries):
            try:
                lines += event_lines(entry.event())
            except EventBuildError as error:
                refused[index] = f"the stored event cannot be read: {error}"
        if not lines:
            return self._done(entries, refused)
        try:
            response = await self._write(lines)
        except httpx.HTTPError as error:
            kind, text = transport_problem(error, self.config.timeout_s)
            return Progress(0, error=text, error_kind=kind)
        status = response.status_code
        if 200 <= status < 300:
            return self._done(entries, refused)
        if status in _DATA_REJECTED:
            return await self._one_by_one(entries)
        return self._failure(response)

    def _done(self, entries: Sequence[Entry], refused: dict[int, str]) -> Progress:
        return Progress(len(entries), [(entries[i], reason) for i, reason in refused.items()])

    def _failure(self, response: httpx.Response, settled: int = 0) -> Progress:
        status = response.status_code
        progress = Progress(
            settled, error=http_status_text(response), error_kind=f"http_{status // 100}xx"
        )
        if status in (429, 503):
            progress.retry_after_s = retry_after_s(
                response.headers.get("Retry-After"), self._clock_s()
            )
        return progress

    async def _one_by_one(self, entries: Sequence[Entry]) -> Progress:
        """After the server rejected a batch's data: find the events it rejects."""
        progress = Progress(0)
        for entry in entries:
            try:
                lines = event_lines(entry.event())
            except EventBuildError as error:
                lines, rejected = [], f"the stored event cannot be read: {error}"
            else:
                rejected = ""
            if lines:
                try:
                    response = await self._write(lines)
                except httpx.HTTPError as error:
                    progress.error_kind, progress.error = transport_problem(
                        error, self.config.timeout_s
                    )
                    return progress
                status = response.status_code
                if status in _DATA_REJECTED:
                    detail = " ".join(str(response.extensions.get("detail", "")).split())
                    rejected = f"InfluxDB rejected the data: {http_status_text(response)} {detail}"
                elif not 200 <= status < 300:
                    failure = self._failure(response, progress.settled)
                    failure.refused = progress.refused
                    return failure
            if rejected:
                progress.refused.append((entry, rejected))
            progress.settled += 1
        return progress
