"""Test material for MQTT security: a throwaway CA with a broker and a client certificate
(``openssl``), a mosquitto password file (``mosquitto_passwd -b``) and ACL file."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.integration._daemon_base import require_binary

__all__ = ["Pki", "make_pki", "password_file"]

_DAYS = "2"


@dataclass(frozen=True, slots=True)
class Pki:
    """A CA, a broker certificate for 127.0.0.1 and a client certificate, all PEM."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    """A CA that signed none of these (a wrong ``--mqtt-ca``)."""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(
        [require_binary("openssl"), *args], cwd=cwd, check=True, capture_output=True, timeout=60
    )


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", _DAYS, "-subj", f"/CN={name}",
        "-keyout", str(key), "-out", str(cert), cwd=directory,
    )  # fmt: skip
    return cert, key


def _leaf(directory: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    cert, key, csr = directory / f"{name}.pem", directory / f"{name}.key", directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text(extensions)
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(csr), cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", _DAYS, "-extfile", str(ext), "-out", str(cert),
        cwd=directory,
    )  # fmt: skip
    return cert, key


def make_pki(directory: Path) -> Pki:
    """Generate the certificates in ``directory`` (a few tens of milliseconds)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "ca")
    other, _ = _ca(directory, "other-ca")
    server = _leaf(directory, "broker", ca, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    client = _leaf(directory, "client", ca, "extendedKeyUsage=clientAuth\n")
    return Pki(ca[0], server[0], server[1], client[0], client[1], other)


def password_file(path: Path, users: dict[str, str]) -> Path:
    """A mosquitto password file holding ``users`` (``mosquitto_passwd -b``)."""
    binary = require_binary("mosquitto_passwd")
    path.touch(mode=0o600)
    for user, password in users.items():
        subprocess.run(
            [binary, "-b", str(path), user, password], check=True, capture_output=True, timeout=30
        )
    return path
