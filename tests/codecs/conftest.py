"""Codec tests share one sandbox (two real worker processes) unless they break one on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.codecs import CodecRunner, JSSandbox

DATA = Path(__file__).resolve().parent.parent / "data" / "device_repos"
RECV_TIME = datetime(2026, 11, 21, 12, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[JSSandbox]:
    with JSSandbox(workers=2) as shared:
        yield shared


@pytest.fixture
async def runner(sandbox: JSSandbox) -> AsyncIterator[CodecRunner]:
    async with CodecRunner(sandbox=sandbox) as codec_runner:
        yield codec_runner
