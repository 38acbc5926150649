"""The ledger: decisions stored tamper-evidently in SQLite, hash-chained, with their evidence,
criteria and rules as blobs (ledger); and what is done with them: record, show, log,
replay, override and purge (audit), which rebuilds a stored decision through the same
stages as `score`; what a revision supersedes and how its evidence differs (revisions).

Imports: language, compiler, runtime, inspections, appointments and workspace. The storage
(ledger.py) imports language only.
"""
