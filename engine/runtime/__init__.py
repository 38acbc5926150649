"""The runtime: evidence counted into one tally fact per condition (tally), the fact
asserted and the rules fired (decide), over the only module that imports durable-rules
and holds its traps (durable).

Imports: language and compiler.
"""
