"""The simulated apiserver's throwaway certificate."""

from __future__ import annotations

import builtins
import ssl
from pathlib import Path
from typing import Any

import pytest

from cockpit.sim.kube import tls


def handshake(certificate: tls.ServingCertificate, server_name: str) -> dict[str, Any]:
    """A TLS handshake in memory: the server's context against a client that trusts only
    the certificate's authority and checks ``server_name``; returns the peer certificate."""
    client_context = ssl.create_default_context(cadata=certificate.pem.decode())
    server_side = certificate.ssl_context()
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(client_in, client_out, server_hostname=server_name)
    server = server_side.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, end in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    end.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if all(done.values()):
            break
    peer = client.getpeercert()
    assert peer is not None
    return peer


@pytest.mark.parametrize("name", ["127.0.0.1", "::1", "localhost"])
def test_a_client_trusting_the_authority_accepts_the_apiserver_on_loopback(
    tmp_path: Path, name: str
) -> None:
    certificate = tls.self_signed(tmp_path)
    assert certificate.key.stat().st_mode & 0o777 == 0o600
    assert certificate.pem.startswith(b"-----BEGIN CERTIFICATE-----")
    peer = handshake(certificate, name)
    assert peer["subjectAltName"] == (
        ("IP Address", "127.0.0.1"),
        ("IP Address", "0:0:0:0:0:0:0:1"),
        ("DNS", "localhost"),
    )


def test_another_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls.self_signed(tmp_path), "example.com")


def test_missing_trustme_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_trustme(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "trustme":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trustme)
    with pytest.raises(tls.CertificateError, match="`trustme` package is not installed"):
        tls.self_signed(tmp_path)
