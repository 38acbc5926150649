"""Moving a ledger's contents out and across: export, copy, and log rows for other tools.

- `export` writes every entry in order, with every field the chain covers (actor and host
  included) and the blobs it rests on, as JSON Lines: one object per entry, keys sorted,
  so the same ledger always exports the same bytes. Each blob appears once, on the line of
  the first entry that rests on it; `refs` names every blob of every entry.
- `copy` appends a source ledger's entries to a destination (SQLite or PostgreSQL) exactly
  as they are, each with its own seq, prev, hash, time, actor and host, so the destination's
  head is the source's. It reads the same records `export` writes, so what an export holds
  is exactly what a copy needs.
- `log_records` gives `arbiter log`'s rows with machine-readable names for JSON Lines and CSV.

A blob's content is exported as text when it is UTF-8 JSON (every blob a ledger writes is),
else in base64 with "encoding": "base64"; an erased blob has "content": null and its
"erased_at".
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

from ..language.diagnostics import Diagnostic, DiagnosticError
from .chain import Entry
from .ledger import Verification

if TYPE_CHECKING:  # for the annotations only: audit imports the whole engine
    from .audit import LogRow
    from .store import Store

# (kind, sha256, content or None when erased, erased_at): what a store's copy_in takes
BlobRow = tuple[str, str, Optional[bytes], Optional[str]]


@dataclass(frozen=True)
class Exported:
    """One entry and the blobs it is the first to rest on."""
    entry: Entry
    blobs: tuple[BlobRow, ...]


def exported(store: Store) -> Iterator[Exported]:
    """Every entry of a ledger in order, each with the blobs no earlier entry rested on,
    in the order of its refs, as they are stored now (an erased blob without content)."""
    seen: set[str] = set()
    for entry in store.entries():
        fresh = [sha for sha in dict.fromkeys(entry.refs) if sha not in seen]
        seen.update(fresh)
        yield Exported(entry, tuple(_stored_blob(store, sha) for sha in fresh))


def _stored_blob(store: Store, sha: str) -> BlobRow:
    blob = store.blob(sha)
    if blob is None:  # a store checks this on open and on verify: only a ledger changed meanwhile
        raise DiagnosticError([Diagnostic(store.place, 0, 0, "E170", f"blob {sha[:12]} is not in the ledger",
                                          "run arbiter verify to see what is wrong")])
    erased_at = store.erased_at(sha)
    return blob.kind, sha, None if erased_at is not None else bytes(blob.content), erased_at


# --- JSON Lines -------------------------------------------------------------------------

def export_lines(store: Store) -> Iterator[str]:
    """`arbiter export`: one JSON object per entry, each a line ending in a newline."""
    for record in exported(store):
        yield export_line(record) + "\n"


def export_line(record: Exported) -> str:
    entry = record.entry
    fields = {"seq": entry.seq, "prev": entry.prev, "hash": entry.hash, "type": entry.type, "ref": entry.ref,
              "refs": list(entry.refs), "recorded_at": entry.recorded_at, "body": entry.body, "actor": entry.actor,
              "host": entry.host, "blobs": [_blob_object(blob) for blob in record.blobs]}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _blob_object(blob: BlobRow) -> dict[str, Any]:
    kind, sha, content, erased_at = blob
    fields: dict[str, Any] = {"kind": kind, "sha256": sha, "content": None, "erased_at": erased_at}
    if content is not None:
        text = _json_text(content)
        fields["content"] = text if text is not None else base64.b64encode(content).decode("ascii")
        if text is None:
            fields["encoding"] = "base64"
    return fields


def _json_text(content: bytes) -> Optional[str]:
    """The content as text when it is UTF-8 JSON; its UTF-8 encoding gives the bytes back."""
    try:
        text = content.decode("utf-8")
        json.loads(text)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        return None
    return text


def parse_export_line(line: str) -> Exported:
    """An exported line read back: the inverse of `export_line`."""
    fields = json.loads(line)
    entry = Entry(fields["seq"], fields["prev"], fields["hash"], fields["type"], fields["ref"], tuple(fields["refs"]),
                  fields["recorded_at"], fields["body"], fields["actor"], fields["host"])
    return Exported(entry, tuple(_blob_row(blob) for blob in fields["blobs"]))


def _blob_row(fields: dict[str, Any]) -> BlobRow:
    content = fields["content"]
    if content is not None:
        content = base64.b64decode(content) if fields.get("encoding") == "base64" else content.encode("utf-8")
    return fields["kind"], fields["sha256"], content, fields["erased_at"]


# --- copy -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Copied:
    source: str
    destination: str
    held: int  # entries the destination held before: the first `held` entries of the source's chain
    copied: int  # entries appended
    blobs: int  # blobs sent with them
    head: str  # the head both ledgers have now


def copy(source: Store, destination: Store, source_verified: Optional[Verification] = None) -> Copied:
    """Append to `destination` every entry of `source` it does not hold, exactly as it is,
    in one transaction: all of them or, when anything fails, none.

    Both ledgers are verified first, and the destination must be empty or hold the first
    entries of the source's chain (then the copy continues from there); anything else is
    E184, and nothing is written. The copy stops at the source's head as verified, so
    entries appended to the source meanwhile are left for the next copy. The destination is
    verified again afterwards, and the source's head must be in its chain (its last entry,
    unless another writer appended to the destination since). `source_verified`: the
    source's verification, when the caller verified it before opening the destination (so
    a broken source starts no new ledger)."""
    wanted = source_verified or verified_source(source)
    held = _verified(destination, "the destination")
    _require_prefix(source, destination, held, wanted)
    copied = blobs = 0
    if held.entries < wanted.entries:
        with destination.transaction(), contextlib.closing(exported(source)) as records:
            for record in records:
                if record.entry.seq > wanted.entries:
                    break
                if record.entry.seq > held.entries:
                    _require_not_erased_only_here(destination, record, held.entries)
                    _copy_in(destination, record)
                    copied, blobs = copied + 1, blobs + len(record.blobs)
    _verified(destination, "the destination after the copy", wanted.head if wanted.entries else None,
              "the copy was committed; run arbiter verify on both ledgers")
    return Copied(str(source.path), str(destination.path), held.entries, copied, blobs, wanted.head)


def verified_source(source: Store) -> Verification:
    """The source's Verification; E170 when it does not verify: a broken ledger is never copied."""
    return _verified(source, "the source")


