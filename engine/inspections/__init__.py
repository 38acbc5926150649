"""Inspections: scoring a case (cases), explaining its decision, observed against required
and why no higher grade (explain), and building its decision record (record).

Imports: language, compiler and runtime; not appointments, oracle or ledger.
"""
