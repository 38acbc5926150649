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

import sys
import types

from . import api
from .api import __all__  # the Python API, exactly: engine/api.py lists it


def __getattr__(name: str) -> object:
    """Each name of the API, taken from engine/api.py when first asked for: importing this
    package (as every command does) loads none of the parts below until a name needs them."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(api, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """This package, whose API names stay the API's: the function `lint` shares its name with
    the part engine/lint/, and importing a part sets the attribute of its name on the package.
    The part is still imported, and found by its full name (`from engine.lint import ...`)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
