"""The compiler: checked criteria to a frozen plan and a durable-rules ruleset. An inspection
criteria set (plan, compile, which also writes the `rules/` files), a selection process
(selection), panel rules (hearing), a compliance framework (compliance) and pack rules (pack).

Imports: language only.
"""
