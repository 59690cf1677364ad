"""A real PostgreSQL server for the decision-log tests: Debian's binaries, a throwaway cluster in a
temporary folder on 127.0.0.1, stopped after the session. (`make test` installs Debian's
postgresql when it is missing.) PostgreSQL refuses to run as root: as root, it runs as the
`postgres` user the Debian package creates."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .conftest import free_port


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are missing: `make test` installs Debian's postgresql (make postgres)")
    return Path(found[-1]).parent


def _as_owner(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def postgres_server():
    """Yield a function that creates a new, empty database and returns its SQLAlchemy URL."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="soe-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    run = lambda *a: subprocess.run(_as_owner([str(x) for x in a]), check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "soe", "-E", "UTF8", "--locale=C", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=100"
        run(bindir / "pg_ctl", "-D", data, "-w", "-t", "60", "-l", root / "server.log", "-o", options, "start")

        def new_database() -> str:
            name = f"soe_{uuid.uuid4().hex[:10]}"
            run(bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "soe", name)
            return f"postgresql+psycopg://soe@127.0.0.1:{port}/{name}"

        yield new_database
    finally:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
