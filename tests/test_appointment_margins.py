"""The margins of appointment decisions: the runtime's (each example decided by durable-rules)
against the oracle's, and the oracle's against an exhaustive search over every rating a small
field could have."""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler import compliance as compile_compliance_rules
from engine.compiler import selection as compile_selection_rules
from engine.language.appointment_models import (Appointment, Candidate, ComplianceFramework, ComplianceRecord, Exercise,
                                                Gate, PanelMember, Rating, Requirement,
                                                SelectionProcess)
from engine.oracle import appointment_reference as oracle
from engine.runtime import appointment_margin, compliance, hearing, selection
from engine.runtime.margin import Change

from .strategies import RATING_SCALE
from .test_appointment_laws import CVF, fields, hearings, processes

SCALE_VALUES = [lv.value for lv in RATING_SCALE.levels]


def _distance(reach) -> oracle.Distance:
    return oracle.Distance(reach.status, reach.fewest)


@st.composite
def selections(draw):
    process = draw(processes())
    return process, compile_selection_rules.compile_selection(process, CVF, RATING_SCALE), draw(fields(process))


@given(selections())
def test_candidate_margins_agree_with_the_oracle(world):
    """Each candidate's level, the points to the next level up and down, and the one-point
    changes anywhere in the field that change its level: durable-rules and the oracle agree."""
    process, compiled, appt = world
    decided = selection.decide(compiled, appt)
    margins = appointment_margin.candidate_margins(compiled, appt, decided)
    for candidate, margin in margins.items():
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (margin.outcome, _distance(margin.up), _distance(margin.down)) == \
            (answer.outcome, answer.up, answer.down), candidate
        assert {(s.change.id, s.change.after, s.outcome) for s in margin.single} == \
            oracle_single_changes(process, appt, candidate)


def oracle_single_changes(process: SelectionProcess, appt: Appointment, candidate: str) -> set[tuple[str, int, str]]:
    scored = {e.id for e in process.exercises if e.scored}
    before = oracle.standing(oracle.selection(process, appt), candidate)
    found = set()
    for i, rating in enumerate(appt.ratings):
        if rating.exercise not in scored:
            continue
        for value in (rating.agreed - 1, rating.agreed + 1):
            if value in SCALE_VALUES:
                after = oracle.standing(oracle.selection(process, _rated(appt, {i: value})), candidate)
                if after != before:
                    found.add((f"{rating.candidate}/{rating.exercise}/{rating.area}", value, after))
    return found


@given(selections())
def test_each_margin_example_has_the_fewest_changes_and_reaches_its_target(world):
    """The example's changes add up to the fewest, move only the candidate's own ratings, and
    the rules' outcome with them (recorded in the margin) is at the target or beyond it."""
    _, compiled, appt = world
    decided = selection.decide(compiled, appt)
    for candidate, margin in appointment_margin.candidate_margins(compiled, appt, decided).items():
        for direction, reach in (("up", margin.up), ("down", margin.down)):
            if reach.status != "found":
                continue
            assert sum(abs(c.after - c.before) for c in reach.example) == reach.fewest
            assert all(c.id.startswith(f"{candidate}/") for c in reach.example)
            assert all(c.after in SCALE_VALUES and c.after != c.before for c in reach.example)  # ratings a panel can give
            place, target = (appointment_margin.STANDINGS.index(x) for x in (reach.example_outcome, reach.target))
            assert place <= target if direction == "up" else place >= target


def _rated(appt: Appointment, values: dict[int, int]) -> Appointment:
    ratings = tuple(r.model_copy(update={"agreed": values[i]}) if i in values else r for i, r in enumerate(appt.ratings))
    return appt.model_copy(update={"ratings": ratings})


@st.composite
def small_selections(draw):
    """One scored exercise of at most three areas, so every rating a candidate could have can be tried."""
    areas = tuple(draw(st.lists(st.sampled_from(["v1", "v2", "c1"]), min_size=1, max_size=3, unique=True)))
    gates = tuple(Gate(id=f"g{i}", description="every rating at least", every_rating_at_least=draw(st.integers(1, 5)))
                  for i in range(draw(st.integers(1, 2))))
    process = SelectionProcess(
        arbiter="selection_process", id="gen/process", title="Generated process", role="Chief Constable",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating",
        exercises=(Exercise(id="e0", title="Exercise", assesses=areas, scored=True),), gates=gates,
        scoring="sum_of_agreed_ratings", ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=processes_panel())
    candidates = [f"cand-{i}" for i in range(draw(st.integers(1, 3)))]
    ratings = tuple(Rating(candidate=c, exercise="e0", area=a, individual={"m0": 3}, agreed=draw(st.integers(1, 5)),
                           rationale="r", recorded_by="m0") for c in candidates for a in areas)
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True,
                       panel=(PanelMember(id="m0", role="chair"),), candidates=tuple(Candidate(id=c) for c in candidates),
                       ratings=ratings)
    return process, appt


