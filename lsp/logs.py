"""Logging: everything to stderr (stdout is the LSP wire); our own records also to the editor as
window/logMessage once the session is up."""

from __future__ import annotations

import logging
import sys

from lsprotocol import types
from pygls.lsp.server import LanguageServer

LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class EditorLogHandler(logging.Handler):
    """Forwards records to window/logMessage; silently drops them before the client is there."""

    def __init__(self, server: LanguageServer) -> None:
        super().__init__(logging.INFO)
        self.server = server
        self._busy = False

    def emit(self, record: logging.LogRecord) -> None:
        if (
            self._busy
            or getattr(self.server, "exiting", False)
            or getattr(self.server.protocol, "writer", None) is None
        ):
            return
        self._busy = True  # no recursion if sending itself logs
        try:
            kind = LEVELS.get(record.levelno, types.MessageType.Log)
            self.server.window_log_message(
                types.LogMessageParams(type=kind, message=self.format(record))
            )
        except Exception:
            pass
        finally:
            self._busy = False


def install_logging(server: LanguageServer, level: str = "INFO") -> None:
    root = logging.getLogger()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(stderr)
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("mpac")
    ours.setLevel(level)
    editor = EditorLogHandler(server)
    editor.setFormatter(logging.Formatter("%(message)s"))
    ours.addHandler(editor)
