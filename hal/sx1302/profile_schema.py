"""Typed reading of TOML tables with errors that name the file and the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hal.sx1302.errors import ProfileError


class TableReader:
    def __init__(self, table: Mapping[str, Any], source: str, prefix: str = "") -> None:
        self.table = table
        self.source = source
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, reason: str) -> ProfileError:
        return ProfileError(f"{self.source}: {self._key(key)}: {reason}")

    def has(self, key: str) -> bool:
        return key in self.table

    def sub(self, key: str, *, required: bool = False) -> TableReader:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            value = {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return TableReader(value, self.source, f"{self._key(key)}.")

    def string(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "missing" if value is None else "must be a non-empty string")
        return value

    def optional_string(self, key: str) -> str | None:
        if key not in self.table:
            return None
        return self.string(key)

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(
        self,
        key: str,
        default: int | None = None,
        *,
        low: int | None = None,
        high: int | None = None,
    ) -> int:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(key, f"must be within {low}..{high}, got {value}")
        return value

    def optional_integer(self, key: str, *, low: int = 0, high: int = 1 << 31) -> int | None:
        if key not in self.table:
            return None
        return self.integer(key, low=low, high=high)

    def number(self, key: str, default: float | None = None) -> float:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}")
        return float(value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(
                key, "missing" if value is None else f"must be true or false, got {value!r}"
            )
        return value

    def array(self, key: str, default: list[Any] | None = None) -> list[Any]:
        value = self.table.get(key, default)
        if not isinstance(value, list):
            raise self.fail(key, "missing" if value is None else "must be an array")
        return value
