"""Appointments: each rules kind compiled and decided (selection, hearing, compliance), an
evidence record loaded with what it refers to (appointments), its decision records and
explanations (appointment_record), and blank evidence files (scoresheet).

Imports: language, compiler and runtime; not inspections, oracle or ledger.
"""
