"""`mpac-bridge bench symbols`, session part (issue 19): what symbol scopes cost the coordinator,
and the parallelism they buy.

- **Announce cost.** The coordinator's time to handle one INTENT_ANNOUNCE with 20 symbols of one
  file against a file-level announce of the same file, in a session already holding `active`
  intents (half of them symbol scopes in 100 shared files), and the same 20-symbol announce in a
  file where others hold other symbols (the case symbol scopes exist for). Each announce is
  withdrawn after timing. Also the client's cost of building the 20-symbol scope.
- **Parallelism.** The four-agent scenario (`bridge.demo.four_agents`) against a real sidecar at
  `symbol` and at `file` granularity: how many agents could begin at once, how many changes landed
  in that one round (directly or merged), and the wall time of the round.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from bridge.bench.core import AGENTS, T0, announce, env, files, session
from bridge.client.scope import announce_scope

SYMBOLS = 20


def _symbol_scope(path: str, n: int = SYMBOLS, prefix: str = "fn") -> dict[str, Any]:
    return announce_scope([], [f"{path}::{prefix}{k}" for k in range(n)], namespace="bench")


def _busy(active: int) -> Any:
    """A coordinator with `active` intents: half file-level, half symbol claims in 100 hot files."""
    coord = session(active // 2)
    for n in range(active - active // 2):
        pid = AGENTS[n % len(AGENTS)]
        coord.handle(
            announce(pid, f"s{n}", _symbol_scope(f"hot/m{n % 100}.py", 2, f"held{n}_"), 10**6 + n),
            T0,
        )
    return coord


def _per_announce_us(coord: Any, scopes: list[dict[str, Any]], pid: str, base: int) -> float:
    frames = [announce(pid, f"b{base}-{k}", s, base + k) for k, s in enumerate(scopes)]
    start = time.perf_counter()
    for raw in frames:
        result = coord.handle(raw, T0)
        assert result.accepted, result.outbound[0].message if result.outbound else "refused"
    elapsed = time.perf_counter() - start
    for k in range(len(scopes)):
        coord.handle(env("INTENT_WITHDRAW", pid, {"intent_id": f"b{base}-{k}"}, 2 * base + k), T0)
    return elapsed / len(scopes) * 1e6


def announce_cost(active: int = 1000, count: int = 300, repeat: int = 3) -> dict[str, Any]:
    coord = _busy(active)
    pid = AGENTS[0]
    cases = {
        "file_level": lambda n: [files(f"fresh/{n}-{k}.py") for k in range(count)],
        "symbols_20": lambda n: [_symbol_scope(f"fresh/{n}-{k}.py") for k in range(count)],
        "symbols_20_shared_file": lambda n: [
            _symbol_scope(f"hot/m{k % 100}.py", prefix=f"fn{n}_{k}_") for k in range(count)
        ],
    }
    out: dict[str, Any] = {"active": active, "symbols": SYMBOLS, "count": count}
    for i, (name, make) in enumerate(cases.items()):
        runs = [
            _per_announce_us(coord, make(r), pid, 10**7 * (i * repeat + r + 1))
            for r in range(repeat)
        ]
        out[f"{name}_us"] = statistics.median(runs)
    out["added_us"] = out["symbols_20_us"] - out["file_level_us"]
    t0 = time.perf_counter()
    for _ in range(count):
        _symbol_scope("src/app.py")
    out["client_scope_us"] = (time.perf_counter() - t0) / count * 1e6
    return out


def _one_granularity(granularity: str, repeat: int) -> dict[str, Any]:
    from bridge.bench.repo import discard_repo, scratch_repo
    from bridge.demo.four_agents import four_agents, write_cart
    from bridge.workspace import ensure_sidecar, find_repo

    root = scratch_repo()
    try:
        repo = find_repo(root)
        ensure_sidecar(
            repo, extra_args=["--symbol-granularity", granularity, "--idle-timeout", "120"]
        )
        runs = []
        for _ in range(repeat):
            write_cart(root)
            runs.append(asyncio.run(four_agents(repo)))
        last = runs[-1]
        return {
            "granularity": granularity,
            "agents": len(last.begun),
            "proceeded": last.proceeded,
            "blocked": last.blocked,
            "landed": last.landed,
            "merged": last.merged,
            "wall_ms": statistics.median(r.wall_ms for r in runs),
            "runs": repeat,
        }
    finally:
        discard_repo(root)


def parallelism(repeat: int = 3) -> list[dict[str, Any]]:
    return [_one_granularity(g, repeat) for g in ("symbol", "file")]


def run(active: int, repeat: int, progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"symbols: announce with {SYMBOLS} symbols vs a file, at {active:,} active intents")
    cost = announce_cost(active=active, count=100 if active <= 100 else 300, repeat=repeat)
    progress(
        "symbols: four agents, four functions of one file, at symbol and at file granularity (real sidecars)"
    )
    return {"announce": cost, "parallelism": parallelism(repeat)}
