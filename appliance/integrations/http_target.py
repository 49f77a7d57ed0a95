"""An HTTP endpoint as a delivery target: each event POSTed, in order, to one URL with
``?event=up`` (etc.), the configured headers, and the body as JSON or protobuf, as
ChirpStack's HTTP integration sends it (an application with several URLs has one target,
and one queue, per URL, so a failing endpoint does not hold the others back).

- 2xx: delivered;
- 4xx other than 408 and 429: the endpoint refuses this event; it is dropped and reported
  (retrying could never succeed, and the events behind it must not wait forever);
- 408, 429 (after its ``Retry-After``), 5xx, 3xx (redirects are not followed), timeouts and
  connection errors: the event and those behind it wait, retried with doubling pauses.

Response bodies are not read: an endpoint cannot make the appliance hold a large answer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

from appliance.app.events import EventBuildError
from appliance.integrations.courier import Progress, TargetStats
from appliance.integrations.http_config import HTTPConfig
from appliance.integrations.mqtt_config import Encoding
from appliance.integrations.queue import Entry

BATCH: Final = 32
_CONTENT_TYPES: Final = {
    Encoding.JSON: "application/json",
    Encoding.PROTOBUF: "application/octet-stream",
}


def retry_after_s(value: str | None, now_s: float) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_s)


def http_status_text(response: httpx.Response) -> str:
    phrase = response.reason_phrase
    return f"HTTP {response.status_code}" + (f" {phrase}" if phrase else "")


def transport_problem(error: httpx.HTTPError, timeout_s: float) -> tuple[str, str]:
    """(metrics label, one line) of a request that got no answer."""
    if isinstance(error, httpx.TimeoutException):
        return "timeout", f"no answer within {timeout_s:g} s"
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return "connect", f"cannot connect: {text}"
    return "transport", f"request failed: {text}"


class HTTPTarget:
    kind = "http"
    batch_size = BATCH

    def __init__(
        self,
        name: str,
        url: str,
        config: HTTPConfig,
        *,
        application_id: uuid.UUID,
        stats: TargetStats | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.url = url
        self._url = httpx.URL(url)
        self.config = config
        self.application_id: uuid.UUID | None = application_id
        self.stats = stats or TargetStats()
        self.stats.connected = None
        self._transport = transport
        self._clock_s = clock_s
        self._client: httpx.AsyncClient | None = None

    @property
    def destination(self) -> str:
        parts = httpx.URL(self.url)
        return str(parts.copy_with(query=None, username=None, password=None))

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            headers=self.config.headers,
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

    async def deliver(self, entries: Sequence[Entry]) -> Progress:
        assert self._client is not None, "the target is not started"
        progress = Progress(0)
        content_type = _CONTENT_TYPES[self.config.encoding]
        for entry in entries:
            try:
                record = entry.event()
            except EventBuildError as error:
                progress.refused.append((entry, f"the stored event cannot be read: {error}"))
                progress.settled += 1
                continue
            body = record.json().encode() if self.config.encoding is Encoding.JSON else entry.body
            try:
                async with self._client.stream(
                    "POST",
                    # params= would replace the URL's own query (a token, say): merge instead
                    self._url.copy_merge_params({"event": entry.kind}),
                    content=body,
                    headers={"Content-Type": content_type},
                ) as response:
                    status = response.status_code
            except httpx.HTTPError as error:
                progress.error_kind, progress.error = transport_problem(
                    error, self.config.timeout_s
                )
                return progress
            if 200 <= status < 300:
                progress.settled += 1
                continue
            if 400 <= status < 500 and status not in (408, 429):
                refusal = f"{self.destination} answered {http_status_text(response)}"
                progress.refused.append((entry, refusal))
                progress.settled += 1
                continue
            progress.error_kind = f"http_{status // 100}xx"
            progress.error = http_status_text(response)
            if status in {429, 503}:
                progress.retry_after_s = retry_after_s(
                    response.headers.get("Retry-After"), self._clock_s()
                )
            return progress
        return progress
