"""A throw-away PostgreSQL server for the tests and the benchmark.

It runs ``initdb`` and ``pg_ctl`` from the installed server binaries in a temporary
folder and listens on a Unix socket in that folder only. PostgreSQL refuses to run as
root, so when this process is root the server runs as the ``postgres`` system user
(created by ``apt-get install postgresql``).

From PostgreSQL 15 on, the server sorts text with ICU's root locale, as production
servers sort it (by language rules, not by bytes), so the tests see what users see.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

HOW_TO_ENABLE = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found; install them, "
    "e.g. `apt-get install -y postgresql`, to run these tests"
)

# Settings for a server whose data may be lost: tests want speed, not durability.
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def find_binaries(
    search_path: str | None = None, installs: Path = Path("/usr/lib/postgresql")
) -> Path | None:
    """Return the folder holding initdb and pg_ctl, or None when they are not installed.

    Looks on ``search_path`` (the ``PATH`` by default), then in the newest version
    folder under ``installs`` (where Debian and Ubuntu put them).
    """
    found = shutil.which("initdb", path=search_path)
    if found and shutil.which("pg_ctl", path=search_path):
        return Path(found).parent
    versions = [
        path.parent for path in installs.glob("*/bin/initdb") if path.parent.parent.name.isdigit()
    ]
    return max(versions, key=lambda bindir: int(bindir.parent.name), default=None)


class PgServer:
    """A PostgreSQL server in a temporary folder, stopped and deleted on exit.

    Args:
        bindir: the folder holding initdb and pg_ctl.
        settings: extra ``name=value`` server settings (for example :data:`FAST`).
    """

    def __init__(self, bindir: Path, settings: tuple[str, ...] = ()) -> None:
        self.bindir = bindir
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="pdmc-pg-"))
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root)
                raise RuntimeError(
                    "running as root: the PostgreSQL tests need the `postgres` system user "
                    "(apt-get install postgresql creates it)"
                ) from None
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._user = "postgres"

    @property
    def conninfo(self) -> str:
        """A libpq connection string for the server's ``postgres`` database."""
        return f"host={self.root} port=5432 user=postgres dbname=postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - the binaries and arguments are ours
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            user=self._user,
            cwd=self.root,
        )

    def _version(self) -> int:
        found = subprocess.run(  # noqa: S603 - our binary, our argument
            [str(self.bindir / "initdb"), "--version"], check=True, capture_output=True, text=True
        )
        return int(found.stdout.split()[-1].split(".")[0])

    def start(self) -> None:
        """Create the cluster and start the server; raise if it does not come up."""
        data = self.root / "data"
        options = ["-c listen_addresses=''", f"-k {self.root}", "-p 5432"]
        options += [f"-c {setting}" for setting in self.settings]
        locale = ["--locale-provider=icu", "--icu-locale=und"] if self._version() >= 15 else []
        try:
            self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                      "--no-sync", *locale)  # fmt: skip
            self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-w",
                      "-t", "60", "-o", " ".join(options), "start")  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.root / "server.log"
            detail = log.read_text() if log.exists() else exc.stderr.decode(errors="replace")
            self.stop()
            raise RuntimeError(f"the PostgreSQL test server did not start:\n{detail}") from exc

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if (self.root / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
