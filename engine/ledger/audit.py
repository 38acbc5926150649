"""Audit: record decisions in the ledger, and show, replay, override and purge them.

What the ledger keeps for each decision (all content-addressed): the criteria in canonical
form, the compiled ruleset, the evidence (without personal data), the decision record, and
the personal data apart. Replay rebuilds everything from those blobs alone, runs the
stored ruleset through durable-rules again, and compares the new record byte for byte.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any, Optional

from ..appointments import appointment_record
from ..appointments.appointments import LoadedEvidence, compile_rules, decide, evidence_flags
from ..compiler.compile import Compiled, compile_criteria, compile_set, compiled_from_file
from ..compiler.compliance import compile_compliance
from ..compiler.hearing import compile_hearing
from ..compiler.selection import compile_selection
from ..inspections.cases import decide_case
from ..inspections.explain import render_text
from ..inspections.graph import InputDecision, RecordedInput
from ..language.appointment_models import (Appointment, CompetencyFramework, ComplianceFramework, ComplianceRecord, Hearing,
                                           PanelRulesFile, SelectionProcess)
from ..language.canonical import canonical_appointment_evidence, canonical_case, canonical_json, personal_data, sha256_bytes
from ..language.catalog import Catalog, Loaded
from ..language.criteria import Criteria, check_criteria
from ..language.decision_model import APPOINTMENT_LABELS, APPOINTMENT_OUTCOMES
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import Document
from ..language.models import NOT_GRADED, NOT_GRADED_LABEL, UNDECIDED, UNDECIDED_LABEL, Case, CriteriaSet, Framework, Scale
from ..language.options import option_error
from ..workspace.compare import first_differing_firing
from ..workspace.runner import Scored
from .ledger import DECISION_BLOBS, Entry, Ledger, blob_roles, recorded_date

def _blob(kind: str, content: bytes) -> tuple[str, str, bytes]:
    return kind, sha256_bytes(content), content


def record_results(ledger: Ledger, results: list[Scored]) -> list[Entry]:
    """Append every decision of every result, with the blobs needed to replay it. A decision
    whose sub-areas take grades from other decisions comes after them: each input is recorded
    first, once, unless the ledger holds it already (the same id is the same decision)."""
    ordered = _inputs_first(results)
    _raise_if_unlinked(ledger, ordered)
    entries = []
    recorded: set[str] = set()
    for result, is_input in ordered:
        shared = _shared_blobs(result)  # criteria, ruleset, evidence[, personal]: the entry's refs, in this order
        for record in result.records:
            if is_input and (record["decision_id"] in recorded or _holds(ledger, record["decision_id"])):
                continue
            recorded.add(record["decision_id"])
            body = canonical_json({"case": record["case"], "kind": record.get("kind", "case"), "subject": record["subject"],
                                   "framework": record["framework"], "outcome": record["outcome"]}).decode()
            blobs = shared + [_blob("record", canonical_json(record))]
            entries.append(ledger.append("decision", record["decision_id"], body, blobs))
    return entries


def _inputs_first(results: list[Scored]) -> list[tuple[Scored, bool]]:
    """Each result after the decisions it takes grades from; (result, whether it feeds another).
    `score` lists a case's inputs among its results too: they are inputs all the same."""
    feeding = {id(each) for result in results for each in result.inputs}
    ordered: list[tuple[Scored, bool]] = []
    for result in results:
        ordered += [(each, True) for each in result.inputs]
        ordered.append((result, id(result) in feeding))
    return ordered


def _holds(ledger: Ledger, decision_id: str) -> bool:
    try:
        ledger.decision(decision_id)
    except DiagnosticError:
        return False
    return True


