"""Import from a checkout of ChirpStack's device-profile repository (``lorawan-device-profiles``).

Layout read:

    vendors/<vendor>/vendor.toml          [vendor] name, id, ouis, devices = ["<file>.toml"]
    vendors/<vendor>/devices/<file>.toml  [device] name, description; [[device.firmware]]
                                          version, profiles = ["<file>.toml"], codec = "<x>.js"
    vendors/<vendor>/profiles/<file>.toml [profile] region, mac_version, reg_params_revision,
                                          supports_otaa, supports_class_b/c, max_eirp;
                                          [profile.abp], [profile.class_b], [profile.class_c]
    vendors/<vendor>/codecs/<x>.js        the codec's JavaScript
    vendors/<vendor>/codecs/test_decode_<x>.json, test_encode_<x>.json
                                          test vectors: [{name, input, expected}], written as
                                          JavaScript literals (hex numbers appear), so they are
                                          read by the sandbox, not by a JSON parser
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.codecs.errors import CodecError, RepositoryError
from appliance.codecs.repository.files import (
    Repository,
    RepositoryFileError,
    flag,
    listing,
    number,
    string,
    table,
    whole,
)
from appliance.codecs.repository.model import (
    Example,
    ExampleKind,
    ExampleResult,
    ImportedCodec,
    ImportedDevice,
    ImportedProfile,
    RepositoryImport,
    Skipped,
)
from appliance.codecs.repository.normalize import (
    UnsupportedValueError,
    mac_version,
    reg_params_revision,
    regions,
)
from appliance.codecs.repository.selftest import run_examples
from appliance.codecs.sandbox import JSSandbox

_VECTORS: tuple[tuple[str, ExampleKind], ...] = (
    ("test_decode_", "uplink-decode"),
    ("test_encode_", "downlink-encode"),
)


@dataclass
class _Import:
    repo: Repository
    sandbox: JSSandbox | None
    now: datetime
    devices: list[ImportedDevice] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    profiles: dict[Path, ImportedProfile | RepositoryFileError] = field(default_factory=dict)
    codecs: dict[Path, ImportedCodec | None] = field(default_factory=dict)

    def skip_problem(self, problem: RepositoryFileError, *, context: str = "") -> None:
        self.skipped.append(Skipped(problem.path, f"{context}{problem.reason}"))


def load_chirpstack_repository(
    path: str | Path,
    *,
    sandbox: JSSandbox | None = None,
    run_examples: bool = True,
    now: datetime | None = None,
) -> RepositoryImport:
    """Every device, firmware version and profile of the repository at ``path``.

    Test vectors run through ``sandbox`` (one is started for the import when none is given)
    unless ``run_examples`` is false; ``now`` is the receive time given to decoders. Raises
    ``RepositoryError`` only when ``path`` is not such a repository at all.
    """
    root = Path(path)
    vendors_dir = root / "vendors"
    if not vendors_dir.is_dir():
        raise RepositoryError(
            f"{root} is not a ChirpStack device-profile repository: vendors/ is missing"
        )
    # Test vectors are JavaScript, so even listing them needs the sandbox.
    own_sandbox = JSSandbox(workers=1) if run_examples and sandbox is None else None
    state = _Import(Repository(root), sandbox or own_sandbox, now or datetime.now(UTC))
    if not run_examples:
        state.sandbox = None
    try:
        for vendor_dir in sorted(p for p in vendors_dir.iterdir() if p.is_dir()):
            _load_vendor(state, vendor_dir)
    finally:
        if own_sandbox is not None:
            own_sandbox.close()
    return RepositoryImport(
        "chirpstack", str(state.repo.root), tuple(state.devices), tuple(state.skipped)
    )


def _load_vendor(state: _Import, vendor_dir: Path) -> None:
    repo = state.repo
    vendor_path = vendor_dir / "vendor.toml"
    where = repo.relative(vendor_path)
    try:
        vendor = table(repo.toml(vendor_path).get("vendor"), where, "[vendor]")
        name = string(vendor, "name", where)
        device_files = listing(vendor, "devices", where)
    except RepositoryFileError as problem:
        state.skip_problem(problem, context="the vendor's devices are skipped: ")
        return
    for device_file in device_files:
        try:
            device_path = repo.inside(vendor_dir / "devices", str(device_file), vendor_path)
            _load_device(state, vendor_dir, device_path, vendor_dir.name, name)
        except RepositoryFileError as problem:
            state.skip_problem(problem)


def _load_device(
    state: _Import, vendor_dir: Path, device_path: Path, vendor_id: str, vendor_name: str
) -> None:
    repo = state.repo
    where = repo.relative(device_path)
    device = table(repo.toml(device_path).get("device"), where, "[device]")
    name = string(device, "name", where)
    description = string(device, "description", where, default="")
    for entry in listing(device, "firmware", where):
        try:
            firmware = table(entry, where, "[[device.firmware]]")
            version = string(firmware, "version", where)
            profile_files = listing(firmware, "profiles", where)
            codec = _codec(state, vendor_dir, firmware.get("codec"), device_path)
        except RepositoryFileError as problem:
            state.skip_problem(problem)
            continue
        for profile_file in profile_files:
            try:
                profile_path = repo.inside(vendor_dir / "profiles", str(profile_file), device_path)
                profile = _profile(state, profile_path)
            except RepositoryFileError as problem:
                state.skip_problem(problem, context=f"{device_path.stem} {version}: ")
                continue
            state.devices.append(
                ImportedDevice(
                    vendor_id=vendor_id,
                    vendor_name=vendor_name,
                    device_id=device_path.stem,
                    name=name,
                    description=description,
                    firmware_version=version,
                    profile=profile,
                    codec=codec,
                )
            )


def _profile(state: _Import, path: Path) -> ImportedProfile:
    cached = state.profiles.get(path)
    if cached is None:
        try:
            cached = _read_profile(state.repo, path)
        except RepositoryFileError as problem:
            cached = problem
        state.profiles[path] = cached
    if isinstance(cached, RepositoryFileError):
        raise cached
    return cached


def _read_profile(repo: Repository, path: Path) -> ImportedProfile:
    where = repo.relative(path)
    data = table(repo.toml(path).get("profile"), where, "[profile]")
    abp = table(data.get("abp") or {}, where, "[profile.abp]")
    class_b = table(data.get("class_b") or {}, where, "[profile.class_b]")
    class_c = table(data.get("class_c") or {}, where, "[profile.class_c]")
    revision = string(data, "reg_params_revision", where)
    try:
        (region,) = regions(string(data, "region", where), ttn=False)
        mac = mac_version(string(data, "mac_version", where))
        revision_here = reg_params_revision(revision)
    except UnsupportedValueError as exc:
        raise RepositoryFileError(where, str(exc)) from None
    otaa = flag(data, "supports_otaa", where)
    supports_b = flag(data, "supports_class_b", where)
    supports_c = flag(data, "supports_class_c", where)
    return ImportedProfile(
        id=path.stem,
        region=region,
        mac_version=mac,
        regional_parameters=revision,
        reg_params_revision=revision_here,
        supports_otaa=otaa,
        supports_class_b=supports_b,
        supports_class_c=supports_c,
        max_eirp=number(data, "max_eirp", where),
        # The repository writes zeros in the sections that do not apply; keep only real values.
        abp_rx1_delay_s=None if otaa else whole(abp, "rx1_delay", where),
        abp_rx1_dr_offset=None if otaa else whole(abp, "rx1_dr_offset", where),
        abp_rx2_dr=None if otaa else whole(abp, "rx2_dr", where),
        abp_rx2_frequency=None if otaa else whole(abp, "rx2_freq", where),
        class_b_timeout_s=whole(class_b, "timeout_secs", where) if supports_b else None,
        class_c_timeout_s=whole(class_c, "timeout_secs", where) if supports_c else None,
    )


def _codec(
    state: _Import, vendor_dir: Path, codec_file: Any, device_path: Path
) -> ImportedCodec | None:
    if not codec_file:
        return None
    repo = state.repo
    path = repo.inside(vendor_dir / "codecs", str(codec_file), device_path)
    if path not in state.codecs:
        try:
            script = repo.text(path)
        except RepositoryFileError as problem:
            state.skip_problem(problem, context="devices using this codec get none: ")
            state.codecs[path] = None
            return None
        examples = _vectors(state, path) if state.sandbox is not None else []
        results: tuple[ExampleResult, ...] = ()
        if state.sandbox is not None and examples:
            results = run_examples(state.sandbox, script, examples, now=state.now)
        state.codecs[path] = ImportedCodec(
            path.stem, script, (repo.relative(path),), self_tests=results
        )
    return state.codecs[path]


def _vectors(state: _Import, codec_path: Path) -> list[Example]:
    """The codec's test vectors; a file that cannot be read is reported and left out."""
    assert state.sandbox is not None
    repo = state.repo
    examples: list[Example] = []
    for prefix, kind in _VECTORS:
        path = codec_path.with_name(f"{prefix}{codec_path.stem}.json")
        if not path.is_file():
            continue
        where = repo.relative(path)
        try:
            try:
                vectors = state.sandbox.evaluate(repo.text(path))
            except CodecError as exc:
                raise RepositoryFileError(where, str(exc)) from None
            if not isinstance(vectors, list):
                raise RepositoryFileError(where, "must be a list of tests")
            for index, raw in enumerate(vectors):
                test = table(raw, where, "a test")
                given, expected = test.get("input"), test.get("expected")
                if not isinstance(given, dict) or not isinstance(expected, dict):
                    raise RepositoryFileError(
                        where, f"test {index + 1} needs input and expected objects"
                    )
                description = str(test.get("name") or f"{kind} test {index + 1}")
                examples.append(Example(description, kind, given, expected))
        except RepositoryFileError as problem:
            state.skip_problem(problem, context="its tests are not run: ")
    return examples
