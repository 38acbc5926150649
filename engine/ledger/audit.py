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
from typing import Any, Iterator, Optional

from ..appointments import appointment_record
from ..appointments import pack as packs
from ..appointments.appointments import LoadedEvidence, compile_rules, decide, evidence_flags
from ..compiler.compile import Compiled, compile_criteria, compile_set, compiled_from_file
from ..compiler.compliance import compile_compliance
from ..compiler.hearing import compile_hearing
from ..compiler.pack import compile_pack
from ..compiler.selection import compile_selection
from ..inspections.cases import decide_case
from ..inspections.explain import render_text
from ..inspections.graph import InputDecision, RecordedInput
from ..language.appointment_models import (Appointment, CompetencyFramework, ComplianceFramework, ComplianceRecord, Hearing,
                                           PanelRulesFile, SelectionProcess)
from ..language.canonical import canonical_appointment_evidence, canonical_json, personal_data, sha256_bytes
from ..language.catalog import Catalog, Loaded
from ..language.criteria import Criteria, check_criteria
from ..language.decision_model import APPOINTMENT_LABELS, APPOINTMENT_OUTCOMES
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import Document
from ..language.models import NOT_GRADED, NOT_GRADED_LABEL, UNDECIDED, UNDECIDED_LABEL, Case, CriteriaSet, Framework, Scale
from ..language.options import option_error
from ..language.pack_models import PACK_INPUTS, PackRulesFile
from ..workspace.compare import first_differing_firing
from ..workspace.runner import Scored
from .chain import Entry
from .ledger import DECISION_BLOBS, Ledger, blob_roles, recorded_date
from .revisions import evidence_changes, revision_of

def _blob(kind: str, content: bytes) -> tuple[str, str, bytes]:
    return kind, sha256_bytes(content), content


@dataclass(frozen=True)
class Recorded:
    """What one call to record appended, and the decisions it found recorded already (each as
    the entry that holds it), which it did not record again."""
    entries: tuple[Entry, ...]
    already: tuple[Entry, ...]


def record_results(ledger: Ledger, results: list[Scored], by: Optional[str] = None,
                   reason: Optional[str] = None) -> list[Entry]:
    """The entries `record_decisions` appended."""
    return list(record_decisions(ledger, results, by, reason).entries)


def record_decisions(ledger: Ledger, results: list[Scored], by: Optional[str] = None,
                     reason: Optional[str] = None) -> Recorded:
    """Append every decision of every result, with the blobs needed to replay it, all in one
    transaction: when anything fails, nothing of this call is recorded. A decision whose
    sub-areas take grades from other decisions comes after them: each input is recorded
    first, once, unless the ledger holds it already (the same id is the same decision).

    A decision is not recorded again when the latest decision recorded about the same case,
    record kind and subject has the same decision id (the same evidence, criteria and
    engine): a retry after a commit whose outcome was uncertain, or the same file scored
    again, adds nothing. Recording A, then B, then A again records A again: the latest is B.

    A decision about a case, record kind and subject the ledger already holds with other
    evidence is a revision: its entry names the decisions it supersedes, who recorded it
    (`by`, required) and why (`reason`), none of which is in the decision record, so its id
    and its replay are what they would be without them."""
    ordered = _inputs_first(results)
    with ledger.transaction():
        _raise_if_unlinked(ledger, ordered)
        planned = _planned(ledger, ordered)
        latest, revisions = _recorded_history(ledger, planned)
        keep, already = _not_recorded_yet(planned, latest)
        _require_author(ledger, {index: revisions[index] for index in keep if index in revisions}, by)
        entries = tuple(ledger.add("decision", planned[index][0]["decision_id"],
                                   _entry_body(planned[index][0], revisions.get(index), by, reason), planned[index][1])
                        for index in keep)
    return Recorded(entries, already)


def _not_recorded_yet(planned: list[tuple[dict[str, Any], list]], latest: dict[tuple[str, str, str], Entry]
                      ) -> tuple[list[int], tuple[Entry, ...]]:
    """The places of the planned decisions to append, and the entries of those the ledger holds
    as the latest decision about their subject (the idempotency key: the decision id and the
    entry it was found in). One planned twice in this call is appended once."""
    keep: list[int] = []
    already: dict[int, Entry] = {}
    newest = {key: entry.ref for key, entry in latest.items()}
    for index, (record, _) in enumerate(planned):
        key = _subject(record)
        if newest.get(key) == record["decision_id"]:
            if key in latest and latest[key].ref == record["decision_id"]:
                already.setdefault(latest[key].seq, latest[key])
            continue
        newest[key] = record["decision_id"]
        keep.append(index)
    return keep, tuple(already[seq] for seq in sorted(already))


