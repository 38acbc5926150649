"""Arbiter: declarative grading criteria compiled to durable-rules rulesets.

The pipeline, one module per stage, each taking frozen input and returning frozen output
or diagnostics:

    load      read YAML in a strict dialect, remembering file:line:col   (language/load.py)
    validate  shape and types, as frozen pydantic models                  (language/models.py, language/validate.py)
    check     cross-references and semantic rules                         (language/check.py)
    compile   criteria -> frozen Plan -> durable-rules JSON ruleset        (compiler/compile.py, compiler/plan.py)
    tally     evidence -> one tally fact per condition                    (runtime/tally.py)
    decide    facts in, durable-rules rules fire, conclusions out         (runtime/decide.py, runtime/durable.py)
    explain   observed against required; why no higher grade              (inspections/explain.py)
    record    the decision record with hashes and versions                (inspections/record.py)

Each stage lives in a package for its part, lowest first: language (what people write, and
every message about it), compiler, runtime, oracle, inspections and appointments, ledger.
A part imports only the parts below it; each package's __init__.py says which, and
tests/test_layout.py enforces it. The commands sit at the top and may import any part.

`oracle/reference.py` is an independent pure-Python evaluator of the same Plan, used as the
test oracle. `cli.py` parses arguments and renders; it decides nothing; `runner.py` holds the
library calls behind each command.

Appointments follow the same stages with their own modules: language/appointment_models and
language/appointment_check (validate, check), appointments/selection, hearing and compliance
(compile, tally, decide), oracle/appointment_reference (the oracle),
appointments/appointment_record (records, explanations) and appointments/appointments
(loading an evidence record with what it refers to); appointments/scoresheet writes blank
evidence files. compare.py summarises and compares decisions within a framework.
ledger/ledger.py stores decisions tamper-evidently; audit.py records, shows, replays,
overrides and purges them. language/decision_model.py is the schema of every decision record,
used when records are written and when `summary` and `compare` read them back. crosscheck.py
runs the cross-reference checks on the part of a misshapen file that validated, so every
problem is reported at once; language/options.py parses and locates command-line values.
"""

__version__ = "0.2.0"
