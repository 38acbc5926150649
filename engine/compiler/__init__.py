"""The compiler: a scale, a framework and a criteria set to a frozen plan (plan) and a
durable-rules ruleset, rendered as the `rules/` files (compile).

Imports: language only.
"""
