"""MpacServer pieces that need no editor: background task failures are logged, not lost."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lsp.features import build_server


async def test_run_task_logs_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    server = build_server(env={"USER": "ann"})

    async def boom() -> None:
        raise RuntimeError("kaboom")

    with caplog.at_level(logging.ERROR, logger="mpac.lsp"):
        task = server.run_task(boom(), "boom")
        with pytest.raises(RuntimeError):
            await task
        await asyncio.sleep(0)  # let the done callback run (it is scheduled on the loop)
    assert any(
        "background task boom failed: RuntimeError: kaboom" in r.getMessage()
        for r in caplog.records
    )
    assert task not in server.tasks


async def test_cancelled_tasks_are_dropped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    server = build_server(env={"USER": "ann"})
    task = server.run_task(asyncio.Event().wait(), "forever")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert task not in server.tasks and not [
        r for r in caplog.records if r.levelno >= logging.ERROR
    ]
