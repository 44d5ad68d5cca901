"""`mpac-bridge bench symbols`: symbol extraction per 1,000 lines, cold and cached, and the cost of
one merge decision.

Generated sources of realistic shape (classes with methods, functions, constants, imports) in
Python and TypeScript, Go, Rust and Java; `cold` parses every time (no cache), `cached` is a
repeated call on the same content (the content is hashed to find its state ref) and `cached, ref
given` skips the hashing, as a caller that already knows the ref does. `first call` includes
importing tree-sitter and loading the grammar, once per process.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bridge.workspace.symbols import SymbolCache, extract_symbols


def python_source(lines: int) -> str:
    out = ["import os", "import sys", "from typing import Any", ""]
    n = 0
    while len(out) < lines:
        out += [f"# Handler number {n}.", f"class Handler{n}(Base):", f"    kind = {n}", ""]
        for m in range(4):
            out += [
                "    @property" if m == 0 else f"    # method {m}",
                f"    def method_{m}(self, value: Any) -> int:",
                "        total = 0",
                "        for item in range(value):",
                "            total += item * 2",
                "        return total",
                "",
            ]
        out += [
            "",
            f"def helper_{n}(a, b):",
            '    """Add."""',
            "    return a + b",
            "",
            f"LIMIT_{n} = {n}",
            "",
            "",
        ]
        n += 1
    return "\n".join(out) + "\n"


def typescript_source(lines: int) -> str:
    out = ['import { Base } from "./base";', ""]
    n = 0
    while len(out) < lines:
        out += [
            f"// Handler number {n}.",
            f"export class Handler{n} extends Base {{",
            f"  kind = {n};",
        ]
        for m in range(4):
            out += [
                f"  method{m}(value: number): number {{",
                "    let total = 0;",
                "    for (let i = 0; i < value; i++) {",
                "      total += i * 2;",
                "    }",
                "    return total;",
                "  }",
                "",
            ]
        out += [
            "}",
            "",
            f"export function helper{n}(a: number, b: number): number {{",
            "  return a + b;",
            "}",
            "",
            f"export const LIMIT_{n} = {n};",
            "",
        ]
        n += 1
    return "\n".join(out) + "\n"  # whole units only, so the source parses


def go_source(lines: int) -> str:
    out = ["package bench", "", 'import "fmt"', ""]
    n = 0
    while len(out) < lines:
        out += [f"// Handler{n} handles.", f"type Handler{n} struct {{", "\tkind int", "}", ""]
        for m in range(4):
            out += [
                f"func (h *Handler{n}) Method{m}(value int) int {{",
                "\ttotal := 0",
                "\tfor i := 0; i < value; i++ {",
                "\t\ttotal += i * 2",
                "\t}",
                "\treturn total",
                "}",
                "",
            ]
        out += [
            f"func helper{n}(a, b int) int {{",
            "\tfmt.Println(a)",
            "\treturn a + b",
            "}",
            "",
            f"const Limit{n} = {n}",
            "",
        ]
        n += 1
    return "\n".join(out) + "\n"


SOURCES: dict[str, tuple[str, Callable[[int], str]]] = {
    "python": ("bench.py", python_source),
    "typescript": ("bench.ts", typescript_source),
    "go": ("bench.go", go_source),
}


def _median_ms(fn: Callable[[], Any], repeat: int, calls: int = 1) -> float:
    """The median over `repeat` timings of `calls` calls of `fn`, per call."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) * 1000 / calls)
    return statistics.median(times)


CALLS = 200  # cached calls per timing


def run(
    lines: int = 5000, repeat: int = 7, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    rows = []
    for language, (path, make) in SOURCES.items():
        progress(f"symbols: {language}, {lines:,} lines")
        src = make(lines)
        n_lines = src.count("\n")
        t0 = time.perf_counter()
        first = extract_symbols(path, src, cache=None)
        first_ms = (time.perf_counter() - t0) * 1000
        assert first.status == "ok", f"{language} bench source does not parse: {first.reason}"
        cold = _median_ms(partial(extract_symbols, path, src, cache=None), repeat)
        cache = SymbolCache()
        extract_symbols(path, src, cache=cache)
        cached = _median_ms(partial(extract_symbols, path, src, cache=cache), repeat, CALLS)
        warm = partial(extract_symbols, path, src, state_ref=first.state_ref, cache=cache)
        cached_ref = _median_ms(warm, repeat, CALLS)
        per_k = 1000 / n_lines
        rows.append(
            {
                "language": language,
                "lines": n_lines,
                "symbols": len(first.symbols),
                "first_call_ms": first_ms,
                "cold_ms": cold,
                "cold_ms_per_1k_lines": cold * per_k,
                "cached_us": cached * 1000,
                "cached_ref_given_us": cached_ref * 1000,
            }
        )
    progress("symbols: one merge decision (python, 1,000 lines)")
    return {"extraction": rows, "merge": _merge_figure(repeat)}


def _merge_figure(repeat: int) -> dict[str, Any]:
    from bridge.workspace.merge_decide import decide_merge

    base = python_source(1000)
    current = base.replace("LIMIT_0 = 0", "LIMIT_0 = 100", 1)
    ours = base.replace("    return a + b", "    return b + a", 1)
    decision = decide_merge("bench.py", base, current, ours, ["helper_0"], cache=None)
    assert decision.outcome == "merged", decision.reason
    ms = _median_ms(
        lambda: decide_merge("bench.py", base, current, ours, ["helper_0"], cache=None), repeat
    )
    return {"lines": 1000, "outcome": decision.outcome, "decide_ms": ms}
