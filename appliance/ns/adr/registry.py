"""ADR algorithms by id: the built-in ones plus whatever a plug-in registers.

A plug-in is any object with ``id``, ``name`` and ``decide`` (see ``ADRAlgorithm``); it calls
``register_algorithm`` when its module is imported, and device profiles then name its id.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.lorawan.errors import InvalidValueError
from appliance.ns.adr.algorithm import ADRAlgorithm, ADRRequest, ADRResult
from appliance.ns.adr.default import DefaultADR, KeepCurrentADR


class UnknownADRAlgorithmError(InvalidValueError):
    """A device profile names an ADR algorithm nobody registered."""


@dataclass(frozen=True, slots=True)
class ADRDecision:
    """What ``ADRRegistry.decide`` made of a request: the result, and why it is the current
    settings when the algorithm could not run (``error`` is None when it ran)."""

    result: ADRResult
    error: str | None = None


class ADRRegistry:
    def __init__(self, algorithms: tuple[ADRAlgorithm, ...] = ()) -> None:
        self._algorithms: dict[str, ADRAlgorithm] = {}
        for algorithm in algorithms:
            self.register(algorithm)

    def register(self, algorithm: ADRAlgorithm, *, replace: bool = False) -> None:
        """Add ``algorithm`` under its id; an id already taken needs ``replace=True``."""
        key = algorithm.id
        if not key or key != key.strip():
            raise InvalidValueError(f"an ADR algorithm id must be a non-blank word, got {key!r}")
        if key in self._algorithms and not replace:
            raise InvalidValueError(f"an ADR algorithm with id {key!r} is already registered")
        self._algorithms[key] = algorithm

    def unregister(self, algorithm_id: str) -> None:
        self._algorithms.pop(algorithm_id, None)

    def get(self, algorithm_id: str) -> ADRAlgorithm:
        try:
            return self._algorithms[algorithm_id]
        except KeyError:
            known = ", ".join(sorted(self._algorithms))
            raise UnknownADRAlgorithmError(
                f"no ADR algorithm {algorithm_id!r} (known: {known})"
            ) from None

    def names(self) -> dict[str, str]:
        """Id -> human name of every registered algorithm (for the API and the UI)."""
        return {key: algorithm.name for key, algorithm in sorted(self._algorithms.items())}

    def decide(self, algorithm_id: str, request: ADRRequest) -> ADRDecision:
        """Run an algorithm; on an unknown id or a failing plug-in keep the current settings,
        as ChirpStack does, so that a bad plug-in can never break the uplink flow."""
        try:
            algorithm = self.get(algorithm_id)
        except UnknownADRAlgorithmError as error:
            return ADRDecision(ADRResult.unchanged(request), str(error))
        try:
            result = algorithm.decide(request)
        except Exception as error:  # plug-in code: any failure is contained
            return ADRDecision(
                ADRResult.unchanged(request),
                f"ADR algorithm {algorithm_id!r} failed: {type(error).__name__}: {error}",
            )
        return ADRDecision(result)


def builtin_registry() -> ADRRegistry:
    """A registry holding the built-in algorithms only (tests build their own this way)."""
    return ADRRegistry((DefaultADR(), KeepCurrentADR()))


# The process-wide registry the MAC engine uses unless given another one.
ALGORITHMS = builtin_registry()


def register_algorithm(algorithm: ADRAlgorithm, *, replace: bool = False) -> None:
    """Make ``algorithm`` available to device profiles under ``algorithm.id``."""
    ALGORITHMS.register(algorithm, replace=replace)
