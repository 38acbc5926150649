"""Laws of the explanation: what it says was reached, or not, is what the rules engine fired.

The verdicts ("reached", "not reached") are worded from the tallies, apart from the engine;
these laws hold them to the firings in the record's trace, in the record and in the text.
"""

from __future__ import annotations

from hypothesis import given

from engine.compiler.compile import compile_criteria
from engine.inspections.cases import decide_case
from engine.inspections.explain import render_text
from engine.language.decision_model import validated
from engine.language.models import NOT_GRADED

from .strategies import worlds

REACHED, NOT_REACHED = ": reached (", ": not reached ("


def decided(world):
    criteria, case = world
    compiled = compile_criteria(criteria)
    return compiled.plan, validated(decide_case(compiled, case))


def lines_after(text: str, heading: str) -> list[str]:
    """The bullet lines under a heading line of the full text explanation."""
    lines = text.splitlines()
    start = lines.index(heading) + 1
    bullets = []
    for line in lines[start:]:
        if not line.startswith("  - "):
            break
        bullets.append(line[4:])
    return bullets


def check_verdicts(plan, record) -> None:
    text = render_text(record, "full")
    fired = [firing["rule"] for firing in record["trace"]]
    deciding = plan.rule(fired[0])
    assert deciding.stage == "level" and record["decided_by"]["rule"] == deciding.id

    # Every condition of the grade rule that fired reads reached, in the record and in the text.
    conditions = record["decided_by"]["conditions"]
    assert [c["condition"] for c in conditions] == list(deciding.when)
    for condition in conditions:
        assert condition["holds"] and REACHED in condition["text"], condition
    if conditions:
        shown = lines_after(text, f"Decided by rule {deciding.id}:")
        assert [line.split(" [choice: ")[0] for line in shown] == [c["text"] for c in conditions]

    if record["outcome"] == NOT_GRADED:
        assert record["why_not"] == []
        return
    # Every level above the outcome is explained, highest first.
    top = plan.level(record["outcome"]).rank if record["outcome"] in {lv.id for lv in plan.levels} else len(plan.levels)
    assert [entry["level"] for entry in record["why_not"]] == [lv.id for lv in plan.levels[:top]]
    given = given_before_lowering(plan, fired)
    holding = {t["condition"]: t["holds"] for t in record["tallies"]}
    for entry in record["why_not"]:
        rank = plan.level(entry["level"]).rank
        if given is None or rank < plan.level(given).rank:
            # Tried before the grade that was given and not given: none of its grade rules (its
            # alternatives) fired, so each has a condition not reached, and every one listed is
            # one of theirs; or one of them holds and the hit policy passed over it.
            rules = [rule for rule in plan.stage_rules("level") if rule.conclude == entry["level"]]
            if not rules:
                assert entry["failed"] == [] and "no grade rule" in entry["reason"], entry
                continue
            assert not {rule.id for rule in rules} & set(fired), entry
            if not entry["failed"]:
                # A rule of the level holds: never under best, where the highest that holds is the grade.
                assert plan.hit_policy != "best" and any(all(holding[c] for c in r.when) for r in rules), entry
                assert entry["reason"].startswith("its rule holds, but "), entry
                assert f"Why not {entry['label']}: {entry['reason']}" in text.splitlines()
                continue
            assert all(any(not holding[c] for c in rule.when) for rule in rules), entry
            for condition in entry["failed"]:
                assert any(condition["condition"] in rule.when for rule in rules)
                assert not condition["holds"] and NOT_REACHED in condition["text"], condition
            if len(rules) > 1:
                assert [way["rule"] for way in entry["alternatives"]] == [rule.id for rule in rules]
                continue
            shown = lines_after(text, f"Why not {entry['label']}:")
            assert [line.split(" [choice: ")[0] for line in shown] == [c["text"] for c in entry["failed"]]
        else:
            # Given by the grade rules and floors (this level or better), then taken below it by
            # what fired after: a cap below the level, or a recorded judgement that set the
            # outcome below what the rules gave. The reason names exactly those.
            assert entry["failed"] == [], entry
            caps = {plan.rule(r).limiter for r in fired if plan.rule(r).stage == "cap" and plan.rule(r).limiter
                    and plan.level(plan.rule(r).conclude).rank > rank}
            judged = "override:applied" in fired and record["computed_outcome"] != record["outcome"] and \
                plan.level(record["computed_outcome"]).rank <= rank
            assert caps or judged, (entry, fired)
            assert ("recorded professional judgement" in entry["reason"]) == judged, (entry["reason"], fired)
            assert caps == {r.limiter for r in plan.stage_rules("cap") if r.limiter
                            and f"limiter '{r.limiter}'" in entry["reason"]}, (entry["reason"], fired)
            assert f"Why not {entry['label']}: {entry['reason']}" in text.splitlines()


def given_before_lowering(plan, fired: list[str]) -> str | None:
    """The last level a grade rule or floor that fired concluded: what caps and judgements act on."""
    given = None
    for rule_id in fired:
        rule = plan.rule(rule_id)
        if rule.stage in ("level", "floor") and rule.conclude in {lv.id for lv in plan.levels}:
            given = rule.conclude
    return given


@given(worlds())
def test_verdicts_follow_the_firings(world):
    """Every condition of the grade rule that fired reads reached; every higher grade rule that
    did not fire shows a condition not reached, or (under a hit policy other than best) holds
    and says the policy passed over it; a level the rules gave and then took away names the cap
    or the judgement that fired after."""
    check_verdicts(*decided(world))


@given(worlds(monotone=True))
def test_verdicts_follow_the_firings_in_monotone_worlds(world):
    """The same in frameworks where meeting one more criterion can only help."""
    check_verdicts(*decided(world))


def test_verdicts_of_the_project_cases(catalog):
    """The same on every inspection case in cases/."""
    from engine.workspace.runner import score_file

    from .conftest import ROOT
    paths = sorted(p for p in (ROOT / "cases").rglob("*.yaml")
                   if not {"invalid", "appointments"} & set(p.parts))
    assert len(paths) > 250
    for path in paths:
        result = score_file(path, catalog)
        if result.kind != "case":
            continue
        loaded = result.source  # with any sub-area taken from another decision filled in
        check_verdicts(loaded.compiled.plan, decide_case(loaded.compiled, loaded.case))
