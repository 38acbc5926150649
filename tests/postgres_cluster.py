"""A throwaway PostgreSQL server for the tests: initdb and pg_ctl from the distribution's
packages, in a temporary folder, listening on a Unix socket in that folder and on 127.0.0.1
at a free port.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged user (`postgres`, which Debian's package creates, else `nobody`) that owns the
folder. Nothing is mocked: the tests talk to a real server, and `restart` restarts it.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote

SUPERUSER = "postgres"
TEMPLATE = "arbiter_template"  # a database holding the ledger's schema, copied for each test
# A login role in each of the ledger's group roles; two writers, for two offices.
LOGINS = {"ledger_writer": "arbiter_writer", "ledger_writer_b": "arbiter_writer",
          "ledger_auditor": "arbiter_auditor", "ledger_purger": "arbiter_purger"}
INSTALL_HINT = ("PostgreSQL's server programs (initdb, pg_ctl) were not found: install them, e.g. "
                "`apt-get install postgresql` on Debian (`.ci/run` does it when initdb is missing)")


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine, or the server would not start."""


def server_programs() -> Path:
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else
    wherever initdb is on the PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda path: int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit()
                        else 0)
    found = candidates[-1] if candidates else shutil.which("initdb")
    if not found:
        raise ClusterUnavailable(INSTALL_HINT)
    folder = Path(os.path.realpath(found)).parent
    if not (folder / "pg_ctl").exists():
        raise ClusterUnavailable(INSTALL_HINT)
    return folder


def _server_user() -> Optional[str]:
    """Who runs the server: None (this process's user) unless that is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ClusterUnavailable("the tests run as root and there is no unprivileged user (postgres, nobody) "
                             "to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Cluster:
    folder: Path  # data/, the socket and the server's log
    port: int
    programs: Path
    run_as: Optional[str]
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        """The superuser's URL for the `postgres` database."""
        return self.url_for("postgres")

    def url_for(self, database: str, user: str = SUPERUSER, password: Optional[str] = None) -> str:
        secret = f":{quote(password, safe='')}" if password is not None else ""
        return f"postgresql://{quote(user, safe='')}{secret}@{self.host}:{self.port}/{quote(database, safe='')}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _run(self, program: str, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.run_as, "--"] if self.run_as else []
        return subprocess.run([*prefix, str(self.programs / program), *arguments], capture_output=True, text=True,
                              check=check, timeout=120)

    def _pg_ctl(self, action: str, *arguments: str) -> None:
        done = self._run("pg_ctl", action, "-D", str(self.data), "-w", "-t", "60", *arguments, check=False)
        if done.returncode != 0:
            raise ClusterUnavailable(f"pg_ctl {action} failed: {done.stderr.strip() or done.stdout.strip()}\n"
                                     f"{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def start(self) -> None:
        options = f"-k {self.folder} -h {self.host} -p {self.port}"
        self._pg_ctl("start", "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: mode "fast" (clean) or "immediate" (as a crash: recovery on restart)."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Stop the server (every connection is cut) and start it again on the same port."""
        self.stop(mode)
        self.start()


def start(folder: Path) -> Cluster:
    """Create a cluster in `folder` (which must not exist yet, or be empty) and start it."""
    programs = server_programs()
    run_as = _server_user()
    folder.mkdir(parents=True, exist_ok=True)
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(folder, account.pw_uid, account.pw_gid)
    folder.chmod(0o700)
    cluster = Cluster(folder, _free_port(), programs, run_as)
    made = cluster._run("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                        "--locale=C", "--no-sync", check=False)
    if made.returncode != 0:
        raise ClusterUnavailable(f"initdb failed: {made.stderr.strip()}")
    # A throwaway server: no fsync (a crash of the machine, not of the server, is all it would
    # guard against), enough connections for the concurrent writers, and a backend that
    # notices a killed client even while it runs a statement.
    settings = "\nfsync = off\nfull_page_writes = off\nmax_connections = 60\nlog_min_messages = warning\n"
    if _major_version(cluster) >= 14:  # the setting is new in PostgreSQL 14
        settings += "client_connection_check_interval = 200ms\n"
    with open(cluster.data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(settings)
    cluster.start()
    _wait_until_ready(cluster)
    return cluster


def _major_version(cluster: Cluster) -> int:
    """The server's major version, from the PG_VERSION file initdb writes ("15")."""
    return int((cluster.data / "PG_VERSION").read_text().strip().split(".")[0])


def _wait_until_ready(cluster: Cluster, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        ready = cluster._run("pg_isready", "-h", cluster.host, "-p", str(cluster.port), check=False)
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise ClusterUnavailable(f"the server did not accept connections:\n{cluster._log_tail()}")
        time.sleep(0.1)


def cluster_folder() -> Path:
    """A new folder for a cluster under the system's temporary folder, which every user can
    reach (pytest's own temporary folders are private to the user running the tests)."""
    return Path(tempfile.mkdtemp(prefix="arbiter-postgres-"))


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def connect(url: str, autocommit: bool = True):
    import psycopg
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)


def prepare_template(cluster: Cluster) -> None:
    """The template database with the ledger's schema (engine/ledger/postgres_schema.sql, as
    `arbiter ledger init --postgres` runs it), and the login roles of LOGINS."""
    from engine.ledger.postgres_setup import load_schema
    with connect(cluster.url) as admin:
        admin.execute(f"CREATE DATABASE {TEMPLATE}")
    with connect(cluster.url_for(TEMPLATE), autocommit=False) as template:
        load_schema(template)
        for login, group in LOGINS.items():
            template.execute(f"CREATE ROLE {login} LOGIN IN ROLE {group}")
        template.commit()


_numbers = itertools.count(1)


def create_database(cluster: Cluster) -> str:
    """A fresh copy of the template: the ledger's schema, no entry."""
    name = f"ledger_{os.getpid()}_{next(_numbers)}"
    with connect(cluster.url) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return name


def drop_database(cluster: Cluster, name: str) -> None:
    with connect(cluster.url) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def login_url(url: str, login: str, password: Optional[str] = None) -> str:
    """The same database's URL for another login role (the test server trusts local logins)."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    secret = f":{quote(password, safe='')}" if password is not None else ""
    return urlunsplit(parts._replace(netloc=f"{quote(login, safe='')}{secret}@{parts.hostname}:{parts.port}"))