def _raise_if_unlinked(ledger: Ledger, ordered: list[tuple[Scored, bool]]) -> None:
    """E183 before anything is appended: a decision that takes a grade from another is recorded
    only with that one recorded too, so that a replay can rebuild the whole chain."""
    known = {record["decision_id"] for result, _ in ordered for record in result.records}
    problems = [Diagnostic(ledger.place, 0, 0, "E183", f"decision {record['decision_id']} takes sub-area "
                                                       f"'{link['subarea']}' from decision {link['decision_id']} "
                                                       f"(case {link['case']}), which is neither in the ledger nor "
                                                       "recorded with it",
                           "record the input decision too: arbiter score CASE --record records a case's inputs first")
                for result, _ in ordered for record in result.records for link in record.get("inputs", [])
                if link["decision_id"] not in known and not _holds(ledger, link["decision_id"])]
    if problems:
        raise DiagnosticError(problems)


def _roles(entry: Entry) -> dict[str, Optional[str]]:
    """Which blob is which: a decision's refs are criteria, ruleset, evidence[, personal], record."""
    roles: dict[str, Optional[str]] = dict.fromkeys(DECISION_BLOBS[5])
    roles.update(zip(blob_roles(entry.type, len(entry.refs)) or (), entry.refs))
    return roles


def _shared_blobs(result: Scored) -> list[tuple[str, str, bytes]]:
    source = result.source
    compiled: Compiled = source.compiled
    blobs = [_blob("criteria", compiled.criteria), _blob("ruleset", compiled.text.encode())]
    if result.kind == "case":
        return blobs + [_blob("evidence", canonical_case(source.case))]
    blobs.append(_blob("evidence", canonical_appointment_evidence(source.evidence)))
    personal = personal_data(source.evidence)
    return blobs + ([_blob("personal", canonical_json(personal))] if personal else [])


# --- rebuilding from the ledger ---------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    entry: Entry
    body: dict[str, Any]
    record: dict[str, Any]
    criteria: dict[str, Any]
    ruleset_text: str
    evidence: dict[str, Any]
    personal: Optional[dict[str, Any]]  # None when there is none or it was erased


def stored(ledger: Ledger, ref: str) -> Stored:
    """A recorded decision rebuilt from its blobs, once its entry, its link and its blobs
    are checked: show, replay and override never act on a changed decision."""
    entry = ledger.decision(ref)
    problem = ledger.entry_problem(entry)
    if problem:
        raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E172", f"decision {entry.ref} cannot be rebuilt: {problem}",
                                          "run arbiter verify to see what is wrong")])
    body = json.loads(entry.body)
    roles = _roles(entry)

    def content(sha: Optional[str]) -> Optional[bytes]:
        blob = ledger.blob(sha) if sha else None
        return blob.content if blob and blob.content else None

    parts = {role: content(roles[role]) for role in ("record", "criteria", "ruleset", "evidence")}
    lost = [role for role, value in parts.items() if value is None]
    if lost:
        raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E172", f"decision {entry.ref} cannot be rebuilt: "
                                                                          f"{', '.join(lost)} missing from the ledger",
                                          "run arbiter verify to see what is wrong")])
    personal = content(roles["personal"])
    return Stored(entry, body, json.loads(parts["record"]), json.loads(parts["criteria"]),
                  parts["ruleset"].decode(), json.loads(parts["evidence"]), json.loads(personal) if personal else None)


def _rebuild_compiled(s: Stored) -> tuple[Compiled, Any]:
    """The ruleset to run, and the models the records need, from the stored blobs.

    Inspections run the stored ruleset itself. The appointment kinds' plans are rebuilt by
    compiling the stored criteria; `replay` reports it if that differs from the stored text."""
    if "criteria" in s.criteria:
        stored_compiled = compiled_from_file(s.ruleset_text)
        criteria_bytes = canonical_json(s.criteria)
        return Compiled(stored_compiled.plan, stored_compiled.ruleset, s.ruleset_text, criteria_bytes), None
    return _compile_stored(s)


def _compile_stored(s: Stored) -> tuple[Compiled, Any]:
    """What today's compiler builds from the stored criteria (never from files)."""
    c = s.criteria
    if "criteria" in c:
        criteria = Criteria.from_models(Scale.model_validate(c["scale"]), Framework.model_validate(c["framework"]),
                                        CriteriaSet.model_validate(c["criteria"]))
        check_criteria(criteria)
        return compile_criteria(criteria), None
    if "process" in c:
        rules = SelectionProcess.model_validate(c["process"])
        compiled = compile_selection(rules, CompetencyFramework.model_validate(c["cvf"]),
                                               Scale.model_validate(c["scale"]))
    elif "panel_rules" in c:
        rules = PanelRulesFile.model_validate(c["panel_rules"])
        compiled = compile_hearing(rules)
    else:
        rules = ComplianceFramework.model_validate(c["compliance"])
        compiled = compile_compliance(rules)
    return compiled, rules


