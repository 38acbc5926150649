"""Decision records and explanations for the appointment kinds.

A selection gives one record per candidate and one for the process; a hearing and a
compliance check give one record each. Every record carries the keys of an inspection
decision record (decision_id, case, subject, framework, outcome, outcome_label,
uncapped_outcome, limiter, why_not, trace, the three hashes and the versions) so that
one reader, and later the ledger, handles them all. Their shapes are the models in
language/decision_model.py, which `summary` and `compare` read them back with: every record is
checked against its model before it leaves here.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from .. import __version__
from ..compiler.compile import canonical_json, canonical_model, sha256_bytes
from ..language.appointment_check import flags
from ..runtime.durable import durable_version
from . import compliance, hearing, selection
from .appointments import LoadedEvidence

RECORD_FORMAT = "arbiter-decision/1"


def canonical_evidence(evidence) -> bytes:
    return canonical_json(_canonical_evidence(evidence))


def _evidence_sha(evidence) -> str:
    return sha256_bytes(canonical_evidence(evidence))


PERSONAL_FIELDS = ("name", "candidate_name", "note")


def personal_data(evidence) -> dict[str, Any]:
    """Names (and free-text notes, which may name people) held apart from the decision."""
    data = canonical_model(evidence)
    found = {key: data[key] for key in ("candidate_name", "note") if key in data}
    for group in ("candidates", "panel"):
        names = {item["id"]: item["name"] for item in data.get(group, []) if "name" in item}
        if names:
            found[group] = dict(sorted(names.items()))
    return found


def _canonical_evidence(evidence) -> dict[str, Any]:
    """What the decision rests on: sorted so that the order of entry (candidates, members,
    cells) does not matter, and without personal data (names, notes), which is kept apart."""
    data = {k: v for k, v in canonical_model(evidence).items() if k not in PERSONAL_FIELDS}
    for group in ("candidates", "panel"):
        if group in data:
            data[group] = [{k: v for k, v in item.items() if k != "name"} for item in data[group]]
    for key, sort_key in (("panel", "id"), ("candidates", "id")):
        if key in data:
            data[key] = sorted(data[key], key=lambda x: x[sort_key])
    for key in ("ratings", "shortlisting"):
        if key in data:
            data[key] = sorted(data[key], key=lambda x: (x["candidate"], x.get("exercise", ""), x.get("area", x.get("element", ""))))
    return data


def _common(loaded: LoadedEvidence, hashes: dict[str, Any], kind: str, subject: str, outcome: str,
            label: str) -> dict[str, Any]:
    """The keys every decision record has; the decision id is unique per record kind and subject."""
    evidence_sha, ruleset_sha = hashes["evidence_sha256"], hashes["ruleset_sha256"]
    return {
        "format": RECORD_FORMAT,
        "decision_id": sha256_bytes(f"{ruleset_sha}:{evidence_sha}:{kind}:{subject}:{__version__}".encode())[:16],
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
        "evidence_sha256": _evidence_sha(loaded.evidence),
        "engine_version": __version__,
        "durable_rules_version": durable_version(),
    }


# --- selection ---------------------------------------------------------------------------

def selection_records(loaded: LoadedEvidence) -> list[dict[str, Any]]:
    appt, compiled = loaded.evidence, loaded.compiled
    plan: selection.SelectionPlan = compiled.plan  # type: ignore[assignment]
    evaluation = selection.evaluate(compiled, appt)
    ranking = selection.ranks(evaluation)
    hashes = _hashes(loaded)
    records = [_candidate_record(loaded, hashes, plan, evaluation, t, ranking[t.candidate]) for t in evaluation.tallies]
    records.append(_process_record(loaded, hashes, plan, evaluation, ranking))
    return records


def gate_lines(plan: selection.SelectionPlan, appt, candidate: str) -> list[dict[str, Any]]:
    cells = selection.agreed(appt)
    lines = []
    for gate in plan.gates:
        failing = [f"area '{plan.area_name(area)}' at {exercise} rated {cells[(candidate, exercise, area)].agreed} "
                   f"< {gate.threshold}: gate failed"
                   for exercise, area in plan.cells if cells[(candidate, exercise, area)].agreed < gate.threshold]
        lines.append({"gate": gate.id, "description": gate.description, "passed": not failing, "failing": failing,
                      "source": gate.source})
    return lines


def _candidate_record(loaded, hashes, plan, evaluation, tally, rank) -> dict[str, Any]:
    passed = evaluation.passed[tally.candidate]
    outcome = "gates_passed" if passed else "gate_failed"
    label = "Passed every gate" if passed else "Failed a gate: not appointable"
    record = _common(loaded, hashes, "candidate", tally.candidate, outcome, label)
    gates = gate_lines(plan, loaded.evidence, tally.candidate)
    record.update({
        "total": tally.total,
        "rank": rank,
        "preferred": evaluation.preferred == tally.candidate,
        "gates": gates,
        "why_not": [line for g in gates for line in g["failing"]],
        "trace": [f.to_json() for f in evaluation.firings
                  if f.matched.get("ev", {}).get("cand") == tally.candidate],
        **hashes,
    })
    return record


def _process_record(loaded, hashes, plan, evaluation, ranking) -> dict[str, Any]:
    label = selection.OUTCOMES[evaluation.outcome]
    if evaluation.outcome == "preferred":
        label += f": {evaluation.preferred}"
    elif evaluation.outcome == "tie":
        label += f" ({', '.join(evaluation.tied)})"
    record = _common(loaded, hashes, loaded.kind, plan.title, evaluation.outcome, label)
    totals = {t.candidate: t.total for t in evaluation.tallies}
    record.update({
        "preferred": evaluation.preferred,
        "tied": list(evaluation.tied),
        "candidates": [{"candidate": t.candidate, "gates": "pass" if evaluation.passed[t.candidate] else "fail",
                        "total": t.total, "rank": ranking[t.candidate]} for t in evaluation.tallies],
        "why_not": _why_not_preferred(evaluation, totals),
        "flags": [f.to_json() for f in flags(loaded.evidence, loaded.rules.model)],
        "shortlisting": _shortlisting(loaded),
        "reconstructed_cells": [{"exercise": e, "area": a, "note": n} for e, a, n in plan.reconstructed],
        "sensitivity": selection.sensitivity(loaded.compiled, loaded.evidence, evaluation),
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    return record


def _shortlisting(loaded: LoadedEvidence) -> dict[str, Any] | None:
    """Scored apart from the total: the declared rule and each candidate's scores."""
    spec = loaded.rules.model.shortlisting
    if spec is None:
        return None
    scores: dict[str, dict[str, int]] = {}
    for s in loaded.evidence.shortlisting:
        scores.setdefault(s.candidate, {})[s.element] = s.score
    return {"rule": spec.rule, "elements": list(spec.elements), "scores": dict(sorted(scores.items()))}


