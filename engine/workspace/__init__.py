"""The workspace: the files a user names and the project folder they live in. Finding and
dispatching files by the kind they declare, validating, compiling every set, scoring and
testing cases (runner); the cross-reference checks on a misshapen file, so every problem is
reported at once (crosscheck); decision records read back, summarised and compared (compare).

Imports: language, compiler, runtime, oracle, inspections and appointments; not ledger.
"""
