"""A throwaway PostgreSQL server for the ops-database tests.

``postgres_url()`` starts one server per test session (initdb into a temporary
folder, a free port on 127.0.0.1, trust authentication) and stops it at exit. As
root it runs the server as the ``postgres`` user (PostgreSQL refuses to run as root).
Where PostgreSQL is missing the tests skip with how to install it; with ``CI=true``
they fail instead.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
INSTALL_HINT = "apt-get install -y postgresql (Debian) or brew install postgresql"

_state: dict[str, str] = {}


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    # Debian keeps the server binaries off PATH, one folder per major version.
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        reverse=True,
    )
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], user: str | None) -> None:
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def require_postgres() -> str:
    """URL of the session's PostgreSQL server (skips, or fails in CI, without one)."""
    if "url" in _state:
        return _state["url"]
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = f"PostgreSQL is not installed: {INSTALL_HINT}"
        if IN_CI:
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root needs a 'postgres' user to run the test server")
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="storeops-pg-"))
    data = root / "data"
    if user:
        shutil.chown(root, user=user)
    _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "storeops",
          "--no-sync", "-E", "UTF8"], user)  # fmt: skip
    port = _free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
        "-c fsync=off -c max_connections=300"
    )
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
          "-w", "start"], user)  # fmt: skip

    def _stop() -> None:
        subprocess.run(
            (["runuser", "-u", user, "--"] if user else [])
            + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(_stop)
    url = f"postgresql+psycopg://storeops@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 20
    import sqlalchemy as sa

    while True:
        try:
            engine = sa.create_engine(url)
            with engine.connect() as con:
                con.execute(sa.text("select 1"))
            engine.dispose()
            break
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    _state["url"] = url
    return url


def fresh_database(name: str) -> str:
    """A new empty database on the session's server; its URL."""
    import sqlalchemy as sa

    base = require_postgres()
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as con:
        con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"