def processes_panel():
    from engine.language.appointment_models import PanelRules
    return PanelRules(scoring_roles=("chair", "member", "independent"), advisory_roles=("hr_adviser",),
                      independent_role="independent")


@settings(max_examples=60)
@given(small_selections())
def test_the_oracle_margin_is_the_fewest_found_by_trying_every_rating(world):
    """For each candidate, every combination of its own agreed ratings is tried; the fewest
    points (sum of moves) that reach a level at or beyond the next one up, or down, is the
    oracle's figure. This is what makes the oracle's reasoning, and so the runtime's, exact."""
    process, appt = world
    for candidate in sorted(c.id for c in appt.candidates):
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (answer.up, answer.down) == exhaustive(process, appt, candidate), candidate


def exhaustive(process: SelectionProcess, appt: Appointment, candidate: str) -> tuple[oracle.Distance, oracle.Distance]:
    mine = [i for i, r in enumerate(appt.ratings) if r.candidate == candidate]
    level = oracle.STANDINGS.index(oracle.standing(oracle.selection(process, appt), candidate))
    tries = []
    for values in product(SCALE_VALUES, repeat=len(mine)):
        moved = dict(zip(mine, values))
        cost = sum(abs(v - appt.ratings[i].agreed) for i, v in moved.items())
        tries.append((cost, oracle.STANDINGS.index(oracle.standing(oracle.selection(process, _rated(appt, moved)),
                                                                    candidate))))
    return fewest_either_way(tries, level, len(oracle.STANDINGS) - 1)


def fewest_either_way(tries: list[tuple[int, int]], level: int, last: int) -> tuple[oracle.Distance, oracle.Distance]:
    """From (points moved, place reached) of every combination tried, places counted from the
    top: the fewest points that reach a place above the current one, and below (no level past
    either end; unreachable when no combination does)."""
    def distance(costs: list[int], edge: bool) -> oracle.Distance:
        if edge:
            return oracle.Distance("no_level")
        return oracle.Distance("found", min(costs)) if costs else oracle.Distance("unreachable")

    return (distance([cost for cost, place in tries if place < level], level == 0),
            distance([cost for cost, place in tries if place > level], level == last))


@st.composite
def hearings_with_attendance(draw):
    """The laws' generated hearings, some saying how many members attended (at least the votes)."""
    rules, compiled, record = draw(hearings())
    present = draw(st.one_of(st.none(), st.integers(record.votes_for_veto, record.members)))
    return rules, compiled, record.model_copy(update={"present": present})


@given(hearings_with_attendance())
def test_hearing_margins_agree_with_the_oracle(world):
    """Votes more to a veto (at most those present) and fewer to no veto, each count decided by
    durable-rules, against the oracle's arithmetic; single changes are one vote either way."""
    rules, compiled, record = world
    outcome = hearing.evaluate(compiled, record).outcome
    margin = appointment_margin.hearing_margin(compiled, record, outcome)
    answer = oracle.hearing_margin(rules, record)
    assert (margin.outcome, _distance(margin.up), _distance(margin.down)) == (answer.outcome, answer.up, answer.down)
    one_vote = {r.fewest for r in (margin.up, margin.down)} & {1}
    assert bool(margin.single) == bool(one_vote)
    votes = record.votes_for_veto
    for reach, target, sign in ((margin.up, "veto", 1), (margin.down, "no_veto", -1)):
        assert reach.target == (None if reach.status == "no_level" else target)
        if reach.status == "found":  # the example is the vote count that reaches the target, decided as it says
            assert reach.example == (Change("votes", "votes_for_veto", votes, votes + sign * reach.fewest),)
            assert reach.example_outcome == target
    for single in margin.single:
        assert single.change.item == "votes" and single.change.id == "votes_for_veto"
        assert single.change.before == votes and abs(single.change.after - votes) == 1
        assert single.outcome != outcome


@st.composite
def compliance_cases(draw):
    count = draw(st.integers(1, 5))
    framework = ComplianceFramework(
        arbiter="compliance", id="gen/compliance", title="Generated requirements",
        requirements=tuple(Requirement(id=f"req-{i}", description="a flag", is_true=f"flag{i}") for i in range(count)))
    record = ComplianceRecord(arbiter="compliance_record", id="gen/record", compliance=framework.id, subject="Generated",
                              constructed=True, flags={f"flag{i}": draw(st.booleans()) for i in range(count)})
    return framework, compile_compliance_rules.compile_compliance(framework), record