def _why_not_preferred(evaluation, totals: dict[str, int]) -> list[str]:
    reasons = []
    for cand, passed in evaluation.passed.items():
        if cand == evaluation.preferred:
            continue
        if not passed:
            reasons.append(f"{cand}: failed a gate, so is not appointable")
        elif evaluation.outcome == "tie" and cand in evaluation.tied:
            reasons.append(f"{cand}: tied on {totals[cand]}; the tie policy refers it to the panel")
        elif evaluation.preferred:
            reasons.append(f"{cand}: total {totals[cand]} < {totals[evaluation.preferred]} ({evaluation.preferred})")
        else:
            reasons.append(f"{cand}: total {totals[cand]} is below the tied leaders")
    return reasons


# --- hearing and compliance ------------------------------------------------------------

def hearing_record(loaded: LoadedEvidence) -> dict[str, Any]:
    plan: hearing.HearingPlan = loaded.compiled.plan  # type: ignore[assignment]
    evaluation = hearing.evaluate(loaded.compiled, loaded.evidence)
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
        "arithmetic": hearing.arithmetic(plan, evaluation),
        "consequence": plan.on_veto if vetoed else plan.on_no_veto,
        "rule": plan.veto_text,
        "why_not": [] if vetoed else [f"veto not reached: {evaluation.votes} votes, {evaluation.needed} needed"],
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    return record


