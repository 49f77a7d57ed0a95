"""Reading a repository's files with errors that name the file, never a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml


class RepositoryFileError(Exception):
    """A file of the repository cannot be used; ``path`` is relative to the repository."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: example outputs keep dates as the strings written."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class Repository:
    """A checkout on disk: paths are resolved inside it and reported relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def inside(self, base: Path, name: str, referrer: Path) -> Path:
        """``base / name``, refused when the name is empty or leads out of the repository."""
        if not name or "\x00" in name:
            raise RepositoryFileError(
                self.relative(referrer), f"refers to a file with no usable name {name!r}"
            )
        path = (base / name).resolve()
        if not path.is_relative_to(self.root):
            raise RepositoryFileError(
                self.relative(referrer), f"refers to {name!r}, outside the repository"
            )
        return path

    def text(self, path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RepositoryFileError(self.relative(path), "file not found") from None
        except UnicodeDecodeError:
            raise RepositoryFileError(self.relative(path), "not UTF-8 text") from None
        except OSError as exc:
            raise RepositoryFileError(
                self.relative(path), f"cannot read it ({exc.strerror})"
            ) from None

    def yaml(self, path: Path) -> Any:
        text = self.text(path)
        try:
            return yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
            raise RepositoryFileError(
                self.relative(path), f"invalid YAML: {problem}{where}"
            ) from None

    def toml(self, path: Path) -> dict[str, Any]:
        text = self.text(path)
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RepositoryFileError(self.relative(path), f"invalid TOML: {exc}") from None


def table(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RepositoryFileError(where, f"{what} must be a mapping, not {_kind(value)}")
    return value


def string(data: dict[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # YAML reads version: 1.0 as a number
    if not isinstance(value, str) or (default is None and not value):
        raise RepositoryFileError(where, f"{key} must be a non-empty string, not {_kind(value)}")
    return value


def flag(data: dict[str, Any], key: str, where: str, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise RepositoryFileError(where, f"{key} must be true or false, not {_kind(value)}")
    return value


def number(data: dict[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RepositoryFileError(where, f"{key} must be a number, not {_kind(value)}")
    return float(value)


def whole(data: dict[str, Any], key: str, where: str) -> int | None:
    value = number(data, key, where)
    if value is None:
        return None
    if value != int(value):
        raise RepositoryFileError(where, f"{key} must be a whole number, not {value}")
    return int(value)


def listing(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise RepositoryFileError(where, f"{key} must be a list, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]
