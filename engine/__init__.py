"""Arbiter: declarative grading criteria compiled to durable-rules rulesets.

The pipeline, one stage after another, each taking frozen input and returning frozen output
or diagnostics; scoring a case enters each stage once, in this order (tests/test_flow.py):

    read      YAML in a strict dialect with file:line:col (language/load), validated as
              frozen models (language/validate), checked (language/check, criteria,
              appointment_check)
    compile   criteria -> frozen plan -> durable-rules ruleset (compiler/)
    decide    evidence tallied into facts, the rules fired, conclusions out; for an
              inspection, its margin: changed evidence decided the same way (runtime/)
    report    observed against required, why no higher grade, and the decision record,
              built from the evaluation alone (inspections/explain, record;
              appointments/appointment_record); hashes from language/canonical
    ledger    the record kept tamper-evidently (ledger/)

Each part is a package, lowest first: language, compiler, runtime, oracle, inspections and
appointments, workspace, then ledger, lint (what `arbiter lint` finds in criteria) and report
(the HTML reports of `arbiter report`). A
part imports only the parts below it; each package's
__init__.py says which, and tests/test_layout.py enforces it. At the top, api.py is the
Python API (this package exports exactly it) and cli.py parses arguments and renders,
calling api.py and nothing else.

`oracle/` holds independent pure-Python evaluators that read the criteria as written (never the
compiler's plans), used as the test oracle.
"""

from .api import *  # noqa: F401,F403 - the Python API, exactly: engine/api.py lists it
from .api import __all__, __version__  # noqa: F401