def _planned(ledger: Ledger, ordered: list[tuple[Scored, bool]]) -> list[tuple[dict[str, Any], list]]:
    """(record, blobs) for every decision to append, inputs the ledger holds left out."""
    planned = []
    recorded: set[str] = set()
    for result, is_input in ordered:
        shared = _shared_blobs(result)  # criteria, ruleset, evidence[, personal]: the entry's refs, in this order
        for record in result.records:
            if is_input and (record["decision_id"] in recorded or _holds(ledger, record["decision_id"])):
                continue
            recorded.add(record["decision_id"])
            planned.append((record, shared + [_blob("record", canonical_json(record))]))
    return planned


def _entry_body(record: dict[str, Any], supersedes: Optional[list[Entry]], by: Optional[str],
                reason: Optional[str]) -> str:
    body: dict[str, Any] = {"case": record["case"], "kind": record.get("kind", "case"), "subject": record["subject"],
                            "framework": record["framework"], "outcome": record["outcome"]}
    if supersedes:
        body["supersedes"] = [{"entry": e.seq, "decision_id": e.ref} for e in supersedes]
        body["by"] = by
        if reason:
            body["reason"] = reason
    return canonical_json(body).decode()


def _recorded_history(ledger: Ledger, planned: list[tuple[dict[str, Any], list]]
                      ) -> tuple[dict[tuple[str, str, str], Entry], dict[int, list[Entry]]]:
    """The latest decision recorded about each planned subject, and for each planned decision
    (by its place) the decisions a revision would supersede: when the latest decision about its
    subject rests on other evidence, every decision about it that nothing has superseded yet and
    whose evidence differs (the same evidence recorded again is no revision). The history is
    read newest first, and only as far as needed: when the latest decision of every subject
    rests on the same evidence (recording again), those first entries settle it."""
    evidence = {_subject(record): blobs[2][1] for record, blobs in planned}
    latest: dict[tuple[str, str, str], Entry] = {}
    candidates: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    superseded: set[int] = set()  # a superseding entry is newer than what it supersedes: seen first
    history = _history_newest_first(ledger, sorted({record["case"] for record, _ in planned}))
    try:
        for entry, body in history:
            superseded.update(link["entry"] for link in body.get("supersedes", []))
            key = (body["case"], body["kind"], body["subject"])
            if key not in evidence:
                continue
            latest.setdefault(key, entry)
            if _roles(latest[key])["evidence"] != evidence[key] and entry.seq not in superseded \
                    and _roles(entry)["evidence"] != evidence[key]:
                candidates[key].append(entry)
            if len(latest) == len(evidence) and not candidates:
                break  # every subject's latest decision rests on the same evidence: no revision
    finally:
        history.close()  # the query's cursor, before anything is written
    revisions = {index: sorted(candidates[_subject(record)], key=lambda e: e.seq)
                 for index, (record, _) in enumerate(planned)}
    return latest, {index: entries for index, entries in revisions.items() if entries}


def _subject(record: dict[str, Any]) -> tuple[str, str, str]:
    """What a revision is of: the case, the record kind and the subject."""
    return record["case"], record.get("kind", "case"), record["subject"]


def _history_newest_first(ledger: Ledger, cases: list[str]) -> Iterator[tuple[Entry, dict[str, Any]]]:
    """The decisions recorded about these cases, newest first, with their parsed bodies."""
    wanted = set(cases)
    found = ledger.decisions_about(_case_texts(cases), newest_first=True)
    yield from ((entry, body) for entry in found if (body := _decision_body(ledger, entry))["case"] in wanted)


def decisions_of_cases(ledger: Ledger, cases: list[str]) -> list[Entry]:
    """Every decision entry recorded for these case ids, in order: found by the case as the
    canonical body spells it, then checked on the parsed body."""
    wanted = set(cases)
    return [e for e in ledger.decisions_about(_case_texts(cases)) if _decision_body(ledger, e)["case"] in wanted]


def _case_texts(cases: list[str]) -> list[str]:
    """Each case id as the store reads it from a body: as canonical JSON spells it, up to its
    first quote. That is the whole id for any id the models accept; an id with a quote (only in
    a changed file) is found by what comes before it, and the parsed body decides."""
    return [canonical_json(case).decode()[1:-1].split('"')[0] for case in cases]


def _decision_body(ledger: Ledger, entry: Entry) -> dict[str, Any]:
    """A decision entry's body, with the keys every one has; a body that is not is a changed file."""
    try:
        body = json.loads(entry.body)
        if all(isinstance(body.get(key), str) for key in ("case", "kind", "subject")):
            return body
    except ValueError:
        pass
    raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E170", f"entry {entry.seq} cannot be read: the file "
                                      "was changed", "run arbiter verify to see what is wrong")])


