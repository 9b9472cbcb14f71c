"""Test certificates from trustme: one trusted CA for every test host, and a CA nobody trusts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class CertFiles:
    """A leaf certificate (chain included) and its key, written as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Certs:
    ca_file: Path  # the bundle a client passes as --ca-file
    good: CertFiles  # for every name in `names`, signed by the trusted CA
    untrusted: CertFiles  # for the same names, signed by a CA the client does not know


def make_certs(folder: Path, names: list[str]) -> Certs:
    """Write the CA bundle and both leaf certificates into `folder`."""
    trusted, stranger = trustme.CA(), trustme.CA()
    ca_file = folder / "ca.pem"
    trusted.cert_pem.write_to_path(str(ca_file))
    files = []
    for label, ca in (("good", trusted), ("untrusted", stranger)):
        leaf = ca.issue_cert(*names)
        cert, key = folder / f"{label}-cert.pem", folder / f"{label}-key.pem"
        leaf.private_key_pem.write_to_path(str(key))
        cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        files.append(CertFiles(cert, key))
    return Certs(ca_file, files[0], files[1])
