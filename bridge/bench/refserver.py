"""Run the public reference coordinator (`mpac==0.2.13`, module `mpac_protocol`) for comparisons.

The reference package's own server, `mpac_protocol.server.MPACServer`, is a `websockets` server
that feeds every frame to its `SessionCoordinator` and relays accepted announces, withdraws and
commits to every connection of the session. We run it as it ships, in single-session mode, on an
ephemeral loopback port, with its liveness timeout raised so idle benchmark clients are not
suspended, and print a readiness line like the sidecar's so `bridge.bench.launch` can start
either. It is a benchmark helper only: `python -m bridge.bench.refserver --session-id bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal


async def main(session_id: str) -> None:
    from mpac_protocol.server import MPACServer

    server = MPACServer(
        session_id=session_id, host="127.0.0.1", port=0, unavailability_timeout_sec=10**7
    )
    ws_server, heartbeat = await server.run_background()
    port = ws_server.sockets[0].getsockname()[1]
    print(f"mpac reference server ready ws://127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    heartbeat.cancel()
    ws_server.close()
    await ws_server.wait_closed()


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description="Run the reference MPAC coordinator (mpac==0.2.13) on a free loopback port."
    )
    p.add_argument("--session-id", default="bench")
    asyncio.run(main(p.parse_args().session_id))
