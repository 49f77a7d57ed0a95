"""Reading one configuration table (TOML or an API body): typed getters whose errors name the
option, and a check that nothing unknown is left over."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from appliance.integrations.errors import IntegrationConfigError

E = TypeVar("E", bound=StrEnum)


class Options:
    def __init__(self, values: object, prefix: str = "") -> None:
        if not isinstance(values, Mapping):
            where = prefix.rstrip(".") or "configuration"
            raise IntegrationConfigError(f"{where}: must be a table, got {type(values).__name__}")
        self.values: Mapping[str, Any] = values
        self.prefix = prefix
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def error(self, key: str, problem: str) -> IntegrationConfigError:
        return IntegrationConfigError(f"{self.name(key)}: {problem}")

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.values.get(key)

    def text(self, key: str, default: str = "", *, max_length: int = 4096) -> str:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {value!r}")
        if len(value) > max_length or "\x00" in value:
            raise self.error(key, f"must be a string of at most {max_length} characters")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(key, f"must be an integer {low}..{high}, got {value!r}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.raw(key)
        if value is None:
            return default
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not low <= value <= high
        ):
            raise self.error(key, f"must be a number {low:g}..{high:g}, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, enum: type[E], default: E) -> E:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            known = ", ".join(member.value for member in enum)
            raise self.error(key, f"must be one of {known}, got {value!r}") from None

    def strings(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if isinstance(value, str):  # ChirpStack's form: a comma-separated list
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(key, f"must be a list of strings, got {value!r}")
        return list(value)

    def mapping(self, key: str) -> dict[str, str]:
        value = self.raw(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self.error(key, f"must be a table of strings, got {value!r}")
        return dict(value)

    def finish(self) -> None:
        unknown = sorted(str(key) for key in set(self.values) - self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise self.error(unknown[0], f"unknown option (known: {known})")
