"""The ledger: decisions stored tamper-evidently in SQLite, hash-chained, with their evidence,
criteria and rules as blobs (ledger); and what is done with them: record, show, log,
replay, override and purge (audit), which rebuilds a stored decision through the same
stages as `score`; what a revision supersedes and how its evidence differs (revisions).

The hash chain's recipe, the same for every store, is chain.py. Two stores hold a ledger
with the same methods: a SQLite file (ledger.py) and a PostgreSQL database (postgres.py);
store.py tells a location's kind (a path or a postgresql:// URL) and opens the right one.
transfer.py moves a ledger's contents out and across: export (JSON Lines), copy between
stores, and log rows for other tools.

Imports: language, compiler, runtime, inspections, appointments and workspace. The storage
(ledger.py) and the recipe (chain.py) import language only.
"""
