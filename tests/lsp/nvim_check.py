"""Drive a headless Neovim with `mpac-bridge lsp` and measure announce-to-diagnostic latency.

    .venv/bin/python -m tests.lsp.nvim_check [ROUNDS]

A temporary git repository; Neovim opens a file and starts the language server (which starts the
repository's sidecar); an agent (SessionClient) announces and withdraws an intent on the file
ROUNDS times; each time we wait for Neovim's DiagnosticChanged log line and report the latency
from just before the announce to Neovim having the diagnostic (p50, p90, max).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bridge.client import SessionClient
from bridge.workspace import find_repo, read_runtime, runtime_path
from tests.lsp.harness import make_repo

HERE = Path(__file__).parent / "nvim"
ME = "human:ann@editor"


class Nvim:
    """A headless Neovim process and the lines its init.lua logs."""

    def __init__(self, repo: Path, rel: str, out: Path) -> None:
        self.out = out
        env = {
            **os.environ,
            "MPAC_NVIM_OUT": str(out),
            "MPAC_PYTHON": sys.executable,
            "MPAC_ROOT": str(repo),
            "MPAC_USER": "ann",
            "XDG_STATE_HOME": str(out.parent / "state"),
            "XDG_DATA_HOME": str(out.parent / "data"),
        }
        self.proc = subprocess.Popen(
            ["nvim", "--headless", "-n", "-u", str(HERE / "init.lua"), rel],
            cwd=repo,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def lines(self) -> list[str]:
        try:
            return self.out.read_text().splitlines()
        except OSError:
            return []

    async def wait_line(self, pred, after: int, timeout: float = 20.0) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        """The first logged line at index >= after matching pred (polls the log file)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            for i in range(after, len(lines)):
                if pred(lines[i]):
                    return i, lines[i]
            if self.proc.poll() is not None:
                raise RuntimeError(f"nvim exited ({self.proc.returncode}): {lines[-5:]}")
            await asyncio.sleep(0.002)  # polling a file another process writes
        raise TimeoutError(f"no matching line from nvim within {timeout} s: {self.lines()[-5:]}")

    def quit(self) -> list[str]:
        """Ask Neovim to log its final diagnostics and exit; the log lines (idempotent)."""
        if self.proc.poll() is not None:
            return self.lines()
        Path(str(self.out) + ".quit").touch()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.lines()


async def connect_agent(repo: Path, timeout: float = 30.0) -> SessionClient:
    r = find_repo(repo)
    deadline = time.monotonic() + timeout
    while (info := read_runtime(runtime_path(r))) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the language server did not start the repository's sidecar")
        await asyncio.sleep(0.02)
    agent = SessionClient(info.url, "agent:bob", session_id=info.session_id, display_name="bob")
    await agent.connect()
    if not await agent.wait_until(lambda v: ME in v.participants, timeout):
        raise TimeoutError("the editor never joined the session")
    return agent


async def measure(rounds: int, workdir: Path) -> dict[str, object]:
    repo = make_repo(workdir / "repo", {"src/app.py": "print('app')\n"})
    nvim = Nvim(repo, "src/app.py", workdir / "nvim.log")
    latencies: list[float] = []
    sample = ""
    try:
        agent = await connect_agent(repo)
        try:
            for n in range(rounds):
                after = len(nvim.lines())
                t0 = time.time()
                reply = await agent.announce(f"Round {n}", ["src/app.py"], intent_id=f"i-{n}")
                assert reply.ok, reply.description
                _i, line = await nvim.wait_line(
                    lambda s: s.split("\t")[1:2] == ["1"] and "intent|" in s, after
                )
                latencies.append(float(line.split("\t")[0]) - t0)
                sample = sample or line.split("\t", 2)[2]
                after = len(nvim.lines())
                assert (await agent.withdraw(f"i-{n}")).ok
                await nvim.wait_line(lambda s: s.split("\t")[1:2] == ["0"], after)
            final_after = len(nvim.lines())
            assert (await agent.announce("Left in place", ["src/app.py"], intent_id="i-final")).ok
            await nvim.wait_line(lambda s: "Left in place" in s, final_after)
            # Neovim records its final diagnostics while the agent still holds the intent: the
            # agent's GOODBYE withdraws it, and the editor would then (rightly) show nothing.
            lines = nvim.quit()
        finally:
            await agent.close()
    finally:
        lines = nvim.quit()
        subprocess.run(
            [sys.executable, "-m", "bridge", "stop", "--workspace", str(repo), "--force"],
            capture_output=True,
            timeout=60,
        )
    final = next((line for line in lines if line.startswith("final\t")), "")
    ms = sorted(x * 1000 for x in latencies)
    return {
        "rounds": rounds,
        "p50_ms": statistics.median(ms),
        "p90_ms": ms[int(0.9 * (len(ms) - 1))],
        "max_ms": ms[-1],
        "min_ms": ms[0],
        "sample": sample,
        "final": final,
    }


def main() -> int:
    if shutil.which("nvim") is None:
        print("nvim is not installed (apt-get install neovim)", file=sys.stderr)
        return 2
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as d:
        result = asyncio.run(measure(rounds, Path(d)))
    v = subprocess.run(["nvim", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(
        f"{v}: announce -> vim.diagnostic.get() over {result['rounds']} rounds: p50 {result['p50_ms']:.1f} ms, "
        f"p90 {result['p90_ms']:.1f} ms, min {result['min_ms']:.1f} ms, max {result['max_ms']:.1f} ms"
    )
    print(f"diagnostic: {result['sample']}")
    print(f"vim.diagnostic.get(0) at exit: {result['final'][6:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
