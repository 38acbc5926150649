"""Inspections: a case read, checked against its criteria, compiled and decided (cases); its
decision explained, observed against required and why no higher grade (explain); and its
decision record, built from the evaluation alone (record).

Imports: language, compiler and runtime; not appointments, oracle or ledger.
"""
