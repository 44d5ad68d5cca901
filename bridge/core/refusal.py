"""Refusal: a check inside the core failed. Raised by the commit and frozen-scope checks, caught by
the handler that called them, which refuses the message; it never leaves the core."""

from __future__ import annotations

from typing import Any

from bridge.protocol.codes import ErrorCode


class Refusal(Exception):
    def __init__(self, code: ErrorCode, text: str, ext: dict[str, Any] | None = None) -> None:
        super().__init__(text)
        self.code, self.text, self.ext = code, text, ext