def _require_author(ledger: Ledger, revisions: dict[int, list[Entry]], by: Optional[str]) -> None:
    """A revision says who recorded it: without --by nothing is recorded (E174, naming what it revises)."""
    if not revisions or (by or "").strip():
        return
    first = min(revisions.items())[1][0]
    body = json.loads(first.body)
    count = sum(len(entries) for entries in revisions.values())
    raise option_error("--by", f"decision {first.ref} (entry {first.seq}, case {body['case']}, {body['subject']}) is "
                               f"already recorded with other evidence: recording this evidence revises it "
                               f"({_count(count, 'recorded decision')} in all); a revision needs who records it",
                       "give --by NAME, and --reason TEXT to say why; nothing was recorded")


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
    problems = [Diagnostic(ledger.place, 0, 0, "E183", f"decision {record['decision_id']} takes {what} from decision "
                                                       f"{link['decision_id']} (case {link['case']}), which is neither "
                                                       "in the ledger nor recorded with it",
                           "record the input decision too: arbiter score CASE --record records a case's inputs first")
                for result, _ in ordered for record in result.records for what, link in links(record)
                if link["decision_id"] not in known and not _holds(ledger, link["decision_id"])]
    if problems:
        raise DiagnosticError(problems)


def links(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The decisions a record rests on, each with what it takes from it: an inspection's sub-area
    grades, a pack's selection, compliance and hearing (each link names a decision id, its case
    and the sha256 of its record)."""
    if record.get("kind") == "pack":
        return [(f"its {field}", record[field]) for field in PACK_INPUTS]
    return [(f"sub-area '{link['subarea']}'", link) for link in record.get("inputs", [])]


def _roles(entry: Entry) -> dict[str, Optional[str]]:
    """Which blob is which: a decision's refs are criteria, ruleset, evidence[, personal], record."""
    roles: dict[str, Optional[str]] = dict.fromkeys(DECISION_BLOBS[5])
    roles.update(zip(blob_roles(entry.type, len(entry.refs)) or (), entry.refs))
    return roles


def _shared_blobs(result: Scored) -> list[tuple[str, str, bytes]]:
    source = result.source
    compiled: Compiled = source.compiled
    blobs = [("criteria", compiled.criteria_sha256, compiled.criteria), ("ruleset", compiled.sha256, compiled.text_bytes)]
    if result.kind == "case":
        return blobs + [_blob("evidence", source.evidence)]
    if result.kind == packs.KIND:
        decisions = {field: result.records[0][field]["decision_id"] for field in PACK_INPUTS}
        personal = packs.pack_personal(source.pack)
        return blobs + [_blob("evidence", packs.canonical_pack(source.pack, decisions))] + (
            [_blob("personal", canonical_json(personal))] if personal else [])
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
    inputs: Optional[dict[str, dict[str, Any]]] = None  # a pack's: the records of its decisions, by field


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
    evidence = json.loads(parts["evidence"])
    inputs = {field: stored(ledger, decision_id).record
              for field, decision_id in evidence["decisions"].items()} if body["kind"] == "pack" else None
    return Stored(entry, body, json.loads(parts["record"]), json.loads(parts["criteria"]),
                  parts["ruleset"].decode(), evidence, json.loads(personal) if personal else None, inputs)


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
    elif "pack_rules" in c:
        rules = PackRulesFile.model_validate(c["pack_rules"])
        compiled = compile_pack(rules)
    else:
        rules = ComplianceFramework.model_validate(c["compliance"])
        compiled = compile_compliance(rules)
    return compiled, rules


def _records_from(s: Stored, compiled: Compiled, rules: Any) -> list[dict[str, Any]]:
    """The stored evidence decided again, through the same stages as `score`."""
    if s.body["kind"] == "case":
        return [decide_case(compiled, Case.model_validate(s.evidence))]
    if s.body["kind"] == "pack":
        return packs.pack_records(packs.pack_from_canonical(s.evidence)[0], compiled, s.inputs or {})
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
    for what, link in links(record):
        named = f"input {what.removeprefix('its ')} (case {link['case']}, decision {link['decision_id']})"
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
            "compliance_record": "compliance", "pack": "pack_rules"}[s.body["kind"]]
    loaded = catalog.load(catalog.path_of(s.record["framework"]), kind)
    if kind == "pack_rules":
        return packs.compile_pack_rules(catalog, loaded), loaded.model
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
             recorded_by(s.entry),
             f"decision {s.entry.ref}: {s.record['case']} ({s.body['kind']}), framework {s.record['framework']}",
             f"computed outcome: {s.record['outcome_label']}"]
    for override in ledger.overrides_of(s.entry.ref):
        o = json.loads(override.body)
        lines.append(f"final outcome (override, entry {override.seq}, {override.recorded_at}): {o['outcome']} "
                     f"by {o['by']}: {o['rationale']}")
        lines.append(f"  {recorded_by(override)}")
    lines.append(_personal_line(ledger, s, reveal))
    lines += revision_lines(ledger, s)
    lines.append("")
    if s.body["kind"] == "case":
        lines.append(render_text(s.record, "full"))
    elif s.body["kind"] == "pack":
        lines.append(packs.render([s.record], "full"))
    else:
        loaded = _loaded_for(s, compiled, rules)
        records = appointment_record.records_for(loaded, decide(loaded))
        lines.append(appointment_record.render(loaded, records, "full", False))
    return "\n".join(lines)


