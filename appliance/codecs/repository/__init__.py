"""Device-profile and codec import from The Things Network's and ChirpStack's repositories."""

from __future__ import annotations

from appliance.codecs.repository.chirpstack import load_chirpstack_repository
from appliance.codecs.repository.model import (
    Example,
    ExampleResult,
    ImportedCodec,
    ImportedDevice,
    ImportedProfile,
    RepositoryImport,
    Skipped,
)
from appliance.codecs.repository.ttn import load_ttn_repository

__all__ = [
    "Example",
    "ExampleResult",
    "ImportedCodec",
    "ImportedDevice",
    "ImportedProfile",
    "RepositoryImport",
    "Skipped",
    "load_chirpstack_repository",
    "load_ttn_repository",
]