def _records_from(s: Stored, compiled: Compiled, rules: Any) -> list[dict[str, Any]]:
    """The stored evidence decided again, through the same stages as `score`."""
    if s.body["kind"] == "case":
        return [decide_case(compiled, Case.model_validate(s.evidence))]
    loaded = _loaded_for(s, compiled, rules)
    return appointment_record.records_for(loaded, decide(loaded))


# --- replay -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Replay:
    decision_id: str
    identical: bool
    differences: list[str]
    cause: Optional[str]  # the first rule firing that differs, when the outcome differs
    inputs: tuple["Replay", ...] = ()  # each decision a sub-area took its grade from, replayed first


def replay(ledger: Ledger, ref: str, catalog: Optional[Catalog] = None) -> Replay:
    """Re-run a stored decision and, first, every decision its sub-areas took grades from
    (however far back): each link must still name the same record, and each input must replay
    the same; the differences name the link that changed."""
    s = stored(ledger, ref)
    inputs, broken = _replay_inputs(ledger, s.record, catalog)
    own = _replay_own(s, catalog)
    differences = broken + own.differences
    return replace(own, identical=own.identical and not broken, differences=differences, inputs=inputs)


def _replay_inputs(ledger: Ledger, record: dict[str, Any], catalog: Optional[Catalog]) -> tuple[tuple[Replay, ...], list[str]]:
    """Each input replayed, and what changed about each link (the record it names, or the
    input's own replay)."""
    replays, broken = [], []
    for link in record.get("inputs", []):
        named = f"input {link['subarea']} (case {link['case']}, decision {link['decision_id']})"
        try:
            found = stored(ledger, link["decision_id"])
        except DiagnosticError as error:
            broken.append(f"{named}: cannot be rebuilt: {error.diagnostics[0].message}")
            continue
        sha = sha256_bytes(canonical_json(found.record))
        if sha != link["record_sha256"]:
            broken.append(f"{named}: its record's sha256 is {sha}, but the link names {link['record_sha256']}")
        again = replay(ledger, link["decision_id"], catalog)
        replays.append(again)
        broken += [f"{named}: {line}" for line in again.differences]
    return tuple(replays), broken


def _replay_own(s: Stored, catalog: Optional[Catalog]) -> Replay:
    """The stored decision alone, re-run from its stored evidence (its inputs' grades as recorded)."""
    compiled, rules = _rebuild_compiled(s)
    differences = []
    rebuilt = _compile_stored(s)[0] if "criteria" in s.criteria else compiled  # appointments: already compiled
    if catalog is None and rebuilt.text != s.ruleset_text:
        differences.append("the compiler now builds a different ruleset from the stored criteria")
    if catalog is not None:
        compiled, rules = _current(catalog, s)
    new = next((r for r in _records_from(s, compiled, rules) if _same_subject(r, s.record)), None)
    if new is None:
        return Replay(s.entry.ref, False, ["the decision's subject is no longer decided"], None)
    if canonical_json(new) == canonical_json(s.record) and not differences:
        return Replay(s.entry.ref, True, [], None)
    return Replay(s.entry.ref, False, differences + diff(s.record, new), first_differing_firing(s.record, new))


def recorded_input(ledger: Ledger) -> RecordedInput:
    """How a case's `decision_id:` link finds its decision: in this ledger, checked as `show`
    and `replay` check a decision; only an inspection decision has a grade to give."""
    def lookup(decision_id: str) -> InputDecision:
        s = stored(ledger, decision_id)
        if s.body["kind"] != "case":
            raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E181", f"decision {s.entry.ref} is a "
                                                                          f"{s.body['kind'].replace('_', ' ')} decision, "
                                                                          "not an inspection grade",
                                              "take the grade from an inspection decision, or give it by hand")])
        return InputDecision.of_record(s.record, compiled_from_file(s.ruleset_text).plan.scale)
    return lookup


