"""Appointment packs: one appointment's selection, compliance and hearing read together and
decided by durable-rules on the pack rules, agreeing with the oracle; a pack's mistakes located
at their lines; its record naming the three decisions; all four recorded and replayed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given

from engine.appointments import pack as packs
from engine.cli import main
from engine.language.canonical import canonical_json, sha256_bytes
from engine.language.decision_model import validated
from engine.language.diagnostics import DiagnosticError
from engine.ledger import audit
from engine.ledger.ledger import Ledger
from engine.oracle import pack_reference
from engine.runtime import appointment_margin
from engine.runtime import pack as decide_pack
from engine.workspace.runner import score_data, score_paths, validate_file

from .conftest import ROOT
from .strategies import pack_inputs

KENT = ROOT / "cases" / "appointments" / "kent-cc-2022"
CONSTRUCTED = ROOT / "cases" / "appointments" / "constructed"
PACKS = [KENT / "pack.yaml", *sorted(CONSTRUCTED.glob("pack-*.yaml"))]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def pack_rules(catalog):
    return packs.compile_pack_rules(catalog, catalog.load(catalog.path_of("packs/appointment"), "pack_rules"))


@given(inputs=pack_inputs())
def test_durable_rules_and_the_oracle_agree_on_every_pack(catalog, inputs):
    """Law: for whatever the three decisions concluded, the pack rules (durable-rules) and the
    oracle give every check the same result and the pack the same outcome."""
    evaluation = decide_pack.evaluate(pack_rules(catalog), decide_pack.PackInputs(**inputs))
    answer = pack_reference.checks(inputs["selection_outcome"], inputs["preferred"], inputs["heard"],
                                   inputs["compliance_outcome"] == "compliant", inputs["hearing_outcome"] == "veto")
    assert (evaluation.passed, evaluation.outcome) == (answer.passed, answer.outcome)


def margin_figures(margin) -> tuple:
    """A pack margin from the runtime in the oracle's terms."""
    def reach(r):
        example = tuple((c.id if c.item == "check" else c.item, c.before, c.after) for c in r.example)
        return pack_reference.ReachAnswer(r.status, r.target, r.fewest, example, r.example_outcome)
    single = tuple(((s.change.id if s.change.item == "check" else s.change.item, s.change.before, s.change.after),
                    s.outcome) for s in margin.single)
    return pack_reference.PackMarginAnswer(margin.outcome, single, reach(margin.up), reach(margin.down))


@given(inputs=pack_inputs())
def test_durable_rules_and_the_oracle_agree_on_every_pack_margin(catalog, inputs):
    """Law: for whatever the three decisions concluded, the margin the rules decide (every
    subset of the checks and the hearing's outcome flipped) is the one the oracle counts from
    the checks' meaning: single changes, fewest each way, example and its outcome."""
    compiled, facts = pack_rules(catalog), decide_pack.PackInputs(**inputs)
    margin = appointment_margin.pack_margin(compiled, decide_pack.evaluate(compiled, facts), facts)
    answer = pack_reference.checks(inputs["selection_outcome"], inputs["preferred"], inputs["heard"],
                                   inputs["compliance_outcome"] == "compliant", inputs["hearing_outcome"] == "veto")
    assert margin_figures(margin) == pack_reference.margin(answer, inputs["hearing_outcome"] == "veto")


def test_the_kent_pack_margin_is_one_change_from_not_holding(catalog):
    """Kent 2022 holds: every check passes and the Panel did not veto, so any one check failing
    stops it holding and a veto alone makes it vetoed; nothing is above holds."""
    results, problems = score_paths([KENT / "pack.yaml"], catalog)
    assert not problems
    margin = validated(results[-1].records[0])["margin"]
    assert margin["outcome"] == "holds"
    assert [(c["id"], c["from"], c["to"], c["outcome"]) for c in margin["single_changes"]] == [
        ("selection_decided", "holds", "fails", "does_not_hold"), ("hearing_candidate", "holds", "fails", "does_not_hold"),
        ("compliance_holds", "holds", "fails", "does_not_hold"), ("hearing_outcome", "no_veto", "veto", "vetoed")]
    assert margin["up"]["status"] == "no_level"
    down = margin["down"]
    assert (down["status"], down["target"], down["fewest_changes"], down["example_outcome"]) == (
        "found", "vetoed", 1, "does_not_hold")
    assert down["example"] == [{"kind": "check", "id": "selection_decided", "from": "holds", "to": "fails"}]


