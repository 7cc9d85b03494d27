"""Shared by the HTTP benchmarks: run the real ``storeops serve`` in a subprocess, a
PostgreSQL server of the benchmark's own, and the CPU time each of them used."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: ``storeops serve`` without going through the whole CLI (``storeops.cli.main``
#: imports every command group; the serve command needs none of them).
_SERVE = "import typer; from storeops.cli.serve_cmd import serve_command; typer.run(serve_command)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def storeops_serve(
    root: Path, *, workers: int = 1, start_timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """``storeops serve`` (``--workers``) on a free loopback port for workspace ``root``,
    once it accepts connections; stopped on exit. The port is ``server.port``."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, "--port", str(port), "--log-level", "warning",
         "--workers", str(workers), "-w", str(root)],
    )  # fmt: skip
    server.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("storeops serve did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=60)


def _pg_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=str, reverse=True)
    if not versions:
        raise SystemExit("PostgreSQL is not installed (apt-get install -y postgresql)")
    return versions[0].parent


@contextmanager
def throwaway_postgres(settings: Sequence[str] = ()) -> Iterator[tuple[str, int]]:
    """A PostgreSQL server in a temporary folder on a free loopback port, with the
    server's durable defaults (``fsync`` and ``synchronous_commit`` on) plus
    ``settings`` (``name=value``); yields its URL and the postmaster's pid. As root
    the server runs as ``postgres``."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="storeops-bench-pg-"))
    user = None
    if os.geteuid() == 0:
        pwd.getpwnam("postgres")
        user = "postgres"
        shutil.chown(root, user=user)
    run_as = ["runuser", "-u", user, "--"] if user else []
    data, port = root / "data", free_port()
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "storeops", "-E", "UTF8"], check=True, capture_output=True)  # fmt: skip
    options = [f"-p {port}", "-c listen_addresses=127.0.0.1",
               f"-c unix_socket_directories={root}", *(f"-c {s}" for s in settings)]  # fmt: skip
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", " ".join(options),
             "-l", str(root / "log"), "-w", "start"]  # fmt: skip
    subprocess.run([*run_as, *start], check=True, capture_output=True)
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://storeops@127.0.0.1:{port}/postgres", pid
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and all its descendants (live ones,
    and ended ones their parents have reaped)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                stats[int(entry.name)] = found
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += stats[current][1]
        todo.extend(p for p, (parent, _) in stats.items() if parent == current)
    return total
