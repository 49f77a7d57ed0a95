"""Each console test collects its garbage before the next one starts, so anything left
unclosed (a socket, a transport) is reported against the test that left it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def collect_garbage() -> Iterator[None]:
    yield
    gc.collect()
