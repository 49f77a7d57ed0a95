"""TLS with client certificates: the certificate's CommonName must be the gateway's EUI."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidStatus

from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendError
from hal.basic_station import BasicStationBackend, parse_options
from hal.basic_station.emulator import StationEmulator, discover

GATEWAY = EUI64("0001000200030004")
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def _certificate(
    directory: Path,
    name: str,
    common_name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_name, signing_key = (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(START + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if name == "server":
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    certificate = builder.sign(signing_key, hashes.SHA256())
    (directory / f"{name}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate, key


@pytest.fixture
async def tls_backend(tmp_path: Path) -> AsyncIterator[tuple[BasicStationBackend, Path]]:
    ca = _certificate(tmp_path, "ca", "test CA")
    _certificate(tmp_path, "server", "127.0.0.1", ca)
    _certificate(tmp_path, "station", "1:2:3:4", ca)
    _certificate(tmp_path, "impostor", "0102030405060708", ca)
    backend = BasicStationBackend(
        parse_options(
            {
                "bind": "127.0.0.1:0",
                "tls_cert": str(tmp_path / "server.pem"),
                "tls_key": str(tmp_path / "server.key"),
                "tls_client_ca": str(tmp_path / "ca.pem"),
            }
        )
    )
    await backend.start()
    yield backend, tmp_path
    await backend.stop()


def _client(directory: Path, name: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    context.load_cert_chain(str(directory / f"{name}.pem"), str(directory / f"{name}.key"))
    return context


async def test_client_certificate_must_name_the_gateway(
    tls_backend: tuple[BasicStationBackend, Path],
) -> None:
    backend, directory = tls_backend
    base = f"wss://127.0.0.1:{backend.port}"
    answer = await discover(
        f"{base}/router-info", "1:2:3:4", ssl_context=_client(directory, "station")
    )
    assert answer["uri"] == f"{base}/gateway/0001000200030004"
    answer = await discover(
        f"{base}/router-info", "1:2:3:4", ssl_context=_client(directory, "impostor")
    )
    assert "certificate" in answer["error"]

    uri = f"{base}/gateway/{GATEWAY}"
    with pytest.raises(InvalidStatus) as refused:
        await StationEmulator.connect(uri, GATEWAY, ssl_context=_client(directory, "impostor"))
    assert refused.value.response.status_code == 403
    async with await StationEmulator.connect(
        uri, GATEWAY, ssl_context=_client(directory, "station")
    ) as station:
        assert (await station.hello())["msgtype"] == "router_config"
    assert backend.drop_counts["refused_connection"] == 1


async def test_missing_certificate_files_fail_start(tmp_path: Path) -> None:
    backend = BasicStationBackend(
        parse_options(
            {
                "bind": "127.0.0.1:0",
                "tls_cert": str(tmp_path / "no.pem"),
                "tls_key": str(tmp_path / "no.key"),
            }
        )
    )
    with pytest.raises(BackendError, match="TLS"):
        await backend.start()
