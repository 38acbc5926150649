"""The runtime: evidence tallied into facts, the facts asserted and the compiled rules fired,
for every kind of decision. Inspections: tally, decide and margin (how far the outcome is from
another, each changed evidence decided by the rules); the appointment kinds: selection
(gates, ranking and the sensitivity scan), hearing (the veto), compliance and pack (one
appointment's three decisions checked together). All of them
run through the only module that imports durable-rules and holds its traps (durable).

Imports: language and compiler.
"""
