"""A throwaway TLS certificate so that the simulated apiserver can be served over HTTPS.

kubectl (client-go) sends a kubeconfig user's credentials only over TLS: against an
``http://`` server it sends no ``Authorization`` header at all, so token checks (the
read-only user's 403, a bad token's 401) are only visible to kubectl over HTTPS, as
with a real apiserver. :func:`self_signed` makes a short-lived self-signed P-256
certificate for the loopback addresses with the ``openssl`` command; put its PEM in the
kubeconfig as ``certificate-authority-data`` and serve with :meth:`ssl_context`.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Names the certificate is valid for.
LOOPBACK_NAMES = ("IP:127.0.0.1", "IP:::1", "DNS:localhost")


class CertificateError(RuntimeError):
    """The certificate could not be made (no ``openssl``, or it failed)."""


@dataclass(frozen=True)
class ServingCertificate:
    certificate: Path
    key: Path

    @property
    def pem(self) -> bytes:
        """The certificate, which is also its own certificate authority."""
        return self.certificate.read_bytes()

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


def self_signed(directory: Path, *, days: int = 30) -> ServingCertificate:
    """Write ``apiserver.crt`` and ``apiserver.key`` (mode 0600) into ``directory``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertificateError(
            "cannot make a TLS certificate for the simulated apiserver: the `openssl` "
            "command is not installed"
        )
    directory.mkdir(parents=True, exist_ok=True)
    certificate = directory / "apiserver.crt"
    key = directory / "apiserver.key"
    command = [
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        str(days),
        "-subj",
        "/CN=cockpit-sim-apiserver",
        "-addext",
        "subjectAltName=" + ",".join(LOOPBACK_NAMES),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-keyout",
        str(key),
        "-out",
        str(certificate),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CertificateError(f"openssl could not make a certificate: {result.stderr.strip()}")
    key.chmod(0o600)
    return ServingCertificate(certificate, key)
