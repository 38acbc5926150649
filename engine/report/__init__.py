"""Reports people sign: one self-contained HTML file per report, made from decision records.

sources (the decisions named: case files scored now, JSON Lines records, ledger ids, each
with the evidence and criteria held beside it), then one view per kind of decision
(inspection; selection with its heat map; checks: compliance and hearing; letters: a
feedback letter per candidate; summary: the distribution charts), rendered by render
through the Jinja2 templates in templates/ (autoescaped; styles inline, charts inline SVG),
and pdf (the same HTML printed by headless Chromium). palette holds the heat map's
colour-blind-safe colours. A report restates what the records say; nothing is decided here.

Imports: language, compiler, inspections, appointments, workspace and ledger.
"""
