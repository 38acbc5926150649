"""The ledger: decisions stored tamper-evidently in SQLite, hash-chained, with their
evidence, criteria and rules as blobs (ledger).

Imports: language only. What is recorded, shown, replayed, overridden and purged is decided
by `engine/audit.py`, at the top, which scores and replays through the other parts.
"""
