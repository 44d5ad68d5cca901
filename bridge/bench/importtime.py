"""`python -X importtime` output, summarised: what a process start spends importing.

Each line of that output is `import time: <self us> | <cumulative us> | <indent><module>`, in the
order the imports finished. We report the total (the sum of the self times), the ten modules with
the largest cumulative time (a package's figure includes everything it imported first) and the
self time summed by top-level package (mcp, pydantic, websockets, bridge, ...).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def parse(text: str) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) for each import line."""
    rows = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), (len(m.group(3)) - 1) // 2, m.group(4)))
    return rows


def summarise(text: str, top: int = 10) -> dict[str, Any]:
    rows = parse(text)
    by_package: dict[str, int] = defaultdict(int)
    for self_us, _cum, _depth, name in rows:
        by_package[name.split(".", 1)[0]] += self_us
    return {
        "modules": len(rows),
        "total_ms": sum(r[0] for r in rows) / 1000,
        "top_cumulative": [
            {"module": name, "cumulative_ms": cum / 1000, "self_ms": s / 1000, "depth": d}
            for s, cum, d, name in sorted(rows, key=lambda r: -r[1])[:top]
        ],
        "top_packages": [
            {"package": p, "self_ms": us / 1000}
            for p, us in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
        ],
    }
