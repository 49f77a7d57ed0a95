"""Import from a checkout of The Things Network's device repository (``lorawan-devices``).

Layout read:

    vendor/index.yaml                  vendors: [{id, name, vendorID, draft}]
    vendor/<vendor>/index.yaml         endDevices: [<device>, ...]
    vendor/<vendor>/<device>.yaml      name, description, firmwareVersions: [{version,
                                       profiles: {<band>: {id, codec, vendorID?}}}]
    vendor/<vendor>/<profile>.yaml     macVersion, regionalParametersVersion, supportsJoin,
                                       supportsClassB/C, maxEIRP, rx1Delay... (ABP), ...
    vendor/<vendor>/<codec>.yaml       uplinkDecoder / downlinkEncoder / downlinkDecoder:
                                       {fileName, examples: [{description, input, output}]}
    vendor/<vendor>/<file>.js          the codec's JavaScript

A profile with ``vendorID`` lives in that vendor's folder (modules used by other vendors). A
vendor listed in the index without a folder has no devices (most of the real index) and is
passed over quietly; draft vendors (the ``example`` vendor) are skipped and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.codecs.errors import RepositoryError
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

_CODEC_PARTS: tuple[tuple[str, ExampleKind], ...] = (
    ("uplinkDecoder", "uplink-decode"),
    ("downlinkEncoder", "downlink-encode"),
    ("downlinkDecoder", "downlink-decode"),
)


@dataclass
class _Import:
    repo: Repository
    sandbox: JSSandbox | None
    now: datetime
    devices: list[ImportedDevice] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    profiles: dict[Path, ImportedProfile | RepositoryFileError] = field(default_factory=dict)
    codecs: dict[Path, ImportedCodec | RepositoryFileError] = field(default_factory=dict)

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append(Skipped(path, reason))

    def skip_problem(self, problem: RepositoryFileError, *, context: str = "") -> None:
        self.skip(problem.path, f"{context}{problem.reason}")


def load_ttn_repository(
    path: str | Path,
    *,
    sandbox: JSSandbox | None = None,
    run_examples: bool = True,
    now: datetime | None = None,
) -> RepositoryImport:
    """Every device, firmware version and region of the repository at ``path``.

    Each codec's examples run through ``sandbox`` (one is started for the import when none is
    given) unless ``run_examples`` is false; ``now`` is the receive time of examples that give
    none. Raises ``RepositoryError`` only when ``path`` is not such a repository at all.
    """
    root = Path(path)
    index_path = root / "vendor" / "index.yaml"
    if not index_path.is_file():
        raise RepositoryError(
            f"{root} is not a TTN device repository: vendor/index.yaml is missing"
        )
    own_sandbox = JSSandbox(workers=1) if run_examples and sandbox is None else None
    state = _Import(Repository(root), sandbox or own_sandbox, now or datetime.now(UTC))
    if not run_examples:
        state.sandbox = None
    try:
        _load(state, index_path)
    finally:
        if own_sandbox is not None:
            own_sandbox.close()
    return RepositoryImport("ttn", str(state.repo.root), tuple(state.devices), tuple(state.skipped))


def _load(state: _Import, index_path: Path) -> None:
    repo = state.repo
    try:
        index = table(repo.yaml(index_path), repo.relative(index_path), "the vendor index")
        vendors = listing(index, "vendors", repo.relative(index_path))
    except RepositoryFileError as problem:
        raise RepositoryError(f"the vendor index is unusable: {problem}") from None
    vendor_root = index_path.parent
    for number_in_index, entry in enumerate(vendors):
        where = f"{repo.relative(index_path)} (vendor {number_in_index + 1})"
        try:
            vendor = table(entry, where, "a vendor")
            vendor_id = string(vendor, "id", where)
            vendor_name = string(vendor, "name", where, default=vendor_id)
            vendor_dir = repo.inside(vendor_root, vendor_id, index_path)
        except RepositoryFileError as problem:
            state.skip_problem(problem)
            continue
        if not (vendor_dir / "index.yaml").is_file():
            continue  # a vendor without devices in the repository
        if vendor.get("draft") is True:
            state.skip(repo.relative(vendor_dir), "a draft vendor")
            continue
        _load_vendor(state, vendor_dir, vendor_id, vendor_name)


def _load_vendor(state: _Import, vendor_dir: Path, vendor_id: str, vendor_name: str) -> None:
    repo = state.repo
    index_path = vendor_dir / "index.yaml"
    try:
        index = table(repo.yaml(index_path), repo.relative(index_path), "a device index")
        device_ids = listing(index, "endDevices", repo.relative(index_path))
    except RepositoryFileError as problem:
        state.skip_problem(problem, context="the vendor's devices are skipped: ")
        return
    for device_id in dict.fromkeys(d for d in device_ids if isinstance(d, str)):
        try:
            device_path = repo.inside(vendor_dir, f"{device_id}.yaml", index_path)
            _load_device(
                state,
                vendor_dir,
                device_path,
                vendor_id=vendor_id,
                vendor_name=vendor_name,
                device_id=device_id,
            )
        except RepositoryFileError as problem:
            state.skip_problem(problem)


def _load_device(
    state: _Import,
    vendor_dir: Path,
    device_path: Path,
    *,
    vendor_id: str,
    vendor_name: str,
    device_id: str,
) -> None:
    repo = state.repo
    where = repo.relative(device_path)
    device = table(repo.yaml(device_path), where, "a device")
    name = string(device, "name", where)
    description = string(device, "description", where, default="")
    for entry in listing(device, "firmwareVersions", where):
        try:
            firmware = table(entry, where, "a firmware version")
            version = string(firmware, "version", where)
            profiles = table(firmware.get("profiles") or {}, where, "profiles")
        except RepositoryFileError as problem:
            state.skip_problem(problem)
            continue
        for band, reference in profiles.items():
            try:
                ref = table(reference, where, f"the {band} profile")
                profile = _profile(state, vendor_dir, ref, where, str(band))
                codec = _codec(state, vendor_dir, ref, where)
            except RepositoryFileError as problem:
                state.skip_problem(problem, context=f"{device_id} {version} {band}: ")
                continue
            try:
                names = regions(str(band), ttn=True)
            except UnsupportedValueError as exc:
                state.skip(where, f"firmware {version}: {exc}")
                continue
            for region in names:
                state.devices.append(
                    ImportedDevice(
                        vendor_id=vendor_id,
                        vendor_name=vendor_name,
                        device_id=device_id,
                        name=name,
                        description=description,
                        firmware_version=version,
                        profile=_in_region(profile, region),
                        codec=codec,
                    )
                )


def _in_region(profile: ImportedProfile, region: str) -> ImportedProfile:
    return ImportedProfile(**{**_fields(profile), "region": region})


def _fields(profile: ImportedProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in ImportedProfile.__dataclass_fields__}


def _profile(
    state: _Import, vendor_dir: Path, ref: dict[str, Any], where: str, band: str
) -> ImportedProfile:
    repo = state.repo
    profile_id = string(ref, "id", where)
    owner = ref.get("vendorID")
    folder = repo.inside(vendor_dir.parent, str(owner), vendor_dir) if owner else vendor_dir
    path = repo.inside(folder, f"{profile_id}.yaml", vendor_dir / where)
    cached = state.profiles.get(path)
    if cached is None:
        try:
            cached = _read_profile(repo, path, profile_id)
        except RepositoryFileError as problem:
            cached = problem
        state.profiles[path] = cached
    if isinstance(cached, RepositoryFileError):
        raise cached
    return ImportedProfile(**{**_fields(cached), "region": band})


def _read_profile(repo: Repository, path: Path, profile_id: str) -> ImportedProfile:
    where = repo.relative(path)
    data = table(repo.yaml(path), where, "a profile")
    revision = string(data, "regionalParametersVersion", where)
    try:
        mac = mac_version(string(data, "macVersion", where))
        revision_here = reg_params_revision(revision)
    except UnsupportedValueError as exc:
        raise RepositoryFileError(where, str(exc)) from None
    rx2 = number(data, "rx2Frequency", where)  # MHz
    return ImportedProfile(
        id=profile_id,
        region="",
        mac_version=mac,
        regional_parameters=revision,
        reg_params_revision=revision_here,
        supports_otaa=flag(data, "supportsJoin", where),
        supports_class_b=flag(data, "supportsClassB", where),
        supports_class_c=flag(data, "supportsClassC", where),
        max_eirp=number(data, "maxEIRP", where),
        abp_rx1_delay_s=whole(data, "rx1Delay", where),
        abp_rx1_dr_offset=whole(data, "rx1DataRateOffset", where),
        abp_rx2_dr=whole(data, "rx2DataRateIndex", where),
        abp_rx2_frequency=round(rx2 * 1_000_000) if rx2 is not None else None,
        class_b_timeout_s=whole(data, "classBTimeout", where),
        class_c_timeout_s=whole(data, "classCTimeout", where),
    )


def _codec(
    state: _Import, vendor_dir: Path, ref: dict[str, Any], where: str
) -> ImportedCodec | None:
    codec_id = ref.get("codec")
    if not codec_id:
        return None
    path = state.repo.inside(vendor_dir, f"{codec_id}.yaml", vendor_dir / where)
    if path not in state.codecs:
        try:
            state.codecs[path] = _read_codec(state, vendor_dir, path, str(codec_id))
        except RepositoryFileError as problem:
            # The devices are still worth having; the codec can be fixed and set later.
            state.codecs[path] = problem
            state.skip_problem(problem, context="devices using this codec get none: ")
    cached = state.codecs[path]
    return None if isinstance(cached, RepositoryFileError) else cached


def _read_codec(state: _Import, vendor_dir: Path, path: Path, codec_id: str) -> ImportedCodec:
    repo = state.repo
    where = repo.relative(path)
    data = table(repo.yaml(path), where, "a codec")
    files: dict[Path, str] = {}
    examples: list[Example] = []
    for key, kind in _CODEC_PARTS:
        if data.get(key) is None:
            continue
        part = table(data[key], where, key)
        script_path = repo.inside(vendor_dir, string(part, "fileName", where), path)
        if script_path not in files:
            files[script_path] = repo.text(script_path)
        examples += _examples(part, kind, where)
    if not files:
        raise RepositoryFileError(
            where, "names no uplinkDecoder, downlinkEncoder or downlinkDecoder file"
        )
    script = "\n".join(files.values())
    results: tuple[ExampleResult, ...] = ()
    if state.sandbox is not None and examples:
        results = run_examples(state.sandbox, script, examples, now=state.now)
    return ImportedCodec(
        codec_id, script, tuple(repo.relative(p) for p in files), self_tests=results
    )


def _examples(part: dict[str, Any], kind: ExampleKind, where: str) -> list[Example]:
    out = []
    for number_in_list, raw in enumerate(listing(part, "examples", where)):
        example = table(raw, where, "an example")
        description = str(example.get("description") or f"{kind} example {number_in_list + 1}")
        given = example.get("input")
        expected = example.get("output")
        if not isinstance(given, dict) or not isinstance(expected, dict):
            raise RepositoryFileError(
                where, f"example {description!r} needs an input and an output mapping"
            )
        out.append(Example(description, kind, given, expected))
    return out
