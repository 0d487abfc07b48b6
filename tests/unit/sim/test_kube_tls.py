"""The simulated apiserver's throwaway certificate."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from cockpit.sim.kube import tls


def test_certificate_is_its_own_authority_for_loopback(tmp_path: Path) -> None:
    certificate = tls.self_signed(tmp_path)
    assert certificate.key.stat().st_mode & 0o777 == 0o600
    assert certificate.pem.startswith(b"-----BEGIN CERTIFICATE-----")
    client = ssl.create_default_context(cadata=certificate.pem.decode())
    assert client.get_ca_certs()[0]["subjectAltName"][0] == ("IP Address", "127.0.0.1")
    assert isinstance(certificate.ssl_context(), ssl.SSLContext)


def test_missing_openssl_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(tls.CertificateError, match="`openssl` command is not installed"):
        tls.self_signed(tmp_path)
