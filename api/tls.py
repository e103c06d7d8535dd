"""TLS for the team server: a self-signed certificate and its key for `serve --init`, and the SHA-256 fingerprint that
a desk pins on its first connection (the IT reads it out, or compares it, once).

The IT may give its own certificate and key instead; then nothing here is used but `fingerprint`.
The key is an ECDSA P-256 key (small, fast, accepted by every TLS 1.2+ client), written unencrypted — the server
must start unattended — in a file readable by its owner only (0600), created so from the start, never overwritten.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from services.errors import DomainError

CERT_NAME, KEY_NAME = "parcours-serveur.crt", "parcours-serveur.key"
VALIDITY = timedelta(days=5 * 365)  # a pinned certificate is renewed by hand: not every year


class TlsFileError(DomainError):
    """A certificate or key file that cannot be written or read; the message says which, in French."""


@dataclass(frozen=True)
class TlsPair:
    certfile: Path
    keyfile: Path
    fingerprint: str


def fingerprint_of_der(der: bytes) -> str:
    """« AB:CD:… »: SHA-256 of the certificate (DER), in the form `openssl x509 -fingerprint -sha256` prints."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def fingerprint(certfile: str | os.PathLike) -> str:
    """The fingerprint of the (first) certificate of a PEM file."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certificate = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    except OSError as exc:
        raise TlsFileError(f"Le certificat « {certfile} » ne peut pas être lu ({exc.strerror or exc}).") from None
    except ValueError:
        raise TlsFileError(f"Le fichier « {certfile} » n'est pas un certificat PEM.") from None
    return fingerprint_of_der(certificate.public_bytes(Encoding.DER))


def _alternative_names(hostnames: Iterable[str]):
    from cryptography import x509

    names, seen = [], set()
    for name in ("localhost", socket.gethostname(), "127.0.0.1", "::1", *hostnames):
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            names.append(x509.DNSName(name))
        else:
            if not address.is_unspecified:  # 0.0.0.0 / :: are where it listens, never what a client dials
                names.append(x509.IPAddress(address))
    return names


def generate_self_signed(folder: str | os.PathLike, hostnames: Iterable[str] = (), *,
                         now: datetime | None = None) -> TlsPair:
    """Write CERT_NAME and KEY_NAME into `folder` (created 0700): a certificate for `hostnames` (names or IP
    addresses the desks will dial), localhost and this machine's name. Refuses to overwrite an existing pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    certfile, keyfile = folder / CERT_NAME, folder / KEY_NAME
    for path in (certfile, keyfile):
        if path.exists():
            raise TlsFileError(f"« {path} » existe déjà : Parcours ne remplace pas un certificat ou une clé. "
                               "Choisissez un autre dossier, ou retirez l'ancienne paire vous-même.")
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(hostnames)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names[0] if names else socket.gethostname())[:64]
                                            or "Parcours"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Parcours (serveur d'équipe)")])
    start = (now or datetime.now(timezone.utc)) - timedelta(days=1)  # a desk whose clock is a little behind
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_alternative_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256()))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_new(keyfile, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), 0o600)
        _write_new(certfile, certificate.public_bytes(Encoding.PEM), 0o644)
    except OSError as exc:
        raise TlsFileError(f"Le certificat ou la clé n'a pas pu être écrit dans « {folder} » "
                           f"({exc.strerror or exc}).") from None
    return TlsPair(certfile, keyfile, fingerprint_of_der(certificate.public_bytes(Encoding.DER)))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Created with its final mode (never readable by others, even for an instant) and never over another file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, mode)  # the umask may have taken bits off the certificate's 0644
