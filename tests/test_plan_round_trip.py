"""A compiled ruleset read back from its text (as `arbiter replay` reads a rules/ file or a
ledger blob) holds the plan that was compiled, field for field, and finds its parts by id."""

from __future__ import annotations

from engine.compiler.compile import compile_set, compiled_from_file


def test_every_criteria_set_reads_back_to_the_plan_it_compiled_to(catalog):
    for set_id in catalog.criteria_set_ids():
        compiled = compile_set(catalog, set_id)
        back = compiled_from_file(compiled.text)
        assert back.plan == compiled.plan, set_id
        assert back.plan.to_json() == compiled.plan.to_json(), set_id
        assert back.text == compiled.text and back.sha256 == compiled.sha256
        assert back.durable_name == compiled.durable_name
        plan = back.plan
        assert [plan.level(lv.id) for lv in compiled.plan.levels] == list(compiled.plan.levels)
        assert [plan.level_at(lv.rank) for lv in compiled.plan.levels] == list(compiled.plan.levels)
        assert [plan.quantity(q.id) for q in compiled.plan.quantities] == list(compiled.plan.quantities)
        assert [plan.condition(c.id) for c in compiled.plan.conditions] == list(compiled.plan.conditions)
        assert [plan.rule(r.id) for r in compiled.plan.rules] == list(compiled.plan.rules)
