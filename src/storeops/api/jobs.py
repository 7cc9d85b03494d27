"""Background jobs of ``storeops serve``: CLI commands run in a child process.

A job is a ``storeops`` command (e.g. ``collector load``, ``pos export``) started with
``--json`` in a child process at lower CPU priority, so its threads (Arrow, DuckDB)
do not take CPU and the GIL from the requests being served. A job that fails (the
warehouse locked by another job, say) is logged and simply runs again next round.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("storeops.jobs")

#: The child: lower priority, then the storeops CLI with the job's arguments.
CHILD = "import os, sys; os.nice(10); from storeops.cli.main import app; app(sys.argv[1:])"


async def run_job(args: list[str], what: str) -> dict[str, Any] | None:
    """Run ``storeops ARGS`` (which must print JSON) once; its answer, or None."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await child.communicate()
    except asyncio.CancelledError:  # the server is stopping: do not leave the child behind
        if child.returncode is None:
            child.kill()
        await child.wait()
        raise
    if child.returncode != 0:
        log.warning("%s failed (status %s): %s", what, child.returncode, err.decode().strip())
        return None
    answer: dict[str, Any] = json.loads(out or b"{}")
    return answer


async def every(seconds: float, job: Callable[[], Awaitable[object]], what: str) -> None:
    """Run ``job`` every ``seconds`` until cancelled; errors are logged, not fatal."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except (OSError, ValueError) as exc:
            log.warning("%s could not run, retrying in %.0fs: %s", what, seconds, exc)