def test_the_kent_pack_holds_and_names_its_three_decisions(catalog):
    results, problems = score_paths([KENT / "pack.yaml"], catalog)
    assert not problems
    *inputs, pack = results
    assert [r.kind for r in inputs] == ["appointment", "compliance_record", "hearing"]
    record = validated(pack.records[0])
    assert (record["outcome"], record["failed"], record["preferred"], record["heard"]) == ("holds", [], "cand-a",
                                                                                          "cand-a")
    for field, result in zip(("selection", "compliance", "hearing"), inputs):
        final = result.records[-1]
        assert record[field]["decision_id"] == final["decision_id"]
        assert record[field]["record_sha256"] == sha256_bytes(canonical_json(final))
    assert [c["check"] for c in record["checks"]] == ["selection_decided", "hearing_candidate", "compliance_holds"]
    assert record["trace"][-1]["rule"] == "pack:holds"


@pytest.mark.parametrize("path", PACKS, ids=lambda p: p.stem)
def test_each_pack_meets_its_expectation_and_the_oracle(path, catalog):
    (result,) = [r for r in score_paths([path], catalog)[0] if r.kind == packs.KIND]
    assert result.met, (result.expected, result.actual)
    loaded = result.source
    answer = pack_reference.pack(*(model for field in ("selection", "compliance", "hearing")
                                   for model in (loaded.inputs[field][1].rules.model, loaded.inputs[field][1].evidence)))
    record = validated(result.records[0])
    assert ({c["check"]: c["holds"] for c in record["checks"]}, record["outcome"]) == (answer.passed, answer.outcome)


def test_a_pack_with_a_selection_still_incomplete_does_not_hold(catalog):
    (*_, result) = score_paths([CONSTRUCTED / "pack-incomplete.yaml"], catalog)[0]
    record = result.records[0]
    assert record["selection"]["outcome"] == "incomplete"
    assert record["outcome"] == "does_not_hold" and "selection_decided" in record["failed"]
    assert any(line.startswith("selection_decided: the selection's outcome is Incomplete") for line in record["why_not"])


def test_score_prints_the_three_decisions_then_the_pack():
    lines = run("score", KENT / "pack.yaml", "--format", "json").output.splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == ["candidate", "candidate", "appointment", "compliance_record", "hearing", "pack"]
    text = run("score", KENT / "pack.yaml").output
    assert text.index("(appointments/kent-cc-2022/hearing)") < text.index("(appointments/kent-cc-2022/pack)")
    assert "Outcome: The pack holds: cand-a" in text and "Expected: holds (met)" in text


def test_a_folder_holding_a_pack_and_its_cases_decides_each_once(catalog):
    results, problems = score_paths([KENT], catalog)
    assert not problems
    ids = [record["decision_id"] for result in results for record in result.records]
    assert len(ids) == len(set(ids)) == 6


