"""A throwaway PostgreSQL server for the tests: `initdb` in a temp dir, a free port, stopped and removed at the end.

No system service and nothing left behind. initdb refuses to run as root, so when the tests run as
root (CI, containers) the server runs as `nobody`, in a temp dir handed over to it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def find_pg_bin() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin (Debian)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


LOCKED_ROLE = "locked"
"""A role that logs in only with its password, LOCKED_PASSWORD (created by `pg_server`)."""
LOCKED_PASSWORD = "right-horse"


class PgServer:
    """A running server; `url(db)` connects as the trusted superuser `onda`."""

    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://onda@127.0.0.1:{self.port}/{database}"


@contextmanager
def pg_server() -> Iterator[PgServer]:
    """Start a server for the duration of the block; raises RuntimeError when none can be started."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="onda-pg-"))
    data = root / "data"
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": [], "cwd": root}
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", "onda", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, env=env, **run_as,
        )  # fmt: skip
        hba = data / "pg_hba.conf"  # one role must give a password (refused-login tests); the rest is trusted
        hba.write_text(f"host all {LOCKED_ROLE} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", root / "log", "-w", "start"],
            check=True, capture_output=True, env=env, **run_as,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"cannot start PostgreSQL: {exc.stderr.decode(errors='replace')} {log}") from exc
    try:
        server = PgServer(port)
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {LOCKED_ROLE} LOGIN PASSWORD '{LOCKED_PASSWORD}'")  # type: ignore[arg-type]
        yield server
    finally:
        subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], capture_output=True, env=env, **run_as
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: PgServer, name: str) -> str:
    """A fresh, empty database; returns its URL."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return server.url(name)


def drop_database(server: PgServer, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