@given(compliance_cases())
def test_compliance_margins_agree_with_the_oracle(world):
    """Requirements' results to change, the overall stage of durable-rules asked about each
    example, against the oracle's count; the single changes are the requirements whose result
    alone decides the outcome."""
    framework, compiled, record = world
    decided = compliance.evaluate(compiled, record)
    margin = appointment_margin.compliance_margin(compiled, decided)
    answer = oracle.compliance_margin(framework, record)
    assert (margin.outcome, _distance(margin.up), _distance(margin.down)) == (answer.outcome, answer.up, answer.down)
    met = oracle.compliance(framework, record)
    failed = [r for r, ok in met.items() if not ok]
    expected = set(met) if not failed else set(failed) if len(failed) == 1 else set()
    assert {s.change.id for s in margin.single} == expected
    for reach, target in ((margin.up, "compliant"), (margin.down, "not_compliant")):
        assert reach.target == (None if reach.status == "no_level" else target)
        if reach.status == "found":
            assert reach.example_outcome == target and len(reach.example) == reach.fewest
            assert all(c.item == "requirement" and c.before != c.after for c in reach.example)


def test_the_kent_selection_margin():
    """The 2022 field: cand-a is one point from failing the gate (either of its two ratings of
    3); cand-b needs 8 more points to tie cand-a's 46, and is one point from failing."""
    from engine.appointments.appointments import decide, load_evidence
    from engine.language.catalog import Catalog

    from .conftest import ROOT

    loaded = load_evidence(ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml", Catalog(ROOT))
    margins = decide(loaded).margins
    assert (margins["cand-a"].outcome, margins["cand-a"].up.status, margins["cand-a"].down.fewest) == \
        ("preferred", "no_level", 1)
    assert {s.change.id for s in margins["cand-a"].single if s.outcome == "failed"} == \
        {"cand-a/media/transparency", "cand-a/interview/we_are_collaborative"}
    assert (margins["cand-b"].outcome, margins["cand-b"].up.fewest, margins["cand-b"].up.target,
            margins["cand-b"].down.fewest) == ("passed", 8, "tied", 1)


def one_exercise_gated_at_one() -> SelectionProcess:
    """A process of one scored exercise on two areas, every rating gated at 1 (the foot of the
    generated rating scale), the highest total among those passing the gate ranked first."""
    return SelectionProcess(
        arbiter="selection_process", id="gen/process", title="Generated process", role="Chief Constable",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating",
        exercises=(Exercise(id="e0", title="Exercise", assesses=("v1", "v2"), scored=True),),
        gates=(Gate(id="g0", description="every rating at least", every_rating_at_least=1),),
        scoring="sum_of_agreed_ratings", ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=processes_panel())


def test_a_preferred_candidate_falls_to_a_tie_by_its_total_when_that_is_cheaper():
    """Ratings of 5 against a gate of 1 cannot fail; two points off ties the runner-up."""
    process = one_exercise_gated_at_one()
    ratings = [("a", "v1", 5), ("a", "v2", 5), ("b", "v1", 4), ("b", "v2", 4)]
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True,
                       panel=(PanelMember(id="m0", role="chair"),), candidates=(Candidate(id="a"), Candidate(id="b")),
                       ratings=tuple(Rating(candidate=c, exercise="e0", area=area, individual={"m0": v}, agreed=v,
                                            rationale="r", recorded_by="m0") for c, area, v in ratings))
    compiled = compile_selection_rules.compile_selection(process, CVF, RATING_SCALE)
    margin = appointment_margin.candidate_margins(compiled, appt, selection.decide(compiled, appt))["a"]
    assert (margin.down.status, margin.down.fewest, margin.down.example_outcome) == ("found", 2, "tied")
    assert [(c.id, c.before, c.after) for c in margin.down.example] == [("a/e0/v1", 5, 3)]


def test_requirement_results_decide_compliance_by_the_rules():
    framework = ComplianceFramework(
        arbiter="compliance", id="gen/compliance", title="Generated requirements",
        requirements=(Requirement(id="a", description="a", is_true="a"), Requirement(id="b", description="b", is_true="b")))
    compiled = compile_compliance_rules.compile_compliance(framework)
    assert compliance.requirement_results(compiled, {"a": True, "b": True}) == "compliant"
    assert compliance.requirement_results(compiled, {"a": True, "b": False}) == "not_compliant"
    assert compliance.requirement_results(compiled, {"a": False, "b": False}) == "not_compliant"


