"""Setting up a PostgreSQL ledger: its tables, the roles that may use them, and the triggers
and function that hold every role to its part (postgres_schema.sql, shipped with the package).

`arbiter ledger init --postgres` is two stages: `plan_setup` connects and finds what is
missing (nothing is changed), the command shows it and asks, and `apply_setup` runs the
schema file and creates the requested login roles in one transaction. The schema file is
idempotent, so a setup that finds nothing missing changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Iterator, Optional

import psycopg
from psycopg import sql

from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.options import option_error
from .chain import FORMAT
from .postgres import lost, masked, refused, unreachable

SCHEMA_FILE = "postgres_schema.sql"
TABLES = ("meta", "entries", "blobs")
FUNCTIONS = ("arbiter_entry_hash", "arbiter_check_entry", "arbiter_check_blob", "arbiter_refuse_change",
             "arbiter_purge")
TRIGGERS = (("entries", "arbiter_check_entry"), ("blobs", "arbiter_check_blob"),
            *((table, name) for name in ("arbiter_append_only", "arbiter_no_truncate") for table in TABLES))
# Each group role, the option that names a person's login role in it, and what it may do.
GROUP_ROLES = {"arbiter_writer": ("--writer", "record decisions and overrides; read everything"),
               "arbiter_auditor": ("--auditor", "read everything; change nothing"),
               "arbiter_purger": ("--purger", "erase personal data through arbiter_purge(); read everything")}
# What each group role must hold, as has_table_privilege / has_function_privilege ask it.
PRIVILEGES = {"arbiter_writer": (("entries", "SELECT, INSERT"), ("blobs", "SELECT, INSERT"), ("meta", "SELECT")),
              "arbiter_auditor": tuple((table, "SELECT") for table in TABLES),
              "arbiter_purger": tuple((table, "SELECT") for table in TABLES)}
PURGE_SIGNATURE = "public.arbiter_purge(text[], text, text, text, text)"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def schema_sql() -> str:
    """The schema file shipped with the package: tables, roles, grants, triggers, purge function."""
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema(connection: psycopg.Connection) -> None:
    """Run the schema file on an open connection, inside its current transaction."""
    connection.execute(schema_sql())


def password_variable(group: str) -> str:
    """The environment variable holding the password of a new login role in a group role:
    $ARBITER_WRITER_PASSWORD, $ARBITER_AUDITOR_PASSWORD, $ARBITER_PURGER_PASSWORD."""
    return f"ARBITER_{group.removeprefix('arbiter_').upper()}_PASSWORD"


@dataclass(frozen=True)
class Login:
    name: str
    group: str
    exists: bool  # the role exists already; it then only joins its group
    password_from: Optional[str]  # the environment variable its password comes from, when set

    def describe(self) -> str:
        if self.exists:
            return f"the existing role {self.name} joins {self.group}"
        password = (f"password from ${self.password_from}" if self.password_from else
                    f"no password: set ${password_variable(self.group)} to give one")
        return f"login role {self.name} in {self.group} ({password})"


@dataclass(frozen=True)
class SetupPlan:
    url: str
    missing: tuple[str, ...]  # what the schema file will create, in words
    logins: tuple[Login, ...]  # login roles to create, or to add to their group

    @property
    def place(self) -> str:
        return masked(self.url)

    @property
    def nothing_to_do(self) -> bool:
        return not self.missing and not self.logins

    def lines(self) -> list[str]:
        return [*self.missing, *(login.describe() for login in self.logins)]


def plan_setup(url: str, logins: dict[str, Optional[str]]) -> SetupPlan:
    """What setting up the ledger at url would create; changes nothing. logins maps each
    group role to the login role to create in it (or None)."""
    problems = _bad_names(logins)
    if problems:
        raise DiagnosticError(problems)
    with _server(url) as db:
        _refuse_unusable(db, url)
        missing = _missing(db)
        wanted = tuple(_login(db, name, group) for group, name in logins.items() if name)
        joining = tuple(login for login in wanted if not _member(db, login))
        _refuse_without_rights(db, url, creates_roles=bool(joining) or any("group role" in line for line in missing))
        return SetupPlan(url, tuple(missing), joining)


def apply_setup(plan: SetupPlan) -> None:
    """Create what the plan found missing, in one transaction: all of it, or nothing."""
    with _server(plan.url) as db:
        with db.transaction():
            load_schema(db)
            for login in plan.logins:
                _create_login(db, login)


@contextlib.contextmanager
def _server(url: str) -> Iterator[psycopg.Connection]:
    """A connection to the server; its failures and refusals as diagnostics (the password masked)."""
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=15, application_name="arbiter ledger init")
    except psycopg.Error as error:
        raise unreachable(url, error) from None
    try:
        with db:
            yield db
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise lost(url, error) from None
    except psycopg.Error as error:
        raise refused(url, error) from None


def _bad_names(logins: dict[str, Optional[str]]) -> list[Diagnostic]:
    problems = []
    for group, name in logins.items():
        option = GROUP_ROLES[group][0]
        if name is None:
            continue
        if not ROLE_NAME.fullmatch(name) or name.startswith("pg_") or name in GROUP_ROLES:
            problems.extend(option_error(option, f"{name[:70]!r} cannot be a login role's name",
                                         "use lowercase letters, digits and _ (at most 63, not starting with a digit "
                                         "or pg_), and not a group role's name").diagnostics)
    chosen = [name for name in logins.values() if name]
    for name in sorted({name for name in chosen if chosen.count(name) > 1}):
        first = next(group for group, given in logins.items() if given == name)
        problems.extend(option_error(GROUP_ROLES[first][0], f"{name!r} is named for more than one role",
                                     "give each person one role: a writer, an auditor or a purger").diagnostics)
    return problems


def _refuse_unusable(db: psycopg.Connection, url: str) -> None:
    """A database that cannot hold a ledger: not UTF8, or a ledger of another format."""
    encoding = db.execute("SELECT current_setting('server_encoding')").fetchone()[0]
    if encoding != "UTF8":
        raise _at(url, f"the database uses the {encoding} encoding; a ledger needs UTF8",
                  "create the database with: CREATE DATABASE name ENCODING 'UTF8' TEMPLATE template0")
    if db.execute("SELECT to_regclass('public.meta')").fetchone()[0] is None:
        return
    formats = [value for (value,) in db.execute("SELECT value FROM public.meta WHERE key = 'format'")]
    if formats and formats != [FORMAT]:
        raise _at(url, f"the database holds a ledger of format {formats[0]!r}; this release sets up {FORMAT}",
                  "nothing was created; use the release that wrote it, or a new database")


def _missing(db: psycopg.Connection) -> list[str]:
    """What the schema file would create that the database does not hold yet, in words."""
    missing = [f"table {table}" for table in TABLES if not _exists(db, "SELECT to_regclass(%s)", f"public.{table}")]
    if "table meta" not in missing and not _exists(db, "SELECT 1 FROM public.meta WHERE key = 'format'"):
        missing.append(f"the format row of meta ({FORMAT})")
    functions = [f"{name}()" for name in FUNCTIONS
                 if not _exists(db, "SELECT 1 FROM pg_proc WHERE proname = %s AND pronamespace = 'public'::regnamespace",
                                name)]
    triggers = [f"{name} on {table}" for table, name in TRIGGERS
                if not _exists(db, "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = to_regclass(%s)",
                               name, f"public.{table}")]
    missing += [f"functions {', '.join(functions)}"] if functions else []
    missing += [f"triggers {', '.join(triggers)}"] if triggers else []
    schema_complete = not missing  # the privileges are asked of tables and a function that exist
    for group, (_, may) in GROUP_ROLES.items():
        if not _exists(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", group):
            missing.append(f"group role {group} (NOLOGIN): may {may}")
        elif schema_complete and not _holds_privileges(db, group):
            missing.append(f"the privileges of {group}: may {may}")
    return missing


def _holds_privileges(db: psycopg.Connection, group: str) -> bool:
    held = all(_exists(db, "SELECT 1 WHERE has_table_privilege(%s, %s, %s)", group, f"public.{table}", privilege)
               for table, privileges in PRIVILEGES[group] for privilege in privileges.split(", "))
    may_purge = _exists(db, "SELECT 1 WHERE has_function_privilege(%s, %s, 'EXECUTE')", group, PURGE_SIGNATURE)
    return held and may_purge == (group == "arbiter_purger")


def _exists(db: psycopg.Connection, query: str, *parameters: str) -> bool:
    row = db.execute(query, parameters).fetchone()
    return row is not None and row[0] is not None


def _login(db: psycopg.Connection, name: str, group: str) -> Login:
    variable = password_variable(group)
    return Login(name, group, _exists(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", name),
                 variable if os.environ.get(variable) else None)


def _member(db: psycopg.Connection, login: Login) -> bool:
    return login.exists and _exists(
        db, "SELECT 1 FROM pg_roles WHERE rolname = %s AND pg_has_role(%s, %s, 'MEMBER')",
        login.group, login.name, login.group)


def _refuse_without_rights(db: psycopg.Connection, url: str, creates_roles: bool) -> None:
    """The connecting role must be able to create the tables, and the roles when some are new."""
    superuser, create_role = db.execute(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
    user = db.execute("SELECT current_user").fetchone()[0]
    problems = []
    if not superuser and not _exists(db, "SELECT 1 WHERE has_schema_privilege('public', 'CREATE')"):
        problems.append(f"the role {user} may not create tables in the schema public")
    if creates_roles and not (superuser or create_role):
        problems.append(f"the role {user} may not create roles (it has no CREATEROLE)")
    if problems:
        raise DiagnosticError([Diagnostic(f"--ledger {masked(url)}", 0, 0, "E170", f"{problem}; nothing was created",
                                          "connect as the database's owner with CREATEROLE, or as a superuser")
                               for problem in problems])


def _create_login(db: psycopg.Connection, login: Login) -> None:
    if login.exists:
        db.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(login.group), sql.Identifier(login.name)))
        return
    password = os.environ.get(login.password_from) if login.password_from else None
    statement = sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(sql.Identifier(login.name),
                                                                  sql.Identifier(login.group))
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    db.execute(statement)


def _at(url: str, message: str, hint: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic(f"--ledger {masked(url)}", 0, 0, "E170", message, hint)])