def compliance_record(loaded: LoadedEvidence) -> dict[str, Any]:
    plan: compliance.CompliancePlan = loaded.compiled.plan  # type: ignore[assignment]
    evaluation = compliance.evaluate(loaded.compiled, loaded.evidence)
    label = "Compliant: every requirement met" if evaluation.outcome == "compliant" else "Not compliant"
    hashes = _hashes(loaded)
    record = _common(loaded, hashes, loaded.kind, loaded.evidence.subject, evaluation.outcome, label)
    lines = [{"requirement": s.id, "met": evaluation.passed[s.id], "text": compliance.explain_requirement(s, evaluation),
              "source": s.source} for s in plan.requirements]
    record.update({
        "requirements": lines,
        "failed": [line["requirement"] for line in lines if not line["met"]],
        "why_not": [line["text"] for line in lines if not line["met"]],
        "trace": [f.to_json() for f in evaluation.firings],
        **hashes,
    })
    return record


def records_for(loaded: LoadedEvidence) -> list[dict[str, Any]]:
    if loaded.kind == "appointment":
        return selection_records(loaded)
    if loaded.kind == "hearing":
        return [hearing_record(loaded)]
    return [compliance_record(loaded)]


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
    if mode == "full":
        lines += _trace_lines(record)
    return "\n".join(lines)


def render_selection(loaded: LoadedEvidence, records: list[dict[str, Any]], mode: str, markdown: bool) -> str:
    plan: selection.SelectionPlan = loaded.compiled.plan  # type: ignore[assignment]
    process, candidates = records[-1], records[:-1]
    cells = selection.agreed(loaded.evidence)
    reconstructed = {(e, a) for e, a, _ in plan.reconstructed}
    names = [c["subject"] for c in candidates]
    rows = [[f"{ex} / {plan.area_name(area)}" + (" *" if (ex, area) in reconstructed else "")]
            + [cells[(c, ex, area)].agreed for c in names] for ex, area in plan.cells]
    rows.append(["Total"] + [c["total"] for c in candidates])
    rows.append(["Rank"] + [c["rank"] if c["rank"] is not None else "-" for c in candidates])
    rows.append(["Gates"] + ["pass" if c["outcome"] == "gates_passed" else "FAIL" for c in candidates])
    table = tabulate(rows, headers=["exercise / area"] + names, tablefmt="github" if markdown else "simple")
    head = "### " if markdown else ""
    lines = [f"{head}{process['subject']} ({process['case']})", table]
    if reconstructed and mode == "full":
        lines += ["* reconstructed cells of the exercise grid:"] + [f"  - {e}/{a}: {n}" for e, a, n in plan.reconstructed]
    elif reconstructed:
        lines.append("* a reconstructed cell of the exercise grid (its note is in the process file and the record)")
    lines.append(f"Outcome: {process['outcome_label']}")
    for cand in candidates:
        for gate in cand["gates"]:
            state = "passed" if gate["passed"] else "FAILED"
            lines.append(f"  - {cand['subject']}: gate '{gate['gate']}' ({gate['description']}) {state}")
            lines += [f"      {line}" for line in gate["failing"]]
    lines += [f"Why not {line}" for line in process["why_not"]]
    if process["shortlisting"] and process["shortlisting"]["scores"]:
        short = process["shortlisting"]
        lines.append(f"Shortlisting (scored apart from the total): {short['rule']}")
        lines += [f"  - {cand}: " + ", ".join(f"{e} {s}" for e, s in scores.items())
                  for cand, scores in short["scores"].items()]
    lines += [f"Flag {f['code']}: {f['message']}" for f in process["flags"]]
    if mode != "off":
        if process["sensitivity"]:
            lines.append("Sensitivity (one point on one agreed rating would change):")
            lines += [f"  - {s['candidate']} {s['exercise']}/{s['area']} {s['from']} -> {s['to']}: {'; '.join(s['changes'])}"
                      for s in process["sensitivity"]]
        else:
            lines.append("Sensitivity: no single one-point change to an agreed rating changes a gate or the outcome")
    if mode == "full":
        lines += _trace_lines(process)
    return "\n".join(lines)


def _trace_lines(record: dict[str, Any]) -> list[str]:
    lines = ["Rules fired:"]
    for firing in record["trace"]:
        facts = ", ".join(f"{alias}={{{', '.join(f'{k}: {v}' for k, v in fact.items())}}}"
                          for alias, fact in firing["matched"].items())
        lines.append(f"  - {firing['rule']}: {facts}")
    lines += [f"criteria sha256 {record['criteria_sha256']}", f"ruleset sha256 {record['ruleset_sha256']}",
              f"evidence sha256 {record['evidence_sha256']}"]
    return lines
