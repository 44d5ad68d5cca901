"""Four agents change four functions of one file at the same time, through the MCP tools (issue 19).

Shared by `mpac-bridge demo --scenario symbols` (which narrates it) and `mpac-bridge bench symbols`
(which counts how many agents made progress at once under each granularity). Each agent is its own
`ToolContext` (its own participant) on the repository's sidecar; every step of the four runs
concurrently: begin_task, get_file_state, then submit_change of the agent's edited content.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from bridge.mcp import tools
from bridge.mcp.context import ToolContext
from bridge.mcp.models import BeginResult, SubmitResult
from bridge.workspace import Repo

PATH = "shop/cart.py"
CART = '''"""The shopping cart: four functions that four agents want to change."""

import math


def subtotal(prices):
    return sum(prices)


def tax(amount):
    return amount * 0.2


def shipping(weight):
    return 5


def discount(total):
    return 0
'''
FUNCS = ("subtotal", "tax", "shipping", "discount")
AGENTS = ("agent:alice", "agent:bob", "agent:carol", "agent:dave")
CHANGES = {  # what each agent makes of its function's return line
    "subtotal": "round(sum(prices), 2)",
    "tax": "round(amount * 0.2, 2)",
    "shipping": "math.ceil(weight) * 2",
    "discount": "total * 0.1 if total > 100 else 0",
}


def changed(text: str, func: str, new_return: str | None = None) -> str:
    """`text` with the `return` line of `func` replaced (by its change in CHANGES by default)."""
    start = text.index(f"def {func}(")
    ret = text.index("    return ", start)
    end = text.index("\n", ret)
    return text[:ret] + f"    return {new_return or CHANGES[func]}" + text[end:]


@dataclass
class Run:
    begun: list[BeginResult] = field(default_factory=list)
    submitted: list[SubmitResult] = field(default_factory=list)
    wall_ms: float = 0.0

    @property
    def proceeded(self) -> int:
        """Agents whose begin_task was ok: they could edit at once."""
        return sum(b.status == "ok" for b in self.begun)

    @property
    def blocked(self) -> int:
        return sum(b.status == "blocked" for b in self.begun)

    @property
    def landed(self) -> int:
        """Agents whose change reached the file (success or merged) in this one round."""
        return sum(s.status in ("success", "merged") for s in self.submitted)

    @property
    def merged(self) -> int:
        return sum(s.status == "merged" for s in self.submitted)


async def four_agents(repo: Repo, path: str = PATH) -> Run:
    """Run the four agents once against the repository's (already running) sidecar."""
    run = Run()
    contexts = [ToolContext(repo=repo, principal_id=pid) for pid in AGENTS]
    try:
        t0 = time.perf_counter()
        run.begun = list(
            await asyncio.gather(
                *(
                    tools.begin_task(c, f"change {f}", [path], symbols=[f"{path}::{f}"])
                    for c, f in zip(contexts, FUNCS, strict=True)
                )
            )
        )
        going = [
            (c, b, f)
            for c, b, f in zip(contexts, run.begun, FUNCS, strict=True)
            if b.status == "ok"
        ]
        states = await asyncio.gather(*(tools.get_file_state(c, path) for c, _b, _f in going))
        run.submitted = list(
            await asyncio.gather(
                *(
                    tools.submit_change(
                        c, b.intent_id or "", path, s.state_ref, changed(s.content or "", f)
                    )
                    for (c, b, f), s in zip(going, states, strict=True)
                )
            )
        )
        run.wall_ms = (time.perf_counter() - t0) * 1000
        for c, b, _f in going:
            await tools.yield_task(c, b.intent_id or "")
    finally:
        for c in contexts:
            with contextlib.suppress(Exception):
                await c.close()
    return run


def write_cart(root: Path, path: str = PATH) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(CART)
