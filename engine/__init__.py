"""Arbiter: declarative grading criteria compiled to durable-rules rulesets.

The pipeline, one module per stage, each taking frozen input and returning frozen output
or diagnostics:

    load      read YAML in a strict dialect, remembering file:line:col   (load.py)
    validate  shape and types, as frozen pydantic models                  (models.py, validate.py)
    check     cross-references and semantic rules                         (check.py)
    compile   criteria -> frozen Plan -> durable-rules JSON ruleset        (compile.py, plan.py)
    tally     evidence -> one tally fact per condition                    (tally.py)
    decide    facts in, durable-rules rules fire, conclusions out         (decide.py, durable.py)
    explain   observed against required; why no higher grade              (explain.py)
    record    the decision record with hashes and versions                (record.py)

`reference.py` is an independent pure-Python evaluator of the same Plan, used as the
test oracle. `cli.py` parses arguments and renders; it decides nothing; `runner.py` holds the
library calls behind each command.

Appointments follow the same stages with their own modules: appointment_models and
appointment_check (validate, check), selection, hearing and compliance (compile, tally,
decide), appointment_reference (the oracle), appointment_record (records, explanations)
and appointments (loading an evidence record with what it refers to); scoresheet writes
blank evidence files. compare.py summarises and compares decisions within a framework.
ledger.py stores decisions tamper-evidently; audit.py records, shows, replays, overrides
and purges them. decision_model.py is the schema of every decision record, used when records
are written and when `summary` and `compare` read them back. crosscheck.py runs the
cross-reference checks on the part of a misshapen file that validated, so every problem is
reported at once; options.py parses and locates command-line values.
"""

__version__ = "0.2.0"
