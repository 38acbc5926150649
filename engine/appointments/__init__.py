"""Appointments: an evidence record loaded and checked with the rules it names, those compiled
and the decision taken through compiler/ and runtime/ (appointments); its decision records
and explanations, built from what the runtime decided (appointment_record); one appointment's
selection, compliance and hearing read together and decided as a pack (pack); blank
evidence files (scoresheet), their spreadsheet form (spreadsheet), and a filled form or CSV
file of ratings read back into evidence (ratings_import).

Imports: language, compiler and runtime; not inspections, oracle or ledger.
"""
