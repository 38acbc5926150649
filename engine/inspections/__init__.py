"""Inspections: a case read, checked against its criteria, compiled and decided, with its
margin (cases); its decision explained, observed against required, why no higher grade and
the margin in a line (explain); and its decision record, built from what the runtime
returned alone (record).

Imports: language, compiler and runtime; not appointments, oracle or ledger.
"""
