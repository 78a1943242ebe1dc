"""How the library runs a coroutine from synchronous code: `run`, which is `asyncio.run` without a
cost that grows with the coroutine's result.

When the main task of `asyncio.run` ends, its runner checks whether its own Ctrl-C handler is still
installed (`signal.getsignal`). On Python 3.11 that check formats the handler for an error message
it then discards. The handler is a partial that holds the finished task, and the task's repr holds
its result in full: `reprlib` shortens the text only after it is built. A pass of 10,000 checks
returns a summary whose repr is about 30 MiB. Building it raised the main process's peak memory
from 85-89 MiB to 117-118 MiB at the end of every 10,000-URL pass (benchmarks/real.py; found with
`py-spy dump` taken during the spike). `run` keeps the result out of the task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`; the result is handed back beside the task, never formatted."""
    results: list[T] = []

    async def task() -> None:
        results.append(await main)

    asyncio.run(task())
    return results[0]
