"""The floor under the sidecar's CPU per message (issue 17): a server that does only what no
sidecar on websockets can avoid. websockets reads each frame, and its bytes, framed once, are
written to every connection once per event-loop turn (as the Outbox does). Nothing is parsed,
validated, journaled or audited. It answers a HELLO with a frame naming SESSION_INFO, which is
all the benchmarks' lean client waits for, and relays every other frame to everyone.

Measure it next to the sidecar with `mpac-bridge bench cpu --floor` (the closed loop, CPU per
message) or `mpac-bridge bench relay --floor` (announce -> relay latency); `bridge.bench.launch`
starts it as the target kind "floor".
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import ServerConnection, serve

from bridge.server.conn import text_frame

WELCOME = text_frame('{"message_type":"SESSION_INFO"}')


class Floor:
    def __init__(self) -> None:
        self.pending: dict[ServerConnection, list[bytes]] = {}
        self.dirty: dict[ServerConnection, None] = {}
        self.scheduled = False

    def flush(self) -> None:
        self.scheduled = False
        dirty, self.dirty = self.dirty, {}
        for ws in dirty:
            frames = self.pending.get(ws)
            if frames:
                ws.transport.writelines(frames)
                frames.clear()

    def queue(self, ws: ServerConnection, frame: bytes) -> None:
        self.pending[ws].append(frame)
        self.dirty[ws] = None
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    async def handler(self, ws: ServerConnection) -> None:
        self.pending[ws] = []
        try:
            async for raw in ws:
                text = raw if isinstance(raw, str) else raw.decode()
                if '"HELLO"' in text[:300]:
                    self.queue(ws, WELCOME)
                    continue
                frame = text_frame(text)
                for other in list(self.pending):
                    self.queue(other, frame)
        finally:
            self.pending.pop(ws, None)


async def main() -> None:
    floor = Floor()
    async with serve(floor.handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"mpac-bridge sidecar ready ws://127.0.0.1:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
