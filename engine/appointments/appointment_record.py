"""Decision records and explanations for the appointment kinds.

A selection gives one record per candidate and one for the process; a hearing and a
compliance check give one record each. Every record carries the keys of an inspection
decision record (decision_id, case, subject, framework, outcome, outcome_label,
uncapped_outcome, limiter, why_not, trace, the three hashes and the versions) so that
one reader, and later the ledger, handles them all. Their shapes are the models in
language/decision_model.py, which `summary` and `compare` read them back with: the tests check
every record of every shipped and generated case against its model.
"""

from __future__ import annotations

from typing import Any, Callable

from tabulate import tabulate

from ..compiler.compliance import CompliancePlan, RequirementSpec
from ..compiler.hearing import HearingPlan
from ..compiler.selection import SelectionPlan
from ..language.appointment_models import agreed, given_ratings, is_blank, panel_order
from ..language.canonical import (ENGINE_VERSION, appointment_decision_id, canonical_appointment_evidence,
                                  durable_rules_version, sha256_bytes)
from ..language.decision_model import (APPOINTMENT_LABELS, PAIR_STANDING_LABELS, SELECTION_LABELS, STANDING_LABELS,
                                      candidate_result)
from ..runtime.appointment_margin import AppointmentMargin, Change, Reach
from ..runtime.compliance import ComplianceEvaluation
from ..runtime.hearing import HearingEvaluation
from ..runtime.selection import SelectionEvaluation
from .appointments import Decided, LoadedEvidence

RECORD_FORMAT = "arbiter-decision/1"


def _common(loaded: LoadedEvidence, hashes: dict[str, Any], kind: str, subject: str, outcome: str,
            label: str) -> dict[str, Any]:
    """The keys every decision record has; the decision id is unique per record kind and subject."""
    return {
        "format": RECORD_FORMAT,
        "decision_id": appointment_decision_id(hashes["ruleset_sha256"], hashes["evidence_sha256"], kind, subject),
        "case": loaded.evidence.id,
        "kind": kind,
        "subject": subject,
        "constructed": loaded.evidence.constructed,
        "framework": loaded.rules.model.id,
        "outcome": outcome,
        "outcome_label": label,
        "uncapped_outcome": outcome,
        "limiter": None,
    }


def _hashes(loaded: LoadedEvidence) -> dict[str, Any]:
    """Computed once per evidence record, however many decisions (one per candidate) carry them."""
    return {
        "criteria_sha256": loaded.compiled.plan.criteria_sha256,
        "ruleset_sha256": loaded.compiled.sha256,
        "evidence_sha256": sha256_bytes(canonical_appointment_evidence(loaded.evidence)),
        "engine_version": ENGINE_VERSION,
        "durable_rules_version": durable_rules_version(),
    }


# --- selection ---------------------------------------------------------------------------

def selection_records(loaded: LoadedEvidence, decided: Decided) -> list[dict[str, Any]]:
    plan: SelectionPlan = loaded.compiled.plan  # type: ignore[assignment]
    evaluation, ranking = decided.decision.evaluation, decided.decision.ranks
    hashes = _hashes(loaded)
    labels = standing_labels(plan, evaluation)
    records = [_candidate_record(loaded, hashes, plan, evaluation, t, ranking[t.candidate],
                                 margin_json(decided.margins[t.candidate], labels))
               for t in evaluation.tallies]
    records.append(_process_record(loaded, hashes, plan, decided))
    return records


def standing_labels(plan: SelectionPlan, evaluation: SelectionEvaluation) -> dict[str, str]:
    """The labels of a candidate's levels; while a stage is still to fill, a pass or fail is on the stages held."""
    labels = STANDING_LABELS if plan.pair_table is None else PAIR_STANDING_LABELS
    if evaluation.outcome != "incomplete":
        return labels
    return {**labels, "passed": labels["passed"].split(",")[0] + " on the stages held",
            "failed": labels["failed"] + " on the stages held"}


def gate_lines(plan: SelectionPlan, evaluation: SelectionEvaluation, candidate: str) -> list[dict[str, Any]]:
    """Each gate with the cells that failed it: the candidate's `cell:below` firings, read as they
    fired (the cell and the gate each matched), never compared again."""
    below = [(f.matched["g"], f.matched["c"]) for f in evaluation.firings
             if f.rule == "cell:below" and f.matched["c"]["cand"] == candidate]
    lines = []
    for gate in plan.gates:
        failing = [f"area '{plan.area_name(cell['area'])}' at {cell['exercise']} rated {cell['rating']} "
                   f"< {matched['threshold']}: gate failed" for matched, cell in below if matched["gate"] == gate.id]
        lines.append({"gate": gate.id, "description": gate.description, "passed": not failing, "failing": failing,
                      "source": gate.source})
    return lines


def result_of(evaluation: SelectionEvaluation, candidate: str) -> str:
    """The candidate's result as the rules concluded it, read from the evaluation (the record
    never calls back into the runtime)."""
    return candidate_result(evaluation.passed[candidate], candidate in evaluation.pending)


