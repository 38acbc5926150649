"""The oracle: small pure-Python evaluators of the same plans (reference for inspections,
appointment_reference for appointments), which every case and generated world must agree
with.

Imports: language and compiler; never runtime, so that it shares no code with what it checks.
"""
