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
test oracle. `cli.py` parses arguments and renders; it decides nothing.
"""

__version__ = "0.1.0"
