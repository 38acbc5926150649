"""Writing a new file for the user (a scoresheet, a blank record, a lint witness): whole or
not at all, and never over anything already there.

The text goes to a temporary file beside the target, created as any new file is (0o666 less
the umask) and never through a link, and is then linked into place. A link is atomic and never
replaces a name that exists, a symbolic link included, so a reader never sees half a file and
nothing the user has is overwritten, even by a file that appeared meanwhile.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Iterable

from .diagnostics import DiagnosticError
from .options import option_error


def write_new_file(path: Path, text: str | bytes, option: str, hint: str = "give a new file name") -> None:
    """Write text (or bytes) to path, which must not exist; anything in the way is E117 at the option."""
    write_new_file_from(path, [text], option, hint)


def write_new_file_from(path: Path, chunks: Iterable[str | bytes], option: str, hint: str = "give a new file name"
                        ) -> None:
    """Like write_new_file, for text made piece by piece (an export of a whole ledger): nothing
    is in place until the last piece is written, and a failure on the way leaves nothing."""
    if os.path.lexists(path):  # said before any piece is made; the link below still never overwrites
        raise _in_the_way(path, option, hint)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except (OSError, ValueError) as error:
        raise _unwritable(path, error, option) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))
        os.link(temporary, path, follow_symlinks=False)
    except FileExistsError:
        raise _in_the_way(path, option, hint) from None
    except (OSError, ValueError) as error:
        raise _unwritable(path, error, option) from None
    finally:
        os.unlink(temporary)


def _in_the_way(path: Path, option: str, hint: str) -> DiagnosticError:
    refusal = ("is a symbolic link; a file is never written through one" if path.is_symlink()
               else "exists; a file is never overwritten")
    return option_error(option, f"{path} {refusal}", hint, "E117")


def _unwritable(path: Path, error: Exception, option: str) -> DiagnosticError:
    reason = getattr(error, "strerror", None) or str(error)
    return option_error(option, f"cannot write {path}: {reason}", "give a file name in a folder you can write to",
                        "E117")
