"""The compiler: checked criteria to a frozen plan and a durable-rules ruleset. An inspection
criteria set (plan, compile, which also writes the `rules/` files), a selection process
(selection), panel rules (hearing) and a compliance framework (compliance).

Imports: language only.
"""
