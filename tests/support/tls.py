"""A throwaway certificate authority and a server certificate for 127.0.0.1, written to files, and
a token table file: what a hosted TLS coordinator under test needs."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass
class TlsFiles:
    ca: trustme.CA
    cert: Path  # server key and certificate chain (the sidecar's --cert)
    key: Path  # the sidecar's --key
    ca_pem: Path  # what a client trusts (SSL_CERT_FILE)

    def sidecar_args(self) -> tuple[str, ...]:
        return ("--tls", "--cert", str(self.cert), "--key", str(self.key))

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx


def tls_files(directory: Path) -> TlsFiles:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(ca, directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    issued.private_key_and_cert_chain_pem.write_to_path(str(files.cert))
    issued.private_key_pem.write_to_path(str(files.key))
    ca.cert_pem.write_to_path(str(files.ca_pem))
    return files


def token_table(directory: Path, table: dict[str, dict[str, list[str]]]) -> Path:
    path = directory / "tokens.json"
    path.write_text(json.dumps(table))
    return path
