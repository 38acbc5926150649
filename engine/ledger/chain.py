"""The hash chain's recipe, shared by both ledger backends (SQLite and PostgreSQL).

An entry's hash covers the previous entry's hash and every field of the entry. Two recipes
exist, and which one an entry uses is fixed by the entry itself:

- recipe 2 (every entry written by a ledger of schema 2 or later): the sha256, in lowercase
  hex, of the RFC 8785 canonical JSON (JCS) of the object
  {"actor", "body", "host", "prev", "recorded_at", "ref", "refs", "seq", "type"}: every value
  a string but "seq" (an integer) and "refs" (a list of strings, in order);
- recipe 1 (entries written before schema 2, kept as they were by `arbiter ledger upgrade`,
  which leaves their actor and host empty, NULL): the sha256 of the UTF-8 bytes of prev, seq,
  type, ref, refs (joined by one space), recorded_at and body, joined by the unit separator
  U+001F.

An entry whose actor and host are NULL is a recipe-1 entry; giving a recipe-2 entry a NULL
actor does not make it verify, since its stored hash is not the recipe-1 hash of its fields.
README.md, "The hash recipe", states the same for anyone recomputing it elsewhere.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from typing import Optional

from ..language.canonical import HASH, sha256_text

GENESIS = "0" * 64  # the prev of entry 1
SCHEMA_VERSION = 2  # the tables both backends hold: entries with actor and host
FORMAT = f"arbiter-ledger/{SCHEMA_VERSION}"  # meta's one row, format = FORMAT
LEGACY_FORMATS = {"arbiter-ledger/1": 1}  # formats `arbiter ledger upgrade` migrates, with their schema version
SEPARATOR = "\x1f"  # recipe 1: between the hashed columns (no column may contain it)
ACTOR_ENV = "ARBITER_ACTOR"


@dataclass(frozen=True)
class Entry:
    seq: int
    prev: str
    hash: str
    type: str  # decision | override | purge
    ref: str  # decision_id for decisions and overrides
    refs: tuple[str, ...]  # blob hashes this entry rests on
    recorded_at: str
    body: str  # JSON details
    actor: Optional[str] = None  # who recorded it; None only on recipe-1 entries
    host: Optional[str] = None  # the machine it was recorded from; None only on recipe-1 entries

    @property
    def recipe(self) -> int:
        return 1 if self.actor is None and self.host is None else 2


def chain_object(seq: int, prev: str, type_: str, ref: str, refs: tuple[str, ...] | list[str], recorded_at: str,
                 body: str, actor: str, host: str) -> dict:
    """What recipe 2 hashes: every field of the entry but its own hash."""
    return {"actor": actor, "body": body, "host": host, "prev": prev, "recorded_at": recorded_at, "ref": ref,
            "refs": list(refs), "seq": seq, "type": type_}


def entry_hash(seq: int, prev: str, type_: str, ref: str, refs: tuple[str, ...] | list[str], recorded_at: str,
               body: str, actor: Optional[str], host: Optional[str]) -> str:
    """An entry's hash by its recipe (see the module's docstring). Recipe 2's canonical JSON is
    `fast_chain_bytes`, which is RFC 8785's (rfc8785.dumps of `chain_object`) byte for byte and
    many times faster: recording a large batch and verifying a large ledger hash every entry."""
    if actor is None and host is None:
        return sha256_text(SEPARATOR.join((prev, str(seq), type_, ref, " ".join(refs), recorded_at, body)))
    return HASH(fast_chain_bytes(seq, prev, type_, ref, list(refs), recorded_at, body, actor or "",
                                 host or "")).hexdigest()


def hash_of(entry: Entry) -> str:
    """The hash an entry's fields give; a sound entry stores exactly this."""
    return entry_hash(entry.seq, entry.prev, entry.type, entry.ref, entry.refs, entry.recorded_at, entry.body,
                      entry.actor, entry.host)


def fast_chain_bytes(seq: int, prev: str, type_: str, ref: str, refs: list[str], recorded_at: str, body: str,
                     actor: str, host: str) -> bytes:
    """Recipe 2's canonical JSON through the standard library's C string encoder, for verify's
    hot loop. For this object (ASCII keys in a fixed order, string and integer values, a list
    of strings) it is byte for byte RFC 8785's: JSON's escapes for '"', '\\' and the control
    characters (\\b \\t \\n \\f \\r, else \\u00xx in lowercase hex), everything else as
    UTF-8. tests/test_hash_recipe.py holds the two equal on any strings."""
    return (_RECIPE_2 % (_string(actor), _string(body), _string(host), _string(prev), _string(recorded_at),
                         _string(ref), ",".join(map(_string, refs)), seq, _string(type_))).encode("utf-8")


_RECIPE_2 = '{"actor":%s,"body":%s,"host":%s,"prev":%s,"recorded_at":%s,"ref":%s,"refs":[%s],"seq":%d,"type":%s}'
_string = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]


def recipe_2_bytes(seq: int, prev: bytes, type_: bytes, ref: bytes, refs: list[bytes], recorded_at: bytes,
                   body: bytes, actor: Optional[bytes], host: Optional[bytes]) -> bytes:
    """fast_chain_bytes over columns read as raw bytes (verify's loop). When every byte of the
    hashes, ids, type and time is printable ASCII other than '"' and '\\', and every byte of
    the body, actor and host printable ASCII other than '\\' (checked at once: what a ledger
    writes), JCS writes them as they are but for '"' as '\\"', so the bytes are put together
    directly; anything else goes through fast_chain_bytes. Bytes that are not UTF-8, or values
    that are not text (only in a changed file), give b'', which no sound entry hashes to."""
    try:
        actor, host = actor or b"", host or b""
        if not (prev + type_ + ref + recorded_at + b"".join(refs)).translate(None, _PLAIN) \
                and not (body + actor + host).translate(None, _QUOTABLE):
            return _RECIPE_2_BYTES % (actor.replace(b'"', b'\\"'), body.replace(b'"', b'\\"'),
                                      host.replace(b'"', b'\\"'), prev, recorded_at, ref,
                                      b'"%s"' % b'","'.join(refs) if refs else b"", seq, type_)
        return fast_chain_bytes(seq, prev.decode(), type_.decode(), ref.decode(), [r.decode() for r in refs],
                                recorded_at.decode(), body.decode(), actor.decode(), host.decode())
    except (UnicodeDecodeError, AttributeError, TypeError):  # a value of another type: only in a changed file
        return b""


_QUOTABLE = bytes(c for c in range(0x20, 0x7f) if c != ord("\\"))  # JCS writes these as they are, '"' escaped
_PLAIN = _QUOTABLE.replace(b'"', b"")  # and these as they are
_RECIPE_2_BYTES = (b'{"actor":"%s","body":"%s","host":"%s","prev":"%s","recorded_at":"%s","ref":"%s","refs":[%s],'
                   b'"seq":%d,"type":"%s"}')


def current_actor(by: Optional[str]) -> str:
    """Who records: --by, else $ARBITER_ACTOR, else the operating system's user name."""
    for name in (by, os.environ.get(ACTOR_ENV)):
        if name and name.strip():
            return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container): its number
        return f"uid {os.getuid()}"


def current_host() -> str:
    return socket.gethostname() or "unknown"
