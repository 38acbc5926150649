"""bench/decision_bench.py runs to the end and judges every target it states.

A smoke run with the smallest counts: no figure is checked against a speed, only that each
one is printed with its target and a verdict, and that nothing went wrong (exit 0: the two
evaluators agree, records repeat, the commands succeed, nothing is left behind).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from .conftest import ROOT

JUDGED = ("evaluate() alone", "full decision records", "arbiter --help CPU", "arbiter score", "bulk with --jobs 2",
          "memory")
VERDICT = re.compile(r"   target: .+ -> (MET|NOT MET)$")


def test_every_target_is_judged_in_a_smoke_run():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "decision_bench.py"), "--quick", "--decisions", "200",
                           "--files", "6", "--repeats", "1"], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name in JUDGED:
        judged = [line for line in lines if line.startswith(name) and VERDICT.search(line)]
        assert judged, f"no line for '{name}' with its target and MET or NOT MET:\n{proc.stdout}"
    # the score line comes twice: CPU and wall
    assert len([line for line in lines if line.startswith("arbiter score") and VERDICT.search(line)]) == 2
    for name in ("margin", "bulk in one process"):  # figures with no target of their own say so
        assert [line for line in lines if line.startswith(f"{name}: ") and "   target: none" in line], proc.stdout
    assert not [line for line in lines if line.startswith("PROBLEM")]
