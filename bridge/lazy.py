"""Package exports that load on first use (issue 17: start-up).

`bridge.client`, `bridge.workspace` and `bridge.protocol` name their public pieces in a table of
name -> module and hand it to `exports`: the returned function is the package's module-level
`__getattr__`, which imports the module the first time a name is asked for and keeps the value
in the package. So a hook that needs one small module does not pay for its siblings (asyncio,
websockets, pydantic). Only `importlib` is imported here.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # importing typing is part of what a hook's start avoids
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def exports(package: str, table: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: `table` maps a name to its module, either a full dotted
    name or one relative to the package; `namespace` is the package's `globals()`."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        full = module if module.startswith(package + ".") else f"{package}.{module}"
        value = getattr(importlib.import_module(full), name)
        namespace[name] = value
        return value

    return __getattr__
