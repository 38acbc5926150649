"""The criteria language: what people write, and every message about it.

Reading YAML in the strict dialect (load), the schema of every file kind, inspection and
appointment alike (models, appointment_models, validate), the checks of cross-references
and semantic rules (check, appointment_check), finding files by id (catalog), diagnostics
and their codes (diagnostics), command-line values (options), and the schema of the decision
records that `summary` and `compare` read back (decision_model).

Imports: nothing else from the engine. Every other part may import it.
"""
