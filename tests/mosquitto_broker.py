"""A real Mosquitto broker for tests, started on a free loopback port with its own config.

Use the fixtures (registered for the whole suite in ``tests/conftest.py``):

- ``mosquitto``: a running broker that lets anyone in (``broker.url``, ``broker.port``);
- ``mosquitto_factory(users=..., tls=..., allow_anonymous=...)``: more brokers, e.g. with a
  password file (made by ``mosquitto_passwd``) or a TLS listener whose certificates
  ``make_tls_files`` generated with ``cryptography``;

and the helpers ``stop()`` (SIGTERM), ``kill()`` (SIGKILL, as a crash), ``pause()``/``resume()``
(SIGSTOP/SIGCONT: a broker that hangs), ``start()`` again on the same port and
``set_users()`` (new passwords, reloaded with SIGHUP); ``make_client_cert`` signs client
certificates with ``make_tls_files``'s CA. Every broker is
stopped at the end of its test. The ``mosquitto`` binary comes from
``scripts/ensure-mosquitto.sh``; without it these fixtures skip the test.

A broker killed after acknowledging a message (PUBACK) but before passing it on loses it: that
is the broker's loss, invisible to clients. Tests that kill a broker "mid-stream" and count
messages should ``pause()`` it first, so what is on the wire is unacknowledged when it dies.
"""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_START_TIMEOUT_S = 10.0


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found is None and os.access("/usr/sbin/mosquitto", os.X_OK):
        found = "/usr/sbin/mosquitto"
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class TLSFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    ca_key: Path | None = None  # to sign client certificates (``make_client_cert``)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_tls_files(directory: Path, *, common_name: str = "Test CA") -> TLSFiles:
    """A CA and a server certificate for ``localhost``/``127.0.0.1``, valid for a day."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TLSFiles(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "ca.key",
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files.server_key.write_bytes(_key_pem(server_key))
    files.server_key.chmod(0o600)
    assert files.ca_key is not None
    files.ca_key.write_bytes(_key_pem(ca_key))
    files.ca_key.chmod(0o600)
    return files


def make_client_cert(
    tls: TLSFiles, directory: Path, *, common_name: str = "client"
) -> tuple[Path, Path]:
    """A client certificate (and its key) signed by ``tls``'s CA, valid for a day: for a
    broker started with ``extra_config="require_certificate true"``."""
    assert tls.ca_key is not None, "make_tls_files wrote no CA key"
    ca_key = serialization.load_pem_private_key(tls.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_key_pem(key))
    key_path.chmod(0o600)
    return cert_path, key_path


class MosquittoBroker:
    """One ``mosquitto`` process on 127.0.0.1; ``start``/``stop``/``kill`` keep the port."""

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        users: Mapping[str, str] | None = None,
        tls: TLSFiles | None = None,
        allow_anonymous: bool | None = None,
        extra_config: str = "",
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            pytest.skip("mosquitto is not installed (scripts/ensure-mosquitto.sh)")
        self.binary = binary
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls = tls
        self.log_path = directory / "mosquitto.log"
        self.config_path = directory / "mosquitto.conf"
        self._process: subprocess.Popen[bytes] | None = None
        anonymous = not users if allow_anonymous is None else allow_anonymous
        lines = [
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'true' if anonymous else 'false'}",
            "persistence false",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # Test subscribers read in bursts; the broker must queue, not drop, QoS 1 messages,
            # and hand them on at once rather than 20 at a time (what it queues is lost when
            # a test kills it).
            "max_queued_messages 0",
            "max_queued_bytes 0",
            "max_inflight_messages 0",
        ]
        if os.geteuid() == 0:
            lines.append(f"user {getpass.getuser()}")  # do not drop to a user that cannot read
        if users:
            lines.append(f"password_file {self._password_file(users)}")
        if tls is not None:
            lines += [
                f"cafile {tls.ca_cert}",
                f"certfile {tls.server_cert}",
                f"keyfile {tls.server_key}",
            ]
        self.config_path.write_text("\n".join([*lines, extra_config, ""]))

    def _password_file(self, users: Mapping[str, str]) -> Path:
        tool = shutil.which("mosquitto_passwd")
        if tool is None:
            pytest.skip("mosquitto_passwd is not installed")
        path = self.directory / "passwords"
        path.touch(mode=0o600)
        for user, password in users.items():
            subprocess.run([tool, "-b", str(path), user, password], check=True, capture_output=True)
        path.chmod(0o600)
        return path

    @property
    def url(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        host = "localhost" if self.tls else self.host  # the certificate names localhost
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                _, stderr = self._process.communicate()
                raise RuntimeError(
                    f"mosquitto exited with {self._process.returncode}: "
                    f"{stderr.decode(errors='replace').strip()} {self.log()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"mosquitto did not listen on {self.port} in {_START_TIMEOUT_S} s")

    def _end(self, signum: int) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash (SIGKILL): clients see their connections drop."""
        self._end(signal.SIGKILL)

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open, nothing is answered."""
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        self.start()

    def set_users(self, users: Mapping[str, str]) -> None:
        """Replace the users of a broker made with ``users=`` and have it reload them
        (SIGHUP), e.g. a new password for a client whose token was renewed."""
        path = self.directory / "passwords"
        path.unlink(missing_ok=True)
        self._password_file(users)
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGHUP)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


BrokerFactory = Callable[..., MosquittoBroker]


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[BrokerFactory]:
    """``factory(users=None, tls=None, allow_anonymous=None, extra_config="")`` -> a started
    broker in its own directory under ``tmp_path``."""
    brokers: list[MosquittoBroker] = []

    def factory(**options: object) -> MosquittoBroker:
        broker = MosquittoBroker(tmp_path / f"mosquitto-{len(brokers)}", **options)  # type: ignore[arg-type]
        brokers.append(broker)
        broker.start()
        return broker

    yield factory
    for broker in brokers:
        broker.kill()


@pytest.fixture
def mosquitto(mosquitto_factory: BrokerFactory) -> MosquittoBroker:
    """A running broker on loopback that accepts anonymous clients."""
    return mosquitto_factory()
