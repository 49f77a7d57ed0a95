"""Settings of an application's HTTP and InfluxDB integrations (API ``config`` bodies).

``docs/integrations.md`` lists the options and defaults; a bad value raises
``IntegrationConfigError`` naming it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final
from urllib.parse import urlsplit

from appliance.integrations.mqtt_config import Encoding
from appliance.integrations.options import Options

MAX_URLS: Final = 10
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)
_RESERVED_HEADERS: Final = frozenset({"content-type", "content-length", "host"})


@dataclass(frozen=True, slots=True)
class Retry:
    """Waits between attempts after a failure: doubling from ``min_s`` up to ``max_s``."""

    min_s: float = 1.0
    max_s: float = 300.0


@dataclass(frozen=True, slots=True)
class HTTPConfig:
    urls: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    encoding: Encoding = Encoding.JSON
    timeout_s: float = 5.0
    retry: Retry = Retry()

    def to_dict(self) -> dict[str, Any]:
        return {
            "urls": list(self.urls),
            "headers": dict(self.headers),
            "encoding": self.encoding.value,
            "timeout_s": self.timeout_s,
            "retry_min_s": self.retry.min_s,
            "retry_max_s": self.retry.max_s,
        }


class InfluxDBVersion(IntEnum):
    V2 = 2
    V3 = 3


@dataclass(frozen=True, slots=True)
class InfluxDBConfig:
    url: str  # the server, e.g. http://127.0.0.1:8086
    version: InfluxDBVersion = InfluxDBVersion.V2
    token: str = field(default="", repr=False)
    org: str = ""  # v2
    bucket: str = ""  # v2
    database: str = ""  # v3
    timeout_s: float = 5.0
    batch_size: int = 500  # events per write
    retry: Retry = Retry()

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "version": int(self.version),
            "token": self.token,
            "org": self.org,
            "bucket": self.bucket,
            "database": self.database,
            "timeout_s": self.timeout_s,
            "batch_size": self.batch_size,
            "retry_min_s": self.retry.min_s,
            "retry_max_s": self.retry.max_s,
        }


def _http_url(table: Options, key: str, url: str) -> str:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise table.error(key, f"bad port in {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise table.error(key, f"expected http://HOST[:PORT]/PATH or https://..., got {url!r}")
    if any(ord(c) < 33 for c in url):
        raise table.error(key, f"must not contain spaces or control characters: {url!r}")
    return url


def _retry(table: Options) -> Retry:
    retry = Retry(
        table.number("retry_min_s", 1.0, 0.001, 3600),
        table.number("retry_max_s", 300.0, 0.001, 86_400),
    )
    if retry.max_s < retry.min_s:
        raise table.error("retry_max_s", "must not be below retry_min_s")
    return retry


def http_config_from_mapping(values: Mapping[str, Any], *, prefix: str = "") -> HTTPConfig:
    table = Options(values, prefix)
    urls = table.strings("urls")
    # ChirpStack's name: one string, URLs separated by commas.
    urls += table.strings("event_endpoint_url")
    if not urls:
        raise table.error("urls", "give at least one URL to POST events to")
    if len(urls) > MAX_URLS or len(set(urls)) != len(urls):
        raise table.error("urls", f"at most {MAX_URLS} different URLs")
    checked = tuple(_http_url(table, "urls", url) for url in urls)
    headers = table.mapping("headers")
    for name, value in headers.items():
        if not _TOKEN.match(name) or name.lower() in _RESERVED_HEADERS:
            raise table.error("headers", f"{name!r} cannot be set as a header")
        if any(c in value for c in "\r\n\x00") or len(value) > 8192:
            raise table.error("headers", f"the value of {name!r} is not a valid header value")
    json_flag = table.raw("json")  # ChirpStack's name for the encoding
    encoding = table.choice("encoding", Encoding, Encoding.JSON)
    if json_flag is not None:
        if not isinstance(json_flag, bool):
            raise table.error("json", f"must be true or false, got {json_flag!r}")
        encoding = Encoding.JSON if json_flag else Encoding.PROTOBUF
    config = HTTPConfig(
        urls=checked,
        headers=headers,
        encoding=encoding,
        timeout_s=table.number("timeout_s", 5.0, 0.1, 300),
        retry=_retry(table),
    )
    table.finish()
    return config


def influxdb_config_from_mapping(values: Mapping[str, Any], *, prefix: str = "") -> InfluxDBConfig:
    table = Options(values, prefix)
    url = table.text("url") or table.text("endpoint")
    if not url:
        raise table.error("url", "needed (the InfluxDB server, e.g. http://127.0.0.1:8086)")
    url = _http_url(table, "url", url).rstrip("/")
    version = table.integer("version", 2, 2, 3)
    config = InfluxDBConfig(
        url=url,
        version=InfluxDBVersion(version),
        token=table.text("token"),
        org=table.text("org", max_length=256) or table.text("organization", max_length=256),
        bucket=table.text("bucket", max_length=256),
        database=table.text("database", max_length=256) or table.text("db", max_length=256),
        timeout_s=table.number("timeout_s", 5.0, 0.1, 300),
        batch_size=table.integer("batch_size", 500, 1, 10_000),
        retry=_retry(table),
    )
    if config.version is InfluxDBVersion.V2 and not (config.org and config.bucket):
        raise table.error("bucket", "InfluxDB 2 needs org and bucket")
    if config.version is InfluxDBVersion.V3 and not config.database:
        raise table.error("database", "InfluxDB 3 needs database")
    if any(c in config.token for c in "\r\n"):
        raise table.error("token", "must be one line")
    table.finish()
    return config