def pair_cell_lines(plan: SelectionPlan, evaluation: SelectionEvaluation, candidate: str,
                    rationales: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Each of the candidate's cells as its category rule fired: the two ratings and who gave
    them, the table row that matched, and its category, read as they fired; and, for a cell a
    recorded resolution settled (`resolution:applies` fired), that resolution as it matched,
    with its rationale (`rationales`, by exercise and area, from the evidence)."""
    table = plan.pair_table
    assert table is not None
    settled = {(f.matched["r"]["exercise"], f.matched["r"]["area"]): f.matched["r"] for f in evaluation.firings
               if f.rule == "resolution:applies" and f.matched["r"]["cand"] == candidate}
    lines = []
    for f in evaluation.firings:
        cell, row = f.matched.get("c", {}), f.matched.get("p", {})
        if f.rule.startswith("pair:") and cell["cand"] == candidate:
            category = table.category(row["category"])
            where = (cell["exercise"], cell["area"])
            lines.append({"exercise": cell["exercise"], "area": cell["area"],
                          "ratings": [{"member": cell["low_by"], "rating": cell["low"]},
                                      {"member": cell["high_by"], "rating": cell["high"]}],
                          "row": row["row"] + 1, "row_ratings": [row["low"], row["high"]], "category": category.id,
                          "category_label": category.label, "result": category.result,
                          "resolution": _resolution_line(table, settled.get(where), rationales.get(where))})
    return lines


def _resolution_line(table, settled: dict[str, Any] | None, rationale: str | None) -> dict[str, Any] | None:
    """A settled cell's resolution: the category settled on and what it means, who settled it,
    why, and a tiebreaker's third rating (None when none was given)."""
    if settled is None:
        return None
    category = table.category(settled["category"])
    return {"category": category.id, "category_label": category.label, "result": category.result,
            "by": settled["by"], "rationale": rationale, "tiebreak_rating": settled.get("tiebreak_rating")}


def effective_result(line: dict[str, Any]) -> str:
    """What the cell means for the candidate: its resolution's category when one settled it."""
    return (line["resolution"] or line)["result"]


RESULT_WORDS = {"fail": "which does not pass: the candidate fails",
                "tiebreaker": "which needs a tiebreaker: the outcome waits until it is resolved",
                "discuss": "which needs a discussion between the assessors: the outcome waits until it is resolved"}


def pair_cell_text(plan: SelectionPlan, line: dict[str, Any]) -> str:
    """E.g. "area 'Integrity' at interview rated 3 by asr1 and 5 by asr2: table row 10 [3, 5] gives
    tiebreaker (...), which needs a tiebreaker: the outcome waits until it is resolved"; a settled
    cell says both what the table gave and how it was resolved, and why."""
    low, high = line["ratings"]
    text = (f"area '{plan.area_name(line['area'])}' at {line['exercise']} rated {low['rating']} by {low['member']} and "
            f"{high['rating']} by {high['member']}: table row {line['row']} {line['row_ratings']} gives "
            f"{line['category']} ({line['category_label']})")
    settled = line["resolution"]
    if settled is None:
        return text + (f", {RESULT_WORDS[line['result']]}" if line["result"] in RESULT_WORDS else "")
    third = "" if settled["tiebreak_rating"] is None else f", the third assessor's rating {settled['tiebreak_rating']},"
    fails = ", which does not pass: the candidate fails" if settled["result"] == "fail" else ""
    return (f"{text}; resolved by {settled['by']}{third} as {settled['category']} ({settled['category_label']}){fails}: "
            f"{settled['rationale']}")


PAIR_OUTCOMES = {"pass": ("cells_passed", "Passed every cell: each in a passing category"),
                 "pending": ("cells_pending", "Pending: a tiebreaker or discussion is required"),
                 "fail": ("cell_failed", "Failed a cell: a category that does not pass")}


def _pair_candidate_record(loaded, hashes, plan, evaluation, tally, rank, margin) -> dict[str, Any]:
    outcome, label = PAIR_OUTCOMES[result_of(evaluation, tally.candidate)]
    record = _common(loaded, hashes, "candidate", tally.candidate, outcome, label)
    rationales = {(r.exercise, r.area): r.resolution.rationale for r in loaded.evidence.ratings
                  if r.candidate == tally.candidate and r.resolution is not None}
    cells = pair_cell_lines(plan, evaluation, tally.candidate, rationales)
    record.update({
        "total": tally.total,
        "rank": rank,
        "preferred": evaluation.preferred == tally.candidate,
        "gates": [],
        "why_not": [pair_cell_text(plan, line) for line in cells if effective_result(line) != "pass"],
        "resolved": [pair_cell_text(plan, line) for line in cells if line["resolution"] is not None],
        "margin": margin,
        "trace": [f.to_json() for f in evaluation.firings
                  if f.matched.get("ev", {}).get("cand") == tally.candidate],
        "cells": cells,
        "scoring_choice": plan.pair_table.choice,
        **hashes,
    })
    return record


def _candidate_record(loaded, hashes, plan, evaluation, tally, rank, margin) -> dict[str, Any]:
    if plan.pair_table is not None:
        return _pair_candidate_record(loaded, hashes, plan, evaluation, tally, rank, margin)
    passed = evaluation.passed[tally.candidate]
    outcome = "gates_passed" if passed else "gate_failed"
    label = "Passed every gate" if passed else "Failed a gate: not appointable"
    if evaluation.outcome == "incomplete":  # judged on the cells held; the stages to come may fail a gate yet
        label = "Passed every gate on the stages held" if passed else "Failed a gate on the stages held: not appointable"
    record = _common(loaded, hashes, "candidate", tally.candidate, outcome, label)
    gates = gate_lines(plan, evaluation, tally.candidate)
    record.update({
        "total": tally.total,
        "rank": rank,
        "preferred": evaluation.preferred == tally.candidate,
        "gates": gates,
        "why_not": [line for g in gates for line in g["failing"]],
        "margin": margin,
        "trace": [f.to_json() for f in evaluation.firings
                  if f.matched.get("ev", {}).get("cand") == tally.candidate],
        **hashes,
    })
    return record


def selection_label(evaluation: SelectionEvaluation) -> str:
    label = SELECTION_LABELS[evaluation.outcome]
    if evaluation.outcome == "incomplete":
        label += f": {still_to_fill_line(evaluation.progress)}"
    if evaluation.outcome == "preferred":
        label += f": {evaluation.preferred}"
    elif evaluation.outcome == "tie":
        label += f" ({', '.join(evaluation.tied)})"
    elif evaluation.outcome == "resolution_required":
        label += f" ({', '.join(evaluation.pending)})"
    return label


def still_to_fill_line(progress) -> str:
    """E.g. "18 cells still to fill (stage presentation, interview)"."""
    return f"{progress.still_to_fill} cells still to fill (stage {', '.join(progress.unheld)})"


def cell_lines(loaded: LoadedEvidence, plan: SelectionPlan, evaluation: SelectionEvaluation) -> list[dict[str, Any]]:
    """Every cell of the grid, candidates in id order, then exercises and areas in the process's:
    what was rated and by whom, its rationale and recorder, and what the rules concluded of it
    (the gates its `cell:below` firings failed; a pair table's category, as its rule fired or
    a resolution settled it). A cell of a stage not yet held holds nothing yet."""
    cells, held = agreed(loaded.evidence), set(evaluation.progress.cells)
    order = {m.id: k for k, m in enumerate(panel_order(loaded.evidence, loaded.rules.model))}
    reconstructed = {(e, a) for e, a, _ in plan.reconstructed}
    below: dict[tuple[str, str, str], list[str]] = {}
    for f in evaluation.firings:
        if f.rule == "cell:below":
            c = f.matched["c"]
            below.setdefault((c["cand"], c["exercise"], c["area"]), []).append(f.matched["g"]["gate"])
    categories = _pair_categories(plan, evaluation)
    flagged: dict[tuple, list[str]] = {}
    for flag in loaded.flags:
        if flag.area is not None:
            flagged.setdefault((flag.candidate, flag.exercise, flag.area), []).append(flag.code)
    lines = []
    for t in evaluation.tallies:
        for ex, area in plan.cells:
            key = (t.candidate, ex, area)
            rating = cells.get(key)
            filled = key[1:] in held and rating is not None and not is_blank(rating)
            individual = dict(sorted(given_ratings(rating).items(), key=lambda kv: (order.get(kv[0], 0), kv[0]))) \
                if filled else {}
            lines.append({"candidate": t.candidate, "exercise": ex, "area": area, "stage": plan.stage_of(ex),
                          "held": key[1:] in held, "agreed": rating.agreed if filled else None,
                          "individual": individual, "rationale": rating.rationale if filled else None,
                          "recorded_by": rating.recorded_by if filled else None,
                          "reconstructed": (ex, area) in reconstructed, "flags": flagged.get(key, []),
                          "gates_failed": below.get(key, []), "category": categories.get(key)})
    return lines


def _pair_categories(plan: SelectionPlan, evaluation: SelectionEvaluation) -> dict[tuple[str, str, str], str]:
    """A pair table's cells' categories, as the category rules fired, or a resolution settled them."""
    if plan.pair_table is None:
        return {}
    found = {}
    for f in evaluation.firings:
        if f.rule.startswith("pair:"):
            c = f.matched["c"]
            found[(c["cand"], c["exercise"], c["area"])] = f.matched["p"]["category"]
    for f in evaluation.firings:
        if f.rule == "resolution:applies":
            r = f.matched["r"]
            found[(r["cand"], r["exercise"], r["area"])] = r["category"]
    return found


def subtotals_of(plan: SelectionPlan, cells: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Each candidate's total per exercise held: its agreed ratings summed, or a pair table's
    cells in the ranking categories counted, as its total is."""
    found: dict[str, dict[str, int]] = {}
    for cell in cells:
        mine = found.setdefault(cell["candidate"], {})
        if not cell["held"]:
            continue
        if plan.pair_table is None:
            mine[cell["exercise"]] = mine.get(cell["exercise"], 0) + cell["agreed"]
        else:
            mine[cell["exercise"]] = mine.get(cell["exercise"], 0) + (cell["category"] in plan.pair_table.rank_by)
    return found


def _process_record(loaded, hashes, plan, decided: Decided) -> dict[str, Any]:
    evaluation, ranking = decided.decision.evaluation, decided.decision.ranks
    record = _common(loaded, hashes, loaded.kind, plan.title, evaluation.outcome, selection_label(evaluation))
    totals = {t.candidate: t.total for t in evaluation.tallies}
    cells = cell_lines(loaded, plan, evaluation)
    subtotals = subtotals_of(plan, cells)
    record.update({
        "preferred": evaluation.preferred,
        "tied": list(evaluation.tied),
        "candidates": [{"candidate": t.candidate, "gates": result_of(evaluation, t.candidate),
                        "total": t.total, "rank": ranking[t.candidate], "subtotals": subtotals[t.candidate]}
                       for t in evaluation.tallies],
        "why_not": _why_not_preferred(evaluation, totals),
        "panel": [{"id": m.id, "role": m.role, "scoring": m.role in loaded.rules.model.panel.scoring_roles}
                  for m in panel_order(loaded.evidence, loaded.rules.model)],
        "cells": cells,
        "stages": {"order": [stage for stage, _ in plan.stages], "held": list(evaluation.progress.held),
                   "still_to_fill": evaluation.progress.still_to_fill},
        "flags": [f.to_json() for f in loaded.flags],
        "shortlisting": _shortlisting(loaded),
        "reconstructed_cells": [{"exercise": e, "area": a, "note": n} for e, a, n in plan.reconstructed],
        "sensitivity": list(decided.decision.sensitivity),
        "margin": _selection_margin(decided, standing_labels(plan, evaluation)),
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    if plan.pair_table is not None:
        record.update({"pending": list(evaluation.pending), "scoring_choice": plan.pair_table.choice})
        record["margin"] = _selection_margin(decided, standing_labels(plan, evaluation))
    return record


def _selection_margin(decided: Decided, labels: dict[str, str] = STANDING_LABELS) -> dict[str, Any]:
    """The one-point changes that change the outcome, and each candidate's margin (whose unit,
    as the margin search chose it, is the process's: every candidate's is the same)."""
    evaluation = decided.decision.evaluation
    unit = next(iter(decided.margins.values())).unit  # a selection has one candidate or more
    return {"unit": unit, "outcome": evaluation.outcome, "outcome_label": selection_label(evaluation),
            "single_changes": [{**_change(change), "outcome": after.outcome, "outcome_label": selection_label(after)}
                               for change, after in decided.outcome_changes],
            "candidates": [{"candidate": t.candidate, **margin_json(decided.margins[t.candidate], labels)}
                           for t in evaluation.tallies]}


def _change(change: Change) -> dict[str, Any]:
    return {"kind": change.item, "id": change.id, "from": change.before, "to": change.after}


def _reach(reach: Reach, labels: dict[str, str]) -> dict[str, Any]:
    return {"status": reach.status, "target": reach.target,
            "target_label": labels[reach.target] if reach.target else None,
            "fewest_changes": reach.fewest, "more_than": reach.more_than,
            "example": [_change(c) for c in reach.example], "example_outcome": reach.example_outcome,
            "example_label": labels[reach.example_outcome] if reach.example_outcome else None}


def margin_json(margin: AppointmentMargin, labels: dict[str, str]) -> dict[str, Any]:
    """A margin as the runtime found it, with each level's label."""
    return {"unit": margin.unit, "outcome": margin.outcome, "outcome_label": labels[margin.outcome],
            "single_changes": [{**_change(s.change), "outcome": s.outcome, "outcome_label": labels[s.outcome]}
                               for s in margin.single],
            "up": _reach(margin.up, labels), "down": _reach(margin.down, labels)}


def _shortlisting(loaded: LoadedEvidence) -> dict[str, Any] | None:
    """Scored apart from the total: the declared rule and each candidate's scores."""
    spec = loaded.rules.model.shortlisting
    if spec is None:
        return None
    scores: dict[str, dict[str, int]] = {}
    for s in loaded.evidence.shortlisting:
        scores.setdefault(s.candidate, {})[s.element] = s.score
    return {"rule": spec.rule, "elements": list(spec.elements), "scores": dict(sorted(scores.items()))}


def _is_pair(evaluation: SelectionEvaluation) -> bool:
    """Whether the rules that decided were a pair table's: its cell rules are named pair:<category>."""
    return any(f.rule.startswith("pair:") for f in evaluation.firings)


def _why_not_preferred(evaluation, totals: dict[str, int]) -> list[str]:
    reasons = []
    for cand, passed in evaluation.passed.items():
        if cand == evaluation.preferred:
            continue
        if evaluation.outcome == "incomplete":
            state = "passed" if passed else "failed"
            reasons.append(f"{cand}: {state} on the stages held ({', '.join(evaluation.progress.held) or 'none yet'}); "
                           f"nothing is decided until every stage is in (still to fill: "
                           f"{', '.join(evaluation.progress.unheld)})")
        elif cand in evaluation.pending:
            reasons.append(f"{cand}: a cell needs a tiebreaker or discussion, so nothing is decided until it is resolved")
        elif not passed and _is_pair(evaluation):
            reasons.append(f"{cand}: a cell in a category that does not pass, so is not appointable")
        elif not passed:
            reasons.append(f"{cand}: failed a gate, so is not appointable")
        elif evaluation.outcome == "tie" and cand in evaluation.tied:
            reasons.append(f"{cand}: tied on {totals[cand]}; the tie policy refers it to the panel")
        elif evaluation.preferred and _is_pair(evaluation):
            reasons.append(f"{cand}: {totals[cand]} cell(s) in the ranking categories < {totals[evaluation.preferred]} "
                           f"({evaluation.preferred})")
        elif evaluation.preferred:
            reasons.append(f"{cand}: total {totals[cand]} < {totals[evaluation.preferred]} ({evaluation.preferred})")
        elif evaluation.outcome == "resolution_required":
            reasons.append(f"{cand}: passed, and waits with the outcome for {', '.join(evaluation.pending)}")
        else:
            reasons.append(f"{cand}: total {totals[cand]} is below the tied leaders")
    return reasons


# --- hearing and compliance ------------------------------------------------------------

def hearing_record(loaded: LoadedEvidence, evaluation: HearingEvaluation, margin: AppointmentMargin) -> dict[str, Any]:
    plan: HearingPlan = loaded.compiled.plan  # type: ignore[assignment]
    vetoed = evaluation.outcome == "veto"
    label = (f"Veto: the PCC must not appoint candidate {loaded.evidence.candidate}" if vetoed
             else f"No veto: the Panel's report makes a recommendation on candidate {loaded.evidence.candidate}")
    hashes = _hashes(loaded)
    record = _common(loaded, hashes, loaded.kind, loaded.evidence.candidate, evaluation.outcome, label)
    record.update({
        "members": evaluation.members,
        "present": loaded.evidence.present,
        "votes_for_veto": evaluation.votes,
        "votes_needed": evaluation.needed,
        "arithmetic": arithmetic(plan, evaluation),
        "consequence": plan.on_veto if vetoed else plan.on_no_veto,
        "rule": plan.veto_text,
        "why_not": [] if vetoed else [f"veto not reached: {evaluation.votes} votes, {evaluation.needed} needed"],
        "margin": margin_json(margin, APPOINTMENT_LABELS),
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    return record


def compliance_record(loaded: LoadedEvidence, evaluation: ComplianceEvaluation,
                      margin: AppointmentMargin) -> dict[str, Any]:
    plan: CompliancePlan = loaded.compiled.plan  # type: ignore[assignment]
    label = "Compliant: every requirement met" if evaluation.outcome == "compliant" else "Not compliant"
    hashes = _hashes(loaded)
    record = _common(loaded, hashes, loaded.kind, loaded.evidence.subject, evaluation.outcome, label)
    lines = [{"requirement": s.id, "met": evaluation.passed[s.id], "applies": evaluation.applies[s.id],
              "text": explain_requirement(s, evaluation), "source": s.source} for s in plan.requirements]
    record.update({
        "requirements": lines,
        "failed": [line["requirement"] for line in lines if not line["met"]],
        "why_not": [line["text"] for line in lines if not line["met"]],
        "margin": margin_json(margin, APPOINTMENT_LABELS),
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    return record


def records_for(loaded: LoadedEvidence, decided: Decided) -> list[dict[str, Any]]:
    """The decision records of an evidence record, from what its kind's runtime decided."""
    if loaded.kind == "appointment":
        return selection_records(loaded, decided)
    if loaded.kind == "hearing":
        return [hearing_record(loaded, decided.decision, decided.margins["subject"])]
    return [compliance_record(loaded, decided.decision, decided.margins["subject"])]


def arithmetic(plan: HearingPlan, evaluation: HearingEvaluation) -> str:
    """E.g. '8 of 12 members: 8 x 3 = 24 >= 2 x 12 = 24, at least two-thirds of the members: veto (needs 8)'."""
    lhs, rhs = evaluation.votes * plan.denominator, evaluation.members * plan.numerator
    relation = ">=" if lhs >= rhs else "<"
    verdict = "veto" if evaluation.outcome == "veto" else "no veto"
    return (f"{evaluation.votes} of {evaluation.members} members voted to veto: {evaluation.votes} x {plan.denominator} = "
            f"{lhs} {relation} {plan.numerator} x {evaluation.members} = {rhs}; at least {plan.numerator}/{plan.denominator} "
            f"of the members needs {evaluation.needed} of {evaluation.members}: {verdict}")


def explain_requirement(spec: RequirementSpec, evaluation: ComplianceEvaluation) -> str:
    """Observed against required, in words."""
    m = evaluation.measures
    condition = _condition_text(spec, m)
    if not evaluation.applies[spec.id]:
        return f"{spec.id}: applies only when {condition[0]}; {condition[1]}, so it does not apply: met"
    verdict = "met" if evaluation.passed[spec.id] else "NOT met"
    text = _test_text(spec, m)
    if condition:
        text = f"applies when {condition[0]}, and {condition[1]}; {text}"
    return f"{spec.id}: {text}: {verdict}"


def _condition_text(spec: RequirementSpec, m: dict[str, int]) -> tuple[str, str] | tuple[()]:
    """(the condition, what the record shows), or () for a requirement that always applies."""
    when = m.get(f"{spec.key}_when")
    if spec.when in ("differ", "equal"):
        a, b = spec.when_inputs
        shown = f"|{a} - {b}| = {when}"
        return (f"{a} and {b} differ" if spec.when == "differ" else f"{a} equals {b}"), shown
    if spec.when in ("is_true", "is_false"):
        wanted = "true" if spec.when == "is_true" else "false"
        return f"{spec.when_inputs[0]} is {wanted}", f"{spec.when_inputs[0]} is {'true' if when else 'false'}"
    return ()


def _test_text(spec: RequirementSpec, m: dict[str, int]) -> str:
    k = spec.key
    if spec.test == "days_between":
        text = f"{m[k]} days from {spec.inputs[0]} to {spec.inputs[1]}; at least {spec.bound} required"
    elif spec.test == "ratio":
        text = (f"|{spec.inputs[0]} - {spec.inputs[1]}| x {spec.denominator} = {m[k + '_diff']} against "
                f"{spec.bound} x {spec.inputs[1]} = {m[k + '_allowed']} (within {spec.bound}/{spec.denominator})")
    elif spec.test == "value":
        text = f"{spec.inputs[0]} = {m[k]}; {spec.direction.replace('_', ' ')} {spec.bound} required"
    elif spec.test == "is_true":
        text = f"{spec.inputs[0]} is {'true' if m[k] else 'false'}"
    else:
        text = f"{spec.inputs[0]} lacks {m[k]} of {len(spec.items)} required items ({', '.join(spec.items)})"
    return text


def expectation(loaded: LoadedEvidence, records: list[dict[str, Any]]) -> tuple[str, str, bool]:
    """(expected, actual, met) for a case's expect block; met when there is none."""
    final, expect = records[-1], loaded.evidence.expect
    actual = summary(loaded.kind, final)
    if expect is None:
        return "", actual, True
    if loaded.kind == "appointment":
        by_candidate = {c["candidate"]: c for c in final["candidates"]}
        met = (expect.outcome, expect.preferred, sorted(expect.tied)) == (final["outcome"], final["preferred"],
                                                                         sorted(final["tied"]))
        for cand, want in expect.candidates.items():
            got = by_candidate.get(cand, {})
            met &= want.gates == got.get("gates") and want.total in (None, got.get("total")) \
                and want.rank in (None, got.get("rank"))
        wanted = expect.outcome + (f" {expect.preferred}" if expect.preferred else "") + \
            (f" {'/'.join(sorted(expect.tied))}" if expect.tied else "")
        return wanted, actual, met
    if loaded.kind == "compliance_record":
        return (expect.outcome + (f" (failed {', '.join(expect.failed)})" if expect.failed else ""), actual,
                (expect.outcome, sorted(expect.failed)) == (final["outcome"], sorted(final["failed"])))
    return expect.outcome, actual, expect.outcome == final["outcome"]


def summary(kind: str, record: dict[str, Any]) -> str:
    if kind == "appointment":
        return record["outcome"] + (f" {record['preferred']}" if record["preferred"] else "") + \
            (f" {'/'.join(sorted(record['tied']))}" if record["tied"] else "")
    if kind == "compliance_record":
        return record["outcome"] + (f" (failed {', '.join(record['failed'])})" if record["failed"] else "")
    return record["outcome"]


# --- rendering ---------------------------------------------------------------------------

def render(loaded: LoadedEvidence, records: list[dict[str, Any]], mode: str, markdown: bool = False) -> str:
    if loaded.kind == "appointment":
        return render_selection(loaded, records, mode, markdown)
    record = records[0]
    head = "### " if markdown else ""
    lines = [f"{head}{record['subject']} ({record['case']})", f"Outcome: {record['outcome_label']}"]
    if loaded.kind == "hearing":
        lines += [f"Rule: {record['rule']}", f"Arithmetic: {record['arithmetic']}",
                  f"Consequence: {record['consequence']}"]
    else:
        lines += [f"  - {line['text']}" for line in record["requirements"]]
    if record.get("margin"):  # records written before margins were recorded have none
        noun = "vote" if loaded.kind == "hearing" else "requirement"
        lines.append(f"Margin (a change is {record['margin']['unit']}): {margin_line(record['margin'], noun)}")
    if mode == "full":
        lines += _trace_lines(record)
    return "\n".join(lines)


def render_pairs(loaded: LoadedEvidence, records: list[dict[str, Any]], mode: str, markdown: bool) -> str:
    """A pair-table selection: each cell's two ratings and category, each candidate's result,
    the cells that fail or wait, the reading of the categories, sensitivity and margins."""
    plan: SelectionPlan = loaded.compiled.plan  # type: ignore[assignment]
    process, candidates = records[-1], records[:-1]
    names = [c["subject"] for c in candidates]
    shown = {(c["subject"], line["exercise"], line["area"]): f"{line['row_ratings'][0]}/{line['row_ratings'][1]} "
             f"{line['category']}" + (f" -> {line['resolution']['category']}" if line["resolution"] else "")
             for c in candidates for line in c["cells"]}
    marks, notes = _flag_marks(process)
    shown = {key: text + (f" {marks[key]}" if key in marks else "") for key, text in shown.items()}
    rows = [[f"{ex} / {plan.area_name(area)}"] + [shown.get((c, ex, area), "-") for c in names] for ex, area in plan.cells]
    rows.append(["Ranking cells"] + [c["total"] for c in candidates])
    rows.append(["Rank"] + [c["rank"] if c["rank"] is not None else "-" for c in candidates])
    rows.append(["Result"] + [{"cells_passed": "pass", "cells_pending": "PENDING"}.get(c["outcome"], "FAIL")
                              for c in candidates])
    table = tabulate(rows, headers=["exercise / area"] + names, tablefmt="github" if markdown else "simple")
    head = "### " if markdown else ""
    lines = [f"{head}{process['subject']} ({process['case']})", table, *notes, *_still_to_fill(process),
             f"Outcome: {process['outcome_label']}"]
    for cand in candidates:
        lines.append(f"  - {cand['subject']}: {cand['outcome_label']}")
        lines += [f"      {line}" for line in cand["why_not"]]
        lines += [f"      {line}" for line in cand["resolved"] if line not in cand["why_not"]]
    lines += [f"Why not {line}" for line in process["why_not"]]
    lines.append(f"Categories read [choice: {process['scoring_choice']}]")
    lines += [f"Flag {f['code']}: {f['message']}" for f in process["flags"] if f.get("area") is None]
    lines += _closing_lines(process, mode, "individual rating", "a result",
                            lambda s: f"{s['candidate']} {s['exercise']}/{s['area']} {s['member']}'s rating "
                                      f"{s['from']} -> {s['to']}")
    return "\n".join(lines)


def render_selection(loaded: LoadedEvidence, records: list[dict[str, Any]], mode: str, markdown: bool) -> str:
    plan: SelectionPlan = loaded.compiled.plan  # type: ignore[assignment]
    if plan.pair_table is not None:
        return render_pairs(loaded, records, mode, markdown)
    process, candidates = records[-1], records[:-1]
    reconstructed = {(e, a) for e, a, _ in plan.reconstructed}
    names = [c["subject"] for c in candidates]
    marks, notes = _flag_marks(process)
    cells = {(c["candidate"], c["exercise"], c["area"]): c for c in process["cells"]}
    rows = []
    for exercise, areas in _exercise_rows(plan):
        rows += [[f"{exercise} / {plan.area_name(area)}" + (" *" if (exercise, area) in reconstructed else "")]
                 + [_cell_text(cells[(c, exercise, area)], marks.get((c, exercise, area))) for c in names]
                 for area in areas]
        rows.append([f"{exercise} subtotal"] + [_subtotal(process, c, exercise) for c in names])
    rows.append(["Total"] + [c["total"] for c in candidates])
    rows.append(["Rank"] + [c["rank"] if c["rank"] is not None else "-" for c in candidates])
    rows.append(["Gates"] + ["pass" if c["outcome"] == "gates_passed" else "FAIL" for c in candidates])
    table = tabulate(rows, headers=["exercise / area"] + names, tablefmt="github" if markdown else "simple",
                     disable_numparse=True)
    head = "### " if markdown else ""
    lines = [f"{head}{process['subject']} ({process['case']})", table, *notes, *_still_to_fill(process)]
    if reconstructed and mode == "full":
        lines += ["* reconstructed cells of the exercise grid:"] + [f"  - {e}/{a}: {n}" for e, a, n in plan.reconstructed]
    elif reconstructed:
        lines.append("* a reconstructed cell of the exercise grid (its note is in the process file and the record)")
    lines.append(f"Outcome: {process['outcome_label']}")
    staged = process["outcome"] == "incomplete"
    for cand in candidates:
        for gate in cand["gates"]:
            state = ("passed" if gate["passed"] else "FAILED") + (" on the stages held" if staged else "")
            lines.append(f"  - {cand['subject']}: gate '{gate['gate']}' ({gate['description']}) {state}")
            lines += [f"      {line}" for line in gate["failing"]]
    lines += [f"Why not {line}" for line in process["why_not"]]
    if process["shortlisting"] and process["shortlisting"]["scores"]:
        short = process["shortlisting"]
        lines.append(f"Shortlisting (scored apart from the total): {short['rule']}")
        lines += [f"  - {cand}: " + ", ".join(f"{e} {s}" for e, s in scores.items())
                  for cand, scores in short["scores"].items()]
    lines += [f"Flag {f['code']}: {f['message']}" for f in process["flags"] if f.get("area") is None]
    moderation = loaded.rules.model.moderation
    if moderation and any(f["code"] == "F202" for f in process["flags"]):
        lines.append(f"  F202 flags a spread of {moderation.spread_at_least} or more [choice: {moderation.choice}]")
    lines += _closing_lines(process, mode, "agreed rating", "a gate",
                            lambda s: f"{s['candidate']} {s['exercise']}/{s['area']} {s['from']} -> {s['to']}")
    return "\n".join(lines)


def _exercise_rows(plan: SelectionPlan) -> list[tuple[str, list[str]]]:
    """The scored cells grouped by exercise, in the plan's order."""
    grouped: dict[str, list[str]] = {}
    for exercise, area in plan.cells:
        grouped.setdefault(exercise, []).append(area)
    return list(grouped.items())


def _flag_marks(process: dict[str, Any]) -> tuple[dict[tuple[str, str, str], str], list[str]]:
    """A numbered mark for each flag about a cell, and the footnote line that explains it."""
    marks: dict[tuple[str, str, str], str] = {}
    notes = []
    for flag in process["flags"]:
        if flag.get("area") is None:
            continue
        number = len(notes) + 1
        key = (flag["candidate"], flag["exercise"], flag["area"])
        marks[key] = marks.get(key, "") + f"[{number}]"
        notes.append(f"[{number}] Flag {flag['code']}: {flag['message']}")
    return marks, notes


def _cell_text(cell: dict[str, Any], mark: str | None) -> str:
    """The agreed rating with the marks of its flags; '-' for a cell of a stage not yet held."""
    return "-" if not cell["held"] else f"{cell['agreed']}" + (f" {mark}" if mark else "")


def _subtotal(process: dict[str, Any], candidate: str, exercise: str) -> str:
    line = next(c for c in process["candidates"] if c["candidate"] == candidate)
    return str(line["subtotals"][exercise]) if exercise in line["subtotals"] else "-"


def _still_to_fill(process: dict[str, Any]) -> list[str]:
    """One line for the cells of the stages not yet held, never one per cell."""
    stages = process["stages"]
    unheld = [s for s in stages["order"] if s not in stages["held"]]
    return [f"{stages['still_to_fill']} cells still to fill (stage {', '.join(unheld)})"] if unheld else []


def _closing_lines(process: dict[str, Any], mode: str, rating: str, result: str,
                   cell_change: Callable[[dict[str, Any]], str]) -> list[str]:
    """A selection's sensitivity (unless mode is off), margin and (in full) trace."""
    lines = []
    if mode != "off":
        if process["sensitivity"]:
            lines.append(f"Sensitivity (one point on one {rating} would change):")
            lines += [f"  - {cell_change(s)}: {'; '.join(s['changes'])}" for s in process["sensitivity"]]
        else:
            lines.append(f"Sensitivity: no single one-point change to an {rating} changes {result} or the outcome")
    if process.get("margin"):  # records written before margins were recorded have none
        lines.append(f"Margin (a change is {process['margin']['unit']}):")
        lines += [f"  - {c['candidate']}, {c['outcome_label'].lower()}: {margin_line(c, 'point')}"
                  for c in process["margin"]["candidates"]]
    if mode == "full":
        lines += _trace_lines(process)
    return lines


def margin_line(margin: dict[str, Any], noun: str) -> str:
    """E.g. "no level above; down 1 point (e.g. cand-a/media/transparency 3 -> 2 gives Failed a gate)"."""
    return f"{_reach_text('up', margin['up'], margin, noun)}; {_reach_text('down', margin['down'], margin, noun)}"


def _reach_text(direction: str, reach: dict[str, Any], margin: dict[str, Any], noun: str) -> str:
    if reach["status"] == "no_level":
        return f"no level {'above' if direction == 'up' else 'below'}"
    if reach["status"] == "unreachable":
        return f"no change moves it {direction} to {reach['target_label']}"
    count = reach["fewest_changes"]
    changes = ", ".join(f"{c['id']} {_value(c['from'])} -> {_value(c['to'])}" for c in reach["example"])
    return (f"{direction} {count} {noun}{'' if count == 1 else 's'} (e.g. {changes} gives {reach['example_label']})")


def _value(value) -> str:
    return value.replace("_", " ") if isinstance(value, str) else str(value)


def _trace_lines(record: dict[str, Any]) -> list[str]:
    lines = ["Rules fired:"]
    for firing in record["trace"]:
        facts = ", ".join(f"{alias}={{{', '.join(f'{k}: {v}' for k, v in fact.items())}}}"
                          for alias, fact in firing["matched"].items())
        lines.append(f"  - {firing['rule']}: {facts}")
    lines += [f"criteria sha256 {record['criteria_sha256']}", f"ruleset sha256 {record['ruleset_sha256']}",
              f"evidence sha256 {record['evidence_sha256']}"]
    return lines
