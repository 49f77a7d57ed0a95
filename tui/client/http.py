"""``ApplianceAPI`` over the appliance's REST API (httpx) and live stream (websockets)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tui.client.api import JSON, StreamFilters
from tui.client.errors import (
    BadAnswerError,
    NotOfferedError,
    RefusedError,
    RejectedError,
    UnreachableError,
)
from tui.client.stream_items import StreamItem, parse_stream_message

PAGE = 1000  # the API's largest page


def _reason(response: httpx.Response) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return str(message or f"HTTP {response.status_code}").splitlines()[0][:200]


def _eui(text: str) -> str:
    return quote(text, safe="")


class HTTPApplianceAPI:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._client = httpx.AsyncClient(
            base_url=self._url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
        self.stream_parse_errors = 0

    @property
    def url(self) -> str:
        return self._url

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        try:
            response = await self._client.request(method, path, json=body, params=params)
        except httpx.ConnectError:
            raise UnreachableError(
                f"nothing answers at {self._url} (is the appliance running?)"
            ) from None
        except httpx.TimeoutException:
            raise UnreachableError(f"{self._url} did not answer in time") from None
        except httpx.HTTPError as error:
            raise UnreachableError(f"cannot talk to {self._url}: {error}") from None
        status = response.status_code
        if status in (401, 403):
            raise RefusedError(f"the appliance refused the request: {_reason(response)}")
        if status == 404 and _reason(response) == "Not Found":
            raise NotOfferedError(404, f"this appliance has no {method} {path} (an older version?)")
        if 400 <= status < 500:
            raise RejectedError(status, _reason(response))
        if status >= 500:
            raise BadAnswerError(f"the appliance failed: {_reason(response)}")
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BadAnswerError(
                f"{method} {path} answered with something that is not JSON"
            ) from None

    async def _object(self, method: str, path: str, body: Any = None, **params: Any) -> JSON:
        answer = await self._call(method, path, body, params or None)
        if not isinstance(answer, dict):
            raise BadAnswerError(f"{method} {path}: expected a JSON object")
        return answer

    async def _page(self, path: str, **params: Any) -> list[JSON]:
        answer = await self._object("GET", path, limit=PAGE, **params)
        result = answer.get("result")
        if not isinstance(result, list):
            raise BadAnswerError(f"GET {path}: expected a page with a result list")
        return [item for item in result if isinstance(item, dict)]

    # System
    async def system_status(self) -> JSON:
        return await self._object("GET", "/api/system/status")

    async def metrics(self) -> str:
        try:
            response = await self._client.get("/metrics")
        except httpx.HTTPError as error:
            raise UnreachableError(f"cannot talk to {self._url}: {error}") from None
        if response.status_code != 200:
            raise BadAnswerError(f"/metrics answered HTTP {response.status_code}")
        return response.text

    async def get_config(self) -> JSON:
        return await self._object("GET", "/api/system/config")

    async def put_config(self, changes: JSON) -> JSON:
        return await self._object("PUT", "/api/system/config", {"changes": changes})

    async def restart(self) -> None:
        await self._call("POST", "/api/system/restart")

    # Devices
    async def list_devices(self, *, search: str = "", limit: int = PAGE) -> list[JSON]:
        answer = await self._object("GET", "/api/devices", search=search, limit=limit)
        result = answer.get("result", [])
        return [item for item in result if isinstance(item, dict)]

    async def get_device(self, dev_eui: str) -> JSON:
        return await self._object("GET", f"/api/devices/{_eui(dev_eui)}")

    async def create_device(self, body: JSON) -> JSON:
        return await self._object("POST", "/api/devices", body)

    async def update_device(self, dev_eui: str, body: JSON) -> JSON:
        return await self._object("PUT", f"/api/devices/{_eui(dev_eui)}", body)

    async def delete_device(self, dev_eui: str) -> None:
        await self._call("DELETE", f"/api/devices/{_eui(dev_eui)}")

    async def _optional(self, path: str) -> JSON | None:
        try:
            return await self._object("GET", path)
        except NotOfferedError:
            raise
        except RejectedError as error:
            if error.status == 404:
                return None
            raise

    async def get_keys(self, dev_eui: str) -> JSON | None:
        return await self._optional(f"/api/devices/{_eui(dev_eui)}/keys")

    async def get_activation(self, dev_eui: str) -> JSON | None:
        return await self._optional(f"/api/devices/{_eui(dev_eui)}/activation")

    async def link_metrics(self, dev_eui: str) -> JSON:
        return await self._object("GET", f"/api/devices/{_eui(dev_eui)}/link-metrics")

    async def list_queue(self, dev_eui: str) -> list[JSON]:
        answer = await self._call("GET", f"/api/devices/{_eui(dev_eui)}/queue")
        return (
            [item for item in answer if isinstance(item, dict)] if isinstance(answer, list) else []
        )

    async def enqueue(self, dev_eui: str, body: JSON) -> JSON:
        return await self._object("POST", f"/api/devices/{_eui(dev_eui)}/queue", body)

    async def flush_queue(self, dev_eui: str) -> None:
        await self._call("DELETE", f"/api/devices/{_eui(dev_eui)}/queue")

    async def device_events(self, dev_eui: str, limit: int = 20) -> list[StreamItem]:
        answer = await self._call(
            "GET", f"/api/devices/{_eui(dev_eui)}/events", params={"limit": limit}
        )
        if isinstance(answer, dict):
            answer = answer.get("result", [])
        items: list[StreamItem] = []
        for raw in answer if isinstance(answer, list) else []:
            message = (
                {"type": "event", **raw} if isinstance(raw, dict) and "type" not in raw else raw
            )
            try:
                items.append(parse_stream_message(message))
            except ValueError:
                self.stream_parse_errors += 1
        return items

    async def list_profiles(self) -> list[JSON]:
        return await self._page("/api/device-profiles")

    # Applications and integrations
    async def list_applications(self) -> list[JSON]:
        return await self._page("/api/applications")

    async def create_application(self, body: JSON) -> JSON:
        return await self._object("POST", "/api/applications", body)

    async def update_application(self, app_id: str, body: JSON) -> JSON:
        return await self._object("PUT", f"/api/applications/{_eui(app_id)}", body)

    async def list_integrations(self, app_id: str) -> list[JSON]:
        answer = await self._call("GET", f"/api/applications/{_eui(app_id)}/integrations")
        if isinstance(answer, dict):
            answer = answer.get("result", [])
        return (
            [item for item in answer if isinstance(item, dict)] if isinstance(answer, list) else []
        )

    async def put_integration(self, app_id: str, kind: str, config: JSON) -> JSON:
        path = f"/api/applications/{_eui(app_id)}/integrations/{_eui(kind)}"
        return await self._object("PUT", path, {"config": config})

    async def delete_integration(self, app_id: str, kind: str) -> None:
        await self._call("DELETE", f"/api/applications/{_eui(app_id)}/integrations/{_eui(kind)}")

    # Gateways
    async def list_gateways(self) -> list[JSON]:
        return await self._page("/api/gateways")

    # Live stream
    def _stream_url(self, filters: StreamFilters | None) -> str:
        base = "ws" + self._url.removeprefix("http")
        query = urlencode(filters.query()) if filters else ""
        return f"{base}/api/stream" + (f"?{query}" if query else "")

    async def stream(
        self, filters: StreamFilters | None = None
    ) -> AsyncGenerator[StreamItem, None]:
        url = self._stream_url(filters)
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with connect(url, additional_headers=headers, open_timeout=10) as socket:
                try:
                    async for raw in socket:
                        try:
                            item = parse_stream_message(json.loads(raw))
                        except ValueError:  # json.JSONDecodeError is one too
                            self.stream_parse_errors += 1
                            continue
                        yield item
                except ConnectionClosed:
                    pass
                except BaseException:
                    # Cancelled, or closed by the consumer: the console is going away, so no
                    # closing handshake to wait for (a cancelled wait would leak the socket).
                    socket.transport.abort()
                    raise
                _raise_for_close(socket.close_code, socket.close_reason)
        except InvalidStatus as error:
            status = error.response.status_code
            if status == 401:
                raise RefusedError("the live stream refused the API token (HTTP 401)") from None
            if status in (403, 404):
                # Starlette answers 403 to a WebSocket on a path it does not route.
                raise NotOfferedError(
                    status, f"this appliance has no live stream (/api/stream: HTTP {status})"
                ) from None
            raise BadAnswerError(f"the live stream answered HTTP {status}") from None
        except InvalidHandshake as error:
            raise BadAnswerError(f"the live stream did not open: {error}") from None
        except (OSError, TimeoutError) as error:
            raise UnreachableError(f"the live stream at {url} is not reachable: {error}") from None


def _raise_for_close(code: int | None, reason: str | None) -> None:
    """The appliance refuses a stream after the handshake, with 4000 + the HTTP status."""
    if code is None or code < 4000:
        return
    message = f"the live stream was closed: {reason or code}"
    if code in (4401, 4403):
        raise RefusedError(message)
    if code == 4404:
        raise RejectedError(404, message)
    if code >= 4500:
        raise BadAnswerError(message)
    raise RejectedError(code - 4000, message)