def test_recording_a_pack_records_all_four_and_each_replays(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    result = run("score", KENT / "pack.yaml", "--record", "--ledger", ledger)
    assert result.exit_code == 0, result.output
    assert "recorded 6 decision(s)" in result.output
    with Ledger.open_for_reading(ledger) as opened:
        entries = [e for e in opened.entries() if e.type == "decision"]
        assert json.loads(entries[-1].body)["kind"] == "pack"
        replayed = audit.replay(opened, entries[-1].ref)
        assert [r.decision_id for r in replayed.inputs] == [e.ref for e in entries[2:5]]
        assert replayed.identical, replayed.differences
        assert opened.verify().ok
    shown = run("show", entries[-1].ref, "--ledger", ledger).output
    assert "Outcome: The pack holds: cand-a" in shown and "  - hearing_candidate: holds" in shown


def test_a_pack_replays_from_the_ledger_alone(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "criteria", project / "criteria")
    shutil.copytree(KENT, project / "cases" / "appointments" / "kent-cc-2022")
    ledger = tmp_path / "ledger.sqlite"
    assert run("score", project / "cases" / "appointments" / "kent-cc-2022" / "pack.yaml", "--record", "--ledger",
               ledger).exit_code == 0
    shutil.rmtree(project)
    with Ledger.open_for_reading(ledger) as opened:
        pack = [e for e in opened.entries() if e.type == "decision"][-1]
        assert audit._replay_own(audit.stored(opened, pack.ref), None).identical


# --- mistakes ------------------------------------------------------------------------------

def pack_data(**changes) -> dict:
    data = yaml.safe_load((KENT / "pack.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def problems_of(tmp_path: Path, **changes) -> list[str]:
    """The diagnostics of the Kent pack with some lines changed, in a copy of the project."""
    from engine.language.catalog import Catalog

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "cases" / "appointments", tmp_path / "cases" / "appointments")
    path = tmp_path / "cases" / "appointments" / "kent-cc-2022" / "pack.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    for key, value in changes.items():
        lines = [f"{key}: {value}" if line.startswith(f"{key}: ") else line for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DiagnosticError) as raised:
        validate_file(path, Catalog(tmp_path))
    return [d.render().replace(str(path), "pack.yaml") for d in raised.value.diagnostics]


def test_every_mistake_in_a_pack_is_located_at_once(tmp_path):
    rendered = problems_of(tmp_path, pack_rules="packs/apointment", selection="appointments/kent-cc-2022/selecton",
                           compliance="appointments/kent-cc-2022/hearing")
    assert rendered == [
        "pack.yaml:5:13: error E120: unknown pack rules 'packs/apointment'\n  hint: did you mean 'packs/appointment'?",
        "pack.yaml:12:12: error E120: no case 'appointments/kent-cc-2022/selecton' under cases/\n"
        "  hint: did you mean 'appointments/kent-cc-2022/selection'?",
        "pack.yaml:13:13: error E114: 'appointments/kent-cc-2022/hearing' is a hearing file, not a compliance record "
        "file\n  hint: compliance: names a compliance record case, e.g. "
        "appointments/constructed/compliance-late-advert"]


def test_a_misshapen_pack_still_has_its_references_checked(tmp_path):
    rendered = problems_of(tmp_path, subject="[a, list]", hearing="appointments/kent-cc-2022/hearin")
    assert [line.split(" error ")[1][:4] for line in rendered] == ["E112", "E120"]


def test_a_pack_in_memory_is_scored_like_a_file(catalog):
    result = score_data(pack_data(), catalog)
    assert result.records[0]["outcome"] == "holds" and len(result.inputs) == 3
    with pytest.raises(DiagnosticError) as raised:
        score_data(pack_data(hearing="nowhere"), catalog)
    assert [d.path for d in raised.value.diagnostics] == ["evidence.hearing"]


def test_a_pack_reads_and_compiles_everything_before_deciding_and_decides_itself_last():
    """As `score` takes several files: every file is read and compiled before anything is
    decided; then each of the three records is decided and reported, and the pack last, on
    their records (tests/test_flow.py traces a single file)."""
    from .test_flow import stages_entered

    entered = stages_entered("score", str(KENT / "pack.yaml"), "--root", str(ROOT))
    stages = [stage for stage, _ in entered]
    first_decide = stages.index("decide")
    assert set(stages[:first_decide]) == {"read", "compile"}
    assert set(stages[first_decide:]) == {"decide", "report"}
    decisions = [function.rpartition(".")[0] for stage, function in entered if stage == "decide"]
    kinds = [module for module in decisions if module in ("engine.runtime.selection", "engine.runtime.compliance",
                                                          "engine.runtime.hearing", "engine.runtime.pack")]
    assert kinds == ["engine.runtime.selection", "engine.runtime.compliance", "engine.runtime.hearing",
                     "engine.runtime.pack"]
    assert decisions[-1] == "engine.runtime.pack"
