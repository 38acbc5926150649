"""Inspections: a case read, checked against its criteria, compiled and decided, with its
margin (cases); its decision explained, observed against required, why no higher grade and
the margin in a line (explain); its decision record, built from what the runtime
returned alone (record); and cases whose sub-areas take grades from other decisions, checked
as a graph and decided inputs first (graph).

Imports: language, compiler and runtime; not appointments, oracle or ledger.
"""
