"""What the server remembers about one file the person has open or has touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tracked:
    """One file: open in the editor, or touched (opened, edited or saved) earlier in this session."""

    uri: str
    rel: str  # repository-relative POSIX path
    open: bool = False
    version: int | None = None
    baseline_op: str | None = (
        None  # op_id of the last known commit to the file when the buffer was loaded
    )
    buffer_ref: str | None = None  # "sha256:<hex>" of the buffer text
    disk_change: dict[str, Any] | None = (
        None  # {"holders": [principal ids], "state_ref": ...} when it changed on disk while held
    )
    uncoordinated: list[str] = field(
        default_factory=list
    )  # holders when the person saved while others held it
    touched: bool = False  # edited or saved: keeps its diagnostics after the buffer closes
    baseline_known: bool = False  # baseline_op was read from a joined session
    # the symbols of the last buffer version that parsed (a FileSymbols), so a diagnostic on a held
    # symbol covers its lines and follows it as they move; `parsed_ref` is that version's state ref
    symbols: Any = None
    parsed_ref: str | None = None
