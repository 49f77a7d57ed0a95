"""TLS for MQTT targets: the context from CA and client certificates (file names or PEM
text), and one-line, classified errors for whatever goes wrong on a connection."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any

from appliance.mqtt_failures import describe_failure


class LinkError(Exception):
    """A connection failed or ended; ``kind`` labels it for the metrics."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # auth, refused, tls, timeout, dns, closed


def _is_pem(value: str) -> bool:
    return value.lstrip().startswith("-----BEGIN")


class TrackingContext(ssl.SSLContext):
    """Remembers the sockets it wrapped: paho leaves the socket of a failed TLS handshake
    open (it never came to own it), so ``close_sockets`` closes it."""

    _wrapped: list[ssl.SSLSocket]

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        sock = super().wrap_socket(*args, **kwargs)
        if not hasattr(self, "_wrapped"):
            self._wrapped = []
        self._wrapped.append(sock)
        return sock

    def close_sockets(self) -> None:
        for sock in getattr(self, "_wrapped", ()):
            sock.close()


def _load_chain(context: ssl.SSLContext, cert: str, key: str) -> None:
    if not _is_pem(cert) and not _is_pem(key):
        context.load_cert_chain(cert, key)
        return
    # PEM text (from the API): ssl reads key pairs only from files, so they go to a private
    # temporary directory for as long as loading takes.
    with tempfile.TemporaryDirectory(prefix="appliance-tls-") as directory:
        paths = []
        for name, value in (("cert.pem", cert), ("key.pem", key)):
            if not _is_pem(value):
                paths.append(value)
                continue
            path = Path(directory) / name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(value)
            paths.append(str(path))
        context.load_cert_chain(paths[0], paths[1])


def tls_context(ca_cert: str, tls_cert: str, tls_key: str) -> TrackingContext:
    """A client context that checks the server's certificate and name; ``ValueError`` with
    one line when a file cannot be read or is not what it should be."""
    try:
        context = TrackingContext(ssl.PROTOCOL_TLS_CLIENT)
        if not ca_cert:
            context.load_default_certs()
        elif _is_pem(ca_cert):
            context.load_verify_locations(cadata=ca_cert)
        else:
            context.load_verify_locations(cafile=ca_cert)
        if tls_cert:
            _load_chain(context, tls_cert, tls_key)
    except (OSError, ssl.SSLError, ValueError) as error:
        raise ValueError(f"cannot load the TLS files: {error}") from None
    return context


def link_error(error: BaseException) -> LinkError:
    """The ``LinkError`` of an aiomqtt, socket or TLS failure."""
    if isinstance(error, LinkError):
        return error
    return LinkError(*describe_failure(error, fallback="connection lost"))


def close_quietly(context: ssl.SSLContext | None) -> None:
    if isinstance(context, TrackingContext):
        with contextlib.suppress(OSError):
            context.close_sockets()
