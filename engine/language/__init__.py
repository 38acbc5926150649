"""The criteria language: what people write, and every message about it.

Reading YAML in the strict dialect, or evidence handed over in code (load); the schema of
every file kind, inspection and appointment alike (models, appointment_models, pack_models,
validate); the
checks of cross-references and semantic rules (check, appointment_check); a criteria set read
and checked with its framework and scale (criteria); finding files by id (catalog);
diagnostics and their codes (diagnostics); command-line values located by option (options);
the schema of the decision records that `summary` and `compare` read back (decision_model);
and the canonical forms and hashes every record and ledger entry uses (canonical).

Imports: nothing else from the engine. Every other part may import it.
"""