def recorded_by(entry: Entry) -> str:
    """Who recorded an entry, from where and when (chain fields, outside the decision record)."""
    if entry.actor is None and entry.host is None:
        return f"recorded at {entry.recorded_at} (by a release that did not record who or where)"
    return f"recorded by {entry.actor} on {entry.host} at {entry.recorded_at}"


def revision_lines(ledger: Ledger, s: Stored) -> list[str]:
    """What a revision changed, from the evidence the ledger holds for it and for each decision it
    supersedes, with who recorded it and why; and which later decision superseded this one."""
    history = decisions_of_cases(ledger, [s.record["case"]])
    lines = []
    for revision in filter(None, (revision_of(e) for e in history if e.ref == s.entry.ref)):
        lines.append(f"revision (entry {revision.entry.seq}, {revision.entry.recorded_at}) recorded by {revision.by}: "
                     f"{revision.reason or 'no reason given'}")
        for seq, decision_id in revision.supersedes:
            earlier = stored(ledger, str(seq))
            lines.append(f"supersedes decision {decision_id} (entry {seq}); its evidence -> this decision's:")
            changes = evidence_changes(earlier.evidence, s.evidence) or ["(no change to the evidence held)"]
            lines += [f"  {line}" for line in changes]
    later = [(e, r) for e in history if (r := revision_of(e)) and any(_ref == s.entry.ref for _, _ref in r.supersedes)]
    lines += [f"superseded by decision {e.ref} (entry {e.seq}, {e.recorded_at}) recorded by {r.by}: "
              f"{r.reason or 'no reason given'}" for e, r in later]
    return lines


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
    revises: tuple[str, ...] = ()  # the decisions this one supersedes, when it is a revision
    superseded_by: Optional[str] = None  # the revision that superseded it, when one did
    actor: Optional[str] = None  # who recorded it (None: recorded by a release that did not say)
    host: Optional[str] = None  # the machine it was recorded from

    @property
    def final(self) -> str:
        return self.override or self.computed


def log(ledger: Ledger, framework: Optional[str] = None, subject: Optional[str] = None,
        outcome: Optional[str] = None, since: Optional[datetime.date] = None,
        until: Optional[datetime.date] = None, actor: Optional[str] = None) -> list[LogRow]:
    """Recorded decisions with their final outcomes, filtered. A framework, subject, actor or
    outcome that no recorded decision has is a mistake (E174, with a did-you-mean), never
    an empty answer; an outcome is matched by id or label, ignoring case."""
    rows = _log_rows(ledger)
    _require_known("--framework", "framework", framework, {r.framework for r in rows})
    _require_known("--subject", "subject", subject, {r.subject for r in rows})
    _require_known("--actor", "decision recorded by", actor, {r.actor for r in rows if r.actor is not None})
    rows = [r for r in rows if actor is None or r.actor == actor]
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
            if entry.type == "decision":
                _mark_revision(rows, entry)
            elif entry.type == "override" and entry.ref in rows:
                rows[entry.ref] = replace(rows[entry.ref], override=json.loads(entry.body)["outcome"])
        except (KeyError, TypeError, ValueError) as error:  # only in a changed file: its hash no longer matches
            raise DiagnosticError([Diagnostic(ledger.place, 0, 0, "E170",
                                              f"entry {entry.seq} cannot be read ({error}): the file was changed",
                                              "run arbiter verify to see what is wrong")]) from None
    return list(rows.values())


def _mark_revision(rows: dict[str, LogRow], entry: Entry) -> None:
    """A revision's row names what it supersedes, and each superseded row names the revision."""
    revision = revision_of(entry)
    if revision is None:
        return
    ids = tuple(dict.fromkeys(decision_id for _, decision_id in revision.supersedes))
    rows[entry.ref] = replace(rows[entry.ref], revises=ids)
    for decision_id in ids:
        if decision_id in rows:
            rows[decision_id] = replace(rows[decision_id], superseded_by=entry.ref)


def _log_row(entry: Entry) -> LogRow:
    body = json.loads(entry.body)
    return LogRow(entry.seq, entry.recorded_at, recorded_date(entry.recorded_at), entry.ref, body["case"],
                  body["subject"], body["framework"], body["kind"], _roles(entry)["ruleset"] or "", body["outcome"], None,
                  actor=entry.actor, host=entry.host)


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
