"""Small edits to a person's appliance.toml that keep everything else as it was written.

The file is edited line by line rather than re-serialised, so comments, order and keys the
setup knows nothing about survive; the caller loads the result before it replaces the file.
"""

from __future__ import annotations

import json
import re

_REGION_LINE = re.compile(r"\s*region\s*=.*")
_HEADER = re.compile(r"\s*\[")
_BACKENDS_HEADER = re.compile(r"\s*\[\[\s*backends\s*\]\]\s*(#.*)?")
_NEW_CONFIG_HEADER = (
    "# The appliance's configuration; docs/running.md lists every key.\n"
    "# `appliance setup` sets the region and the board's backend; keys added by hand are kept.\n"
)


def set_region(text: str, region: str) -> str:
    """``text`` (a TOML document, possibly empty) with its top-level ``region`` set."""
    line = f"region = {json.dumps(region)}"
    if not text.strip():
        return _NEW_CONFIG_HEADER + line + "\n"
    lines = text.splitlines()
    first_table = next((i for i, entry in enumerate(lines) if _HEADER.match(entry)), len(lines))
    for index in range(first_table):
        if _REGION_LINE.fullmatch(lines[index]):
            lines[index] = line
            break
    else:
        lines.insert(first_table, line)
    return "\n".join(lines) + "\n"


def set_backend(text: str, kind: str, options: dict[str, str] | None) -> str:
    """``text`` with its ``[[backends]]`` tables of ``kind`` replaced by one with ``options``.

    ``options`` None removes them (the board changed to one this kind does not drive).
    """
    lines = text.splitlines()
    kept: list[str] = []
    index = 0
    kind_line = re.compile(rf"\s*kind\s*=\s*{re.escape(json.dumps(kind))}\s*(#.*)?")
    while index < len(lines):
        if _BACKENDS_HEADER.fullmatch(lines[index]):
            end = index + 1
            while end < len(lines) and not _HEADER.match(lines[end]):
                end += 1
            block = lines[index:end]
            if not any(kind_line.fullmatch(line) for line in block):
                kept.extend(block)
            index = end
            continue
        kept.append(lines[index])
        index += 1
    while kept and not kept[-1].strip():
        kept.pop()
    if options is not None:
        kept.extend(["", "[[backends]]", f"kind = {json.dumps(kind)}"])
        kept.extend(f"{key} = {json.dumps(value)}" for key, value in options.items())
    return "\n".join(kept) + "\n"