def _same_subject(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return new.get("kind") == old.get("kind") and new["subject"] == old["subject"]


def _current(catalog: Catalog, s: Stored) -> tuple[Compiled, Any]:
    if s.body["kind"] == "case":
        return compile_set(catalog, s.record["criteria_set"]), None
    kind = {"candidate": "selection_process", "appointment": "selection_process", "hearing": "panel_rules",
            "compliance_record": "compliance"}[s.body["kind"]]
    loaded = catalog.load(catalog.path_of(s.record["framework"]), kind)
    return compile_rules(catalog, loaded), loaded.model


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Each top-level field that differs, old -> new (long values shortened)."""
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


# --- show, log, override, purge ----------------------------------------------------------

def show(ledger: Ledger, ref: str, reveal: bool) -> str:
    s = stored(ledger, ref)
    compiled, rules = _rebuild_compiled(s)
    lines = [f"entry {s.entry.seq}, recorded {s.entry.recorded_at}, hash {s.entry.hash}",
             f"decision {s.entry.ref}: {s.record['case']} ({s.body['kind']}), framework {s.record['framework']}",
             f"computed outcome: {s.record['outcome_label']}"]
    for override in ledger.overrides_of(s.entry.ref):
        o = json.loads(override.body)
        lines.append(f"final outcome (override, entry {override.seq}, {override.recorded_at}): {o['outcome']} "
                     f"by {o['by']}: {o['rationale']}")
    lines.append(_personal_line(ledger, s, reveal))
    lines.append("")
    if s.body["kind"] == "case":
        lines.append(render_text(s.record, "full"))
    else:
        loaded = _loaded_for(s, compiled, rules)
        records = appointment_record.records_for(loaded, decide(loaded))
        lines.append(appointment_record.render(loaded, records, "full", False))
    return "\n".join(lines)


def _loaded_for(s: Stored, compiled: Compiled, rules: Any) -> LoadedEvidence:
    kind = {"candidate": "appointment"}.get(s.body["kind"], s.body["kind"])
    model = {"appointment": Appointment, "hearing": Hearing, "compliance_record": ComplianceRecord}[kind]
    evidence = model.model_validate(s.evidence)
    rules_loaded = Loaded(rules, Document("<ledger>", {}))
    return LoadedEvidence(kind, evidence, Document("<ledger>", s.evidence), rules_loaded, compiled,
                          evidence_flags(evidence, rules_loaded))


def _personal_line(ledger: Ledger, s: Stored, reveal: bool) -> str:
    sha = _roles(s.entry)["personal"]
    if not sha:
        return "personal data: none recorded"
    if s.personal is None:
        return f"personal data: erased {ledger.erased_at(sha) or ''} (its hash {sha[:12]} stays in the chain)"
    if not reveal:
        return "personal data: held apart; pseudonyms shown (use --reveal to show names)"
    return "personal data: " + json.dumps(s.personal, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class LogRow:
    seq: int
    recorded_at: str
    recorded_on: datetime.date  # the UTC date of recorded_at, which date filters compare
    decision_id: str
    case: str
    subject: str
    framework: str
    kind: str
    ruleset: str  # sha256 of the stored ruleset (its levels name the outcomes)
    computed: str
    override: Optional[str]  # the latest override's outcome, even when it restores the computed one

    @property
    def final(self) -> str:
        return self.override or self.computed


def log(ledger: Ledger, framework: Optional[str] = None, subject: Optional[str] = None,
        outcome: Optional[str] = None, since: Optional[datetime.date] = None,
        until: Optional[datetime.date] = None) -> list[LogRow]:
    """Recorded decisions with their final outcomes, filtered. A framework, subject or
    outcome that no recorded decision has is a mistake (E174, with a did-you-mean), never
    an empty answer; an outcome is matched by id or label, ignoring case."""
    rows = _log_rows(ledger)
    _require_known("--framework", "framework", framework, {r.framework for r in rows})
    _require_known("--subject", "subject", subject, {r.subject for r in rows})
    outcomes = _recorded_outcomes(outcome, _outcome_names(ledger, rows)) if outcome is not None else None
    if since is not None and until is not None and until < since:
        raise option_error("--until", f"{until} is before --since {since}", "give an --until on or after --since")
    return [r for r in rows
            if (framework is None or r.framework == framework) and (subject is None or r.subject == subject)
            and (outcomes is None or r.computed in outcomes or r.final in outcomes)
            and (since is None or r.recorded_on >= since) and (until is None or r.recorded_on <= until)]


def _log_rows(ledger: Ledger) -> list[LogRow]:
    rows: dict[str, LogRow] = {}
    for entry in ledger.entries():
        try:
            if entry.type == "decision" and entry.ref not in rows:
                rows[entry.ref] = _log_row(entry)
            elif entry.type == "override" and entry.ref in rows:
                rows[entry.ref] = replace(rows[entry.ref], override=json.loads(entry.body)["outcome"])
        except (KeyError, TypeError, ValueError) as error:  # only in a changed file: its hash no longer matches
            raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E170",
                                              f"entry {entry.seq} cannot be read ({error}): the file was changed",
                                              "run arbiter verify to see what is wrong")]) from None
    return list(rows.values())


def _log_row(entry: Entry) -> LogRow:
    body = json.loads(entry.body)
    return LogRow(entry.seq, entry.recorded_at, recorded_date(entry.recorded_at), entry.ref, body["case"],
                  body["subject"], body["framework"], body["kind"], _roles(entry)["ruleset"] or "", body["outcome"], None)


def _require_known(option: str, what: str, value: Optional[str], known: set[str]) -> None:
    if value is not None and value not in known:
        raise option_error(option, f"no {what} {value!r} in this ledger", suggest(value, sorted(known)))


def _outcome_key(text: str) -> str:
    """How an outcome is matched: case and spacing ignored, '_' read as a space, and only the
    part before a colon, so that a label as printed ("Preferred candidate: cand-a") works."""
    return " ".join(text.split(":", 1)[0].replace("_", " ").split()).casefold()


def _named(value: str, names: list[tuple[str, str]]) -> set[str]:
    """The outcomes (ids) that `value` names, among (id, id or label) pairs."""
    return {outcome for outcome, name in names if _outcome_key(name) == _outcome_key(value)}


def _outcome_names(ledger: Ledger, rows: list[LogRow]) -> list[tuple[str, str]]:
    """Every outcome a recorded decision has (computed or final), by id and by label."""
    present = {r.computed for r in rows} | {r.override for r in rows if r.override}
    labels = [*APPOINTMENT_LABELS.items(), (UNDECIDED, UNDECIDED_LABEL), (NOT_GRADED, NOT_GRADED_LABEL)]
    for sha in {r.ruleset for r in rows if r.kind == "case"}:
        blob = ledger.blob(sha)
        labels += _level_labels(blob.content.decode()) if blob and blob.content else []
    return [(o, o) for o in sorted(present)] + [(o, label) for o, label in labels if o in present]


def _recorded_outcomes(value: str, names: list[tuple[str, str]]) -> set[str]:
    matched = _named(value, names)
    if not matched:
        raise option_error("--outcome", f"no decision in this ledger has the outcome {value!r}",
                           suggest(value, sorted({name for _, name in names})))
    return matched


def _level_labels(ruleset_text: str) -> list[tuple[str, str]]:
    return [(level["id"], level["label"]) for level in json.loads(ruleset_text)["plan"]["levels"]]


def override(ledger: Ledger, ref: str, outcome: str, rationale: str, by: str) -> Entry:
    """A professional-judgement departure, as a new entry linked to the decision (which is
    never changed). The outcome is given by id or label; the id is recorded."""
    for option, value in (("--rationale", rationale), ("--by", by)):
        if not value.strip():
            raise DiagnosticError([Diagnostic(option, 0, 0, "E173", "an override needs a rationale and who made it",
                                              "give --rationale TEXT and --by NAME")])
    s = stored(ledger, ref)
    choices = _outcome_choices(s)
    chosen = _named(outcome, [*((o, o) for o in choices), *choices.items()])
    if not chosen:
        raise option_error("--outcome", f"'{outcome}' is not an outcome of decision {s.entry.ref}",
                           suggest(outcome, [*choices, *choices.values()]))
    _within_absolute_caps(s, min(chosen))
    body = canonical_json({"overrides_entry": s.entry.seq, "computed": s.record["outcome"], "outcome": min(chosen),
                           "rationale": rationale, "by": by}).decode()
    return ledger.append("override", s.entry.ref, body, [])


def _within_absolute_caps(s: Stored, outcome: str) -> None:
    """A judgement may not lift an inspection grade above the cap of an absolute limiter the
    rules found holding for this decision (its record names them): refused, not recorded."""
    if s.body["kind"] != "case":
        return
    order = [level for level, _ in _level_labels(s.ruleset_text)]
    for limiter in s.record.get("limiters") or []:
        if limiter.get("absolute") and outcome in order and order.index(outcome) < order.index(limiter["cap"]):
            raise option_error("--outcome", f"'{outcome}' is above {limiter['cap']}, the cap of limiter "
                               f"'{limiter['id']}', which holds for decision {s.entry.ref} and is absolute: no "
                               "recorded judgement lifts the grade above it",
                               f"record an outcome at or below {limiter['cap']}")


def _outcome_choices(s: Stored) -> dict[str, str]:
    """The outcomes this decision could have, id -> label."""
    if s.body["kind"] == "case":
        return dict(_level_labels(s.ruleset_text))
    return {o: APPOINTMENT_LABELS[o] for o in APPOINTMENT_OUTCOMES[s.body["kind"]]}


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would erase: personal-data blobs, and the decisions holding them."""
    before: datetime.date
    blobs: tuple[str, ...]
    decisions: int
    first: Optional[datetime.date]  # when the earliest and latest of those decisions were recorded
    last: Optional[datetime.date]

    def describe(self) -> str:
        if not self.blobs:
            return f"no personal data held only by decisions recorded before {self.before}"
        return (f"{_count(len(self.blobs), 'personal-data blob')} of {_count(self.decisions, 'decision')} "
                f"recorded from {self.first} to {self.last}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def purge_plan(ledger: Ledger, before: datetime.date) -> PurgePlan:
    """The personal data of decisions recorded before a date (UTC), as the chain holds it.

    The whole ledger is verified first: a purge cannot be undone, so it never acts on a
    changed file. A blob is erased only when the chain holds it as personal data and no
    decision recorded on or after the date holds it too."""
    _require_verified(ledger)
    held_by: dict[str, list[datetime.date]] = defaultdict(list)  # personal blob -> when its decisions were recorded
    not_personal: set[str] = set()
    for entry in ledger.entries():
        if entry.type == "decision":
            roles = _roles(entry)
            not_personal.update(sha for role, sha in roles.items() if sha and role != "personal")
            if roles["personal"]:
                held_by[roles["personal"]].append(recorded_date(entry.recorded_at))
    erased = ledger.erased()
    blobs = sorted(sha for sha, dates in held_by.items()
                   if max(dates) < before and sha not in erased and sha not in not_personal)
    dates = [day for sha in blobs for day in held_by[sha]]
    return PurgePlan(before, tuple(blobs), len(dates), min(dates, default=None), max(dates, default=None))


def _require_verified(ledger: Ledger) -> None:
    result = ledger.verify()
    if not result.ok:
        where = f"entry {result.at}: " if result.at else ""
        raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E170",
                                          f"the ledger does not verify ({where}{result.problem}); nothing was erased",
                                          "run arbiter verify, and restore the file from a backup")])


def purge(ledger: Ledger, plan: PurgePlan) -> Optional[Entry]:
    """Erase the planned personal data; the chain records what was erased and when."""
    return ledger.erase_personal(list(plan.blobs), lambda stamp, erased: canonical_json(
        {"erased": erased, "before": plan.before.isoformat(), "erased_at": stamp,
         "what": "personal data (names, notes)"}).decode())