def _verified(store: Store, what: str, head: Optional[str] = None,
              hint: str = "nothing was copied; run arbiter verify") -> Verification:
    verification = store.verify(head)
    if not verification.ok:
        where = f"entry {verification.at}: " if verification.at is not None else ""
        raise DiagnosticError([Diagnostic(store.place, 0, 0, "E170", f"{what} does not verify: {where}"
                                          f"{verification.problem}", hint)])
    return verification


def _require_prefix(source: Store, destination: Store, held: Verification, wanted: Verification) -> None:
    """The destination holds nothing, or exactly the source's first entries."""
    if held.entries == 0:
        return
    if held.entries > wanted.entries:
        raise _refused(destination, f"it holds {held.entries} entries, more than the source's {wanted.entries}")
    at = _entry_at(source, held.entries)
    if at.hash != held.head:
        raise _refused(destination, f"its entry {held.entries} (hash {held.head[:12]}) is not the source's entry "
                                    f"{held.entries} (hash {at.hash[:12]}): the two chains diverge")


def _entry_at(store: Store, seq: int) -> Entry:
    with contextlib.closing(store.entries()) as entries:
        for entry in entries:
            if entry.seq == seq:
                return entry
    raise _refused(store, f"it has no entry {seq}")


def _require_not_erased_only_here(destination: Store, record: Exported, held: int) -> None:
    """A copy appends and never erases: personal data the destination holds that a later
    purge of the source erased cannot follow it there."""
    if record.entry.type != "purge" or held == 0:
        return
    for sha in record.entry.refs:
        if destination.blob(sha) is not None and destination.erased_at(sha) is None:
            raise _refused(destination, f"it holds personal data (blob {sha[:12]}) that entry {record.entry.seq} "
                                        "of the source erased, and a copy never erases",
                           "nothing was copied; copy into a new, empty ledger instead")


def _copy_in(destination: Store, record: Exported) -> None:
    try:
        destination.copy_in(record.entry, list(record.blobs))
    except ValueError as error:  # the store refused the entry as it stands (link, number or hash)
        raise _refused(destination, f"entry {record.entry.seq} of the source cannot follow its head: {error}",
                       "nothing was copied; run arbiter verify on both") from None


def _refused(store: Store, what: str, hint: str = "nothing was copied; copy into a new, empty ledger, or into one "
                                                "that holds the source's first entries") -> DiagnosticError:
    return DiagnosticError([Diagnostic(store.place, 0, 0, "E184",
                                       f"cannot copy into this ledger: {what}", hint)])


# --- log rows ---------------------------------------------------------------------------

LOG_FIELDS = ("entry", "recorded_at", "actor", "decision_id", "case", "subject", "framework", "computed", "override",
              "revises", "superseded_by")


def log_records(rows: Iterable[LogRow]) -> list[dict[str, Any]]:
    """`arbiter log`'s rows for other tools: the table's columns with machine-readable
    names, the time in ISO 8601 as recorded, no value left out (null when there is none)."""
    return [{"entry": row.seq, "recorded_at": row.recorded_at, "actor": row.actor, "decision_id": row.decision_id,
             "case": row.case, "subject": row.subject, "framework": row.framework, "computed": row.computed,
             "override": row.override, "revises": list(row.revises), "superseded_by": row.superseded_by}
            for row in rows]


def log_jsonl(rows: Iterable[LogRow]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for record in log_records(rows))


def log_csv(rows: Iterable[LogRow]) -> str:
    """A header line, then a line per decision; `revises` joins decision ids by spaces, and a
    missing value is an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LOG_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in log_records(rows):
        writer.writerow({key: " ".join(value) if isinstance(value, list) else ("" if value is None else value)
                         for key, value in record.items()})
    return out.getvalue()

