"""file_lock_async: two coroutines of one event loop exclude each other without blocking the loop
(two agents in one process), and a cancelled waiter leaves no lock behind."""

from __future__ import annotations

import asyncio

from bridge.workspace import Repo, file_lock, file_lock_async
from tests.workspace.helpers import repo, repo_dir  # noqa: F401 - fixtures


async def test_one_loop_two_holders_take_turns(repo: Repo) -> None:  # noqa: F811
    order: list[str] = []
    inside = asyncio.Event()

    async def first() -> None:
        async with file_lock_async(repo, "README.md"):
            order.append("first in")
            inside.set()
            await asyncio.sleep(0)  # yield while holding the lock: the loop must keep running
            order.append("first out")

    async def second() -> None:
        await inside.wait()
        async with file_lock_async(repo, "README.md"):
            order.append("second in")

    await asyncio.wait_for(asyncio.gather(first(), second()), 30)
    assert order == ["first in", "first out", "second in"]


async def test_a_cancelled_waiter_does_not_keep_the_lock(repo: Repo) -> None:  # noqa: F811
    release = asyncio.Event()
    held = asyncio.Event()

    async def holder() -> None:
        async with file_lock_async(repo, "README.md"):
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with file_lock_async(repo, "README.md"):
            raise AssertionError("a cancelled waiter must never get in")

    h = asyncio.ensure_future(holder())
    await held.wait()
    w = asyncio.ensure_future(waiter())
    await asyncio.sleep(0)  # let the waiter start waiting in its thread
    w.cancel()
    release.set()
    await h
    assert w.cancelled()

    # The waiter's thread got the lock after the holder let go, then its file was closed: free again.
    def take_and_release() -> None:
        with file_lock(repo, "README.md"):
            pass

    await asyncio.wait_for(asyncio.to_thread(take_and_release), 30)
