"""The oracle: small pure-Python evaluators that decide from the criteria files as written
(reference for inspections, appointment_reference for appointments, pack_reference for
appointment packs), which every case and generated world must agree with.

Imports: language only; never compiler or runtime, so that it shares no threshold, rule order
or arithmetic with the path it checks.
"""
