"""Appointments: an evidence record loaded and checked with the rules it names, those compiled
and the decision taken through compiler/ and runtime/ (appointments); its decision records
and explanations, built from what the runtime decided (appointment_record); and blank
evidence files (scoresheet).

Imports: language, compiler and runtime; not inspections, oracle or ledger.
"""