def test_a_rating_scale_must_have_every_whole_value_between_its_ends(tmp_path):
    """A point is the unit of the sensitivity scan and the margin: 5, 3, 1 is refused, located."""
    from engine.language.appointment_check import check_rating_scale
    from engine.language.load import load_file
    from engine.language.validate import to_model

    path = tmp_path / "gapped.yaml"
    levels = "".join(f"  - id: \"{v}\"\n    value: {v}\n    label: r{v}\n    definition: d\n" for v in (5, 3, 1))
    path.write_text(f"arbiter: scale\nid: gapped\ntitle: Gapped\nlevels:\n{levels}", encoding="utf-8")
    doc = load_file(path)
    [problem] = check_rating_scale(to_model(doc, "scale"), doc)
    assert (problem.line, problem.code) == (5, "E113")  # the list of levels
    assert "skip 2, 4" in problem.message and "1 to 5" in problem.suggestion


def test_every_decision_of_every_shipped_case_carries_a_margin(catalog):
    """Inspection areas, candidates, processes, hearings and compliance checks alike."""
    from engine.language.decision_model import validated
    from engine.workspace.runner import score_file

    from .conftest import ROOT

    paths = sorted(p for p in (ROOT / "cases").rglob("*.yaml") if not {"invalid", "national-2007"} & set(p.parts))
    kinds = set()
    for path in paths:
        for record in score_file(path, catalog).records:
            validated(record)
            assert record["margin"] is not None, f"{path}: {record['subject']}"
            kinds.add(record.get("kind", "inspection"))
    assert kinds == {"inspection", "candidate", "appointment", "hearing", "compliance_record", "pack"}


def test_candidates_tied_at_the_foot_of_the_scale_cannot_go_down():
    """Two candidates rated 1 everywhere against a gate of 1: they tie, no point can come off
    either total and no rating can fall below the gate, so down is unreachable for both, by
    the rules and by the oracle; up is one point."""
    process = one_exercise_gated_at_one()
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True,
                       panel=(PanelMember(id="m0", role="chair"),), candidates=(Candidate(id="a"), Candidate(id="b")),
                       ratings=tuple(Rating(candidate=c, exercise="e0", area=area, individual={"m0": 1}, agreed=1,
                                            rationale="r", recorded_by="m0") for c in "ab" for area in ("v1", "v2")))
    compiled = compile_selection_rules.compile_selection(process, CVF, RATING_SCALE)
    margins = appointment_margin.candidate_margins(compiled, appt, selection.decide(compiled, appt))
    for candidate in "ab":
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (answer.outcome, answer.up, answer.down) == \
            ("tied", oracle.Distance("found", 1), oracle.Distance("unreachable")), candidate
        margin = margins[candidate]
        assert (margin.outcome, _distance(margin.up), _distance(margin.down)) == \
            (answer.outcome, answer.up, answer.down), candidate


def test_the_outcome_changes_are_the_one_point_variants_that_change_who_is_preferred_tied_or_pending():
    """The record's single changes for a selection: every one-point variant whose outcome,
    preferred candidate, tie or pending candidates differ from the field's, and no other, each
    named candidate/exercise/area (and the member, for a pair table's individual rating)."""
    from engine.appointments.appointments import decide, load_evidence
    from engine.language.catalog import Catalog

    from .conftest import ROOT

    kent = decide(load_evidence(ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml", Catalog(ROOT)))
    assert [(c.id, c.before, c.after, after.outcome, after.preferred) for c, after in kent.outcome_changes] == [
        ("cand-a/media/transparency", 3, 2, "preferred", "cand-b"),
        ("cand-a/interview/we_are_collaborative", 3, 2, "preferred", "cand-b")]
    resolved = decide(load_evidence(ROOT / "cases" / "examples-pair-table" / "resolved.yaml", Catalog(ROOT)))
    base = resolved.decision.evaluation
    changing = [v for v in resolved.decision.variants
                if (v.evaluation.outcome, v.evaluation.preferred, v.evaluation.tied, v.evaluation.pending)
                != (base.outcome, base.preferred, base.tied, base.pending)]
    assert 0 < len(changing) < len(resolved.decision.variants)
    assert [(c.id, c.before, c.after, after) for c, after in resolved.outcome_changes] == \
        [(f"{v.candidate}/{v.exercise}/{v.area}/{v.member}", v.before, v.after, v.evaluation) for v in changing]
    assert resolved.outcome_changes[0][0].id == "cand-a/interview/we_take_ownership/lead"
