"""One PostgreSQL connection that reconnects by itself, fails fast while the database is down, and
never lets a credential reach a log line or an error message.

Every psycopg error that leaves this module is turned into a StoreError whose text went through
`redact()`: the password of the connection URL (and anything shaped like `user:secret@` or
`password=...`) is replaced with `***`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors as pgerrors

from bridge.store.base import StoreError, StoreUnavailable

log = logging.getLogger("mpac.store")
T = TypeVar("T")

_USERINFO = re.compile(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@", re.IGNORECASE)
_KEYWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class StoreUrlError(StoreError):
    """The --store / MPAC_STORE_URL value is not a usable PostgreSQL URL (said without echoing it)."""


def parse_store_url(url: str) -> dict[str, str | None]:
    """Check a `postgresql://` URL ourselves before libpq sees it, so a malformed one is refused
    with a message that does not repeat it (libpq's own messages may quote parts of it)."""
    if not isinstance(url, str) or not re.match(r"^postgres(?:ql)?://", url, re.IGNORECASE):
        raise StoreUrlError(
            "the store URL must start with postgresql:// (e.g. postgresql://mpac@db.internal/mpac)"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise StoreUrlError("the store URL is malformed (check the host and port)") from None
    password = parts.password
    if password is not None and re.search(r"%(?![0-9A-Fa-f]{2})", password):
        raise StoreUrlError(
            "the password in the store URL is not valid percent-encoding (encode % as %25)"
        )
    return {
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(password) if password is not None else None,
        "host": parts.hostname,
        "port": str(port) if port else None,
        "dbname": parts.path.lstrip("/") or None,
    }


def safe_url(url: str) -> str:
    """The URL with its password replaced by *** (for logs and `fleet status`)."""
    return _USERINFO.sub(r"\1:***@", url)


class Redactor:
    """Removes one URL's password (raw and percent-encoded) from any text."""

    def __init__(self, url: str) -> None:
        secrets: list[str] = []
        try:
            raw = urlsplit(url).password
        except ValueError:
            raw = None
        if raw:
            secrets += [raw, unquote(raw)]
        self.secrets = sorted({s for s in secrets if len(s) >= 1}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _USERINFO.sub(r"\1:***@", text)
        return _KEYWORD.sub(r"\1***", text)


def describe_error(exc: BaseException, redact: Callable[[str], str]) -> str:
    """psycopg's message on one line, credentials removed."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text)


class PgLink:
    """A lazily (re)opened autocommit connection. While the database is unreachable, calls fail
    immediately for `retry_after` seconds after each failed attempt (no event-loop stall per
    message), then one call tries to reconnect."""

    def __init__(
        self,
        url: str,
        application_name: str,
        *,
        connect_timeout: float = 3.0,
        retry_after: float = 1.0,
        on_connect: Callable[[psycopg.Connection[Any]], None] | None = None,
    ) -> None:
        self.params = parse_store_url(url)
        self.url = url
        self.redact = Redactor(url)
        self.where = safe_url(url)
        self.application_name = application_name[:63]
        self.connect_timeout = connect_timeout
        self.retry_after = retry_after
        self.on_connect = on_connect
        self.conn: psycopg.Connection[Any] | None = None
        self.failed_at: float | None = None
        self.last_error = ""
        self.lock = threading.Lock()

    def _open(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=max(1, round(self.connect_timeout)),
            application_name=self.application_name,
            # a database that stops answering fails a call within seconds, not the TCP timeout
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
            tcp_user_timeout=int(self.connect_timeout * 2000),
            options="-c statement_timeout=15000",
        )
        if self.on_connect is not None:
            self.on_connect(conn)
        return conn

    def connection(self) -> psycopg.Connection[Any]:
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return self.conn
        self._discard()
        if self.failed_at is not None and time.monotonic() - self.failed_at < self.retry_after:
            raise StoreUnavailable(
                f"PostgreSQL at {self.where} is unreachable ({self.last_error}); retrying"
            )
        try:
            self.conn = self._open()
        except psycopg.Error as exc:
            self._failed(exc)
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {self.where}: {self.last_error}"
            ) from None
        if self.failed_at is not None:
            log.info("PostgreSQL at %s is reachable again", self.where)
        self.failed_at = None
        return self.conn

    def _failed(self, exc: BaseException) -> None:
        self.failed_at = time.monotonic()
        self.last_error = describe_error(exc, self.redact)

    def _discard(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(
                Exception
            ):  # a broken connection may fail to close; it is gone anyway
                self.conn.close()
            self.conn = None

    def run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Call `fn(connection)`; psycopg errors become StoreUnavailable (the database is down or
        the connection broke) or StoreError (anything else: permissions, schema), redacted."""
        with self.lock:
            conn = self.connection()
            try:
                return fn(conn)
            except StoreError:
                raise
            except (psycopg.OperationalError, pgerrors.QueryCanceled) as exc:
                self._failed(exc)
                if conn.broken or conn.closed:
                    self._discard()
                raise StoreUnavailable(
                    f"PostgreSQL at {self.where} failed: {self.last_error}"
                ) from None
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    self._failed(exc)
                    self._discard()
                    raise StoreUnavailable(
                        f"PostgreSQL at {self.where} failed: {self.last_error}"
                    ) from None
                raise StoreError(
                    f"PostgreSQL at {self.where} refused: {describe_error(exc, self.redact)}"
                ) from None

    def close(self) -> None:
        with self.lock:
            self._discard()
