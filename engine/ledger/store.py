"""Where a ledger lives, and which store opens it: a SQLite file (ledger.py, the embedded
default) or a PostgreSQL database named by a URL (postgres.py, for a team). Both stores have
the same methods and the same guarantees, so nothing above this module asks which it has."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from ..language.options import option_error

if TYPE_CHECKING:
    from .ledger import Ledger
    from .postgres import PostgresLedger

    Store = Union[Ledger, PostgresLedger]

# The stores are imported when a ledger is opened, not with this module: the commands that
# only name a ledger (in their help) load neither SQLite's store nor PostgreSQL's driver.
DEFAULT_LEDGER = "arbiter-ledger.sqlite"
LEDGER_ENV = "ARBITER_LEDGER"
SERVER_SCHEMES = ("postgresql://", "postgres://")
MODES = ("write", "append", "read", "verify")


def __getattr__(name: str) -> Any:
    """Store: either store's class, for annotations and isinstance; asking for it loads both."""
    if name == "Store":
        from .ledger import Ledger
        from .postgres import PostgresLedger
        return Union[Ledger, PostgresLedger]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_server_location(text: object) -> bool:
    """A PostgreSQL connection URL (postgresql://... or postgres://...)."""
    return isinstance(text, str) and text.strip().lower().startswith(SERVER_SCHEMES)


def ledger_location(option: Optional[str | Path] = None) -> str | Path:
    """--ledger, else $ARBITER_LEDGER, else arbiter-ledger.sqlite in the working folder: a URL
    stays a string (a server ledger), anything else is a file path."""
    from_environment = option is None
    text = str(option) if option is not None else os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER
    if not text.strip():
        where = f"${LEDGER_ENV}" if from_environment else "--ledger"
        raise option_error(where, "the ledger location is empty",
                           "pass a ledger file's path or a postgresql:// URL")
    if is_server_location(text):
        return text.strip()
    if "://" in text:
        raise option_error("$" + LEDGER_ENV if from_environment else "--ledger",
                           f"{text.split('://', 1)[0]}:// is not a ledger location",
                           "pass a ledger file's path, or a server ledger as postgresql://USER@HOST/DATABASE")
    return Path(text)


def open_store(location: str | Path, mode: str = "write", actor: Optional[str] = None) -> Store:
    """The ledger at location, opened for a mode: "write" (recording; a SQLite ledger is
    started where no file exists), "append" (an existing ledger), "read" or "verify" (never
    written; verify opens a damaged ledger, to say where it breaks). actor records who
    writes (chain.current_actor)."""
    server = is_server_location(location)
    store = _postgres_store() if server else _sqlite_store()
    where = str(location) if server else Path(location)
    if mode == "write":
        return store.open_for_writing(where, actor)
    if mode == "append":
        return store.open_existing_for_writing(where, actor)
    if mode == "read":
        return store.open_for_reading(where)
    if mode == "verify":
        return store.open_for_verifying(where)
    raise ValueError(f"no ledger mode {mode!r} (one of {', '.join(MODES)})")


def _sqlite_store() -> type[Ledger]:
    from .ledger import Ledger
    return Ledger


def _postgres_store() -> type[PostgresLedger]:
    from .postgres import PostgresLedger  # imports psycopg: only a server ledger needs it
    return PostgresLedger
