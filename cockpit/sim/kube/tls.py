"""A throwaway TLS certificate so that the simulated apiserver can be served over HTTPS.

kubectl (client-go) sends a kubeconfig user's credentials only over TLS: against an
``http://`` server it sends no ``Authorization`` header at all, so token checks (the
read-only user's 403, a bad token's 401) are only visible to kubectl over HTTPS, as
with a real apiserver. :func:`self_signed` makes a throwaway certificate authority and
a P-256 serving certificate for the loopback addresses with ``trustme``; put
:attr:`ServingCertificate.pem` (the authority) in the kubeconfig as
``certificate-authority-data`` and serve with :meth:`ServingCertificate.ssl_context`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

#: Names the serving certificate is valid for (its subjectAltName entries).
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")


class CertificateError(RuntimeError):
    """The certificate could not be made (``trustme`` is missing, or it failed)."""


@dataclass(frozen=True)
class ServingCertificate:
    #: The serving certificate followed by its authority (the chain the server sends).
    certificate: Path
    key: Path
    authority: Path

    @property
    def pem(self) -> bytes:
        """The certificate authority a client trusts (the kubeconfig's)."""
        return self.authority.read_bytes()

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context


def self_signed(directory: Path) -> ServingCertificate:
    """Write ``apiserver.crt``, ``apiserver.key`` (mode 0600) and ``ca.crt`` into ``directory``."""
    try:
        import trustme  # deferred: only the simulator's apiserver needs it
    except ImportError as error:
        raise CertificateError(
            "cannot make a TLS certificate for the simulated apiserver: the `trustme` "
            "package is not installed"
        ) from error
    directory.mkdir(parents=True, exist_ok=True)
    certificate = directory / "apiserver.crt"
    key = directory / "apiserver.key"
    authority = directory / "ca.crt"
    ca = trustme.CA(organization_name="cockpit simulator")
    leaf = ca.issue_cert(*LOOPBACK_NAMES, common_name="cockpit-sim-apiserver")
    key.touch(mode=0o600)
    key.chmod(0o600)
    leaf.private_key_pem.write_to_path(str(key))
    certificate.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    ca.cert_pem.write_to_path(str(authority))
    return ServingCertificate(certificate, key, authority)
