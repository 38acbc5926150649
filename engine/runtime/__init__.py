"""The runtime: evidence tallied into facts, the facts asserted and the compiled rules fired,
for every kind of decision. Inspections: tally and decide; the appointment kinds: selection
(gates, ranking and the sensitivity scan), hearing (the veto) and compliance. All of them
run through the only module that imports durable-rules and holds its traps (durable).

Imports: language and compiler.
"""
