"""TLS and the `serve` command: the self-signed pair of `serve --init` (key 0600, never overwritten), the fingerprint
a desk pins (the one the running server presents), a client that does not trust the certificate refused, and
`serve` itself run as a separate process over TLS."""
from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.server import check_tls_pair, parse_listen
from api.tls import CERT_NAME, KEY_NAME, TlsFileError, fingerprint, fingerprint_of_der, generate_self_signed
from cli import serve_command
from models.db import head_revision
from services.errors import ValidationError
from tests.api_server.conftest import trusting

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str):
    parser = argparse.ArgumentParser()
    serve_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["serve", *argv])


def presented_certificate(url: str) -> bytes:
    host, port = url.removeprefix("https://").rsplit(":", 1)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # only to read what is presented
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)


def test_the_generated_key_is_owner_only_and_the_fingerprint_is_that_of_the_certificate_the_server_presents(
        served, tls_pair):
    _store, client = served
    assert stat.S_IMODE(os.stat(tls_pair.keyfile).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tls_pair.keyfile.parent).st_mode) == 0o700
    assert fingerprint(tls_pair.certfile) == tls_pair.fingerprint
    assert fingerprint_of_der(presented_certificate(str(client.base_url).rstrip("/"))) == tls_pair.fingerprint
    assert len(tls_pair.fingerprint.split(":")) == 32


def test_a_client_that_does_not_trust_the_certificate_is_refused_by_tls(served):
    _store, client = served
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{str(client.base_url).rstrip('/')}/api/health")  # the system's authorities only


def test_a_pair_is_never_overwritten(tls_pair):
    with pytest.raises(TlsFileError, match="existe déjà"):
        generate_self_signed(tls_pair.certfile.parent)


def test_serve_init_writes_the_pair_into_the_folder_and_prints_the_fingerprint(tmp_path, capsys):
    folder = tmp_path / "tls"
    assert serve_command.run(parse("--init", str(folder), "--name", "parcours.mairie.local",
                                   "--listen", "0.0.0.0:8443"), None) == 0
    out = capsys.readouterr().out
    assert check_tls_pair(folder / CERT_NAME, folder / KEY_NAME) in out
    assert f"Empreinte SHA-256 : {fingerprint(folder / CERT_NAME)}" in out
    from cryptography import x509

    names = x509.load_pem_x509_certificate((folder / CERT_NAME).read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert "parcours.mairie.local" in names.get_values_for_type(x509.DNSName)
    assert "0.0.0.0" not in {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    assert serve_command.run(parse("--init", str(folder)), None) == 2  # not twice
    assert "existe déjà" in capsys.readouterr().err


def test_serve_refuses_a_missing_certificate_in_french(tmp_path, capsys):
    assert serve_command.run(parse("--cert", str(tmp_path / "absent.crt"), "--key", str(tmp_path / "k")), None) == 2
    assert "est introuvable" in capsys.readouterr().err


def test_serve_refuses_a_key_that_is_not_the_certificates(tmp_path, tls_pair):
    other = generate_self_signed(tmp_path / "other")
    with pytest.raises(TlsFileError, match="ne vont pas ensemble"):
        check_tls_pair(tls_pair.certfile, other.keyfile)


@pytest.mark.parametrize("listen, expected", [("127.0.0.1:8443", ("127.0.0.1", 8443)), ("[::1]:9000", ("::1", 9000)),
                                              ("0.0.0.0:443", ("0.0.0.0", 443))])
def test_listen_addresses_are_read(listen, expected):
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["localhost", ":8443", "127.0.0.1:0", "127.0.0.1:99999", "[zz::]:8443"])
def test_unreadable_listen_addresses_are_refused_in_french(listen):
    with pytest.raises(ValidationError, match="illisible"):
        parse_listen(listen)


SERVE = """
import argparse, sys
sys.path.insert(0, {root!r})
from cli import serve_command
from models.db import make_engine, migrate
from services.uow import unit_of_work_factory
engine = make_engine({db!r})
migrate(engine)
parser = argparse.ArgumentParser()
serve_command.add_parser(parser.add_subparsers(dest="command"))
args = parser.parse_args(["serve", "--listen", "127.0.0.1:{port}", "--cert", {cert!r}, "--key", {key!r}])
sys.exit(serve_command.run(args, unit_of_work_factory(engine)))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_api_over_tls_in_its_own_process_and_stops_on_sigterm(tmp_path, tls_pair):
    port = _free_port()
    script = SERVE.format(root=str(ROOT), db=str(tmp_path / "serveur.sqlite"), port=port,
                          cert=str(tls_pair.certfile), key=str(tls_pair.keyfile))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline, answer = time.monotonic() + 30, None
        with httpx.Client(verify=trusting(tls_pair.certfile), timeout=5) as client:
            while answer is None:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve n'a pas répondu"
                try:
                    answer = client.get(f"https://127.0.0.1:{port}/api/health")
                except httpx.TransportError:
                    time.sleep(0.1)
        assert answer.json() == {"status": "ok", "application": "Parcours", "schema": head_revision()}
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then raises the signal it caught again: the exit a service manager expects
    assert process.returncode in (0, -signal.SIGTERM), err
    assert f"https://127.0.0.1:{port}" in out and tls_pair.fingerprint in out
    assert "Traceback" not in err
