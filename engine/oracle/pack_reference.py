"""The oracle for an appointment pack: the pack's checks and outcome worked out in plain Python
from the pack rules' meaning (criteria/README.md, "Appointment packs"), never from the
compiled plan. The three decisions it rests on are the oracle's own (`appointment_reference`),
worked out from the evidence files' models. The pack's margin (`margin`) is counted from what the
checks mean, where the runtime searches every combination of flips with the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..language.appointment_models import Appointment, ComplianceFramework, ComplianceRecord, Hearing, PanelRulesFile, \
    SelectionProcess
from . import appointment_reference


@dataclass(frozen=True)
class PackAnswer:
    passed: dict[str, bool]  # by check
    outcome: str  # holds | vetoed | does_not_hold


def checks(selection_outcome: str, preferred: Optional[str], heard: str, compliant: bool, vetoed: bool) -> PackAnswer:
    """A pack holds when the selection preferred a candidate, that candidate is the one the
    Panel heard, and the process complied; it holds but is vetoed when the Panel vetoed."""
    passed = {"selection_decided": selection_outcome == "preferred",
              "hearing_candidate": preferred is not None and heard == preferred,
              "compliance_holds": compliant}
    if not all(passed.values()):
        return PackAnswer(passed, "does_not_hold")
    return PackAnswer(passed, "vetoed" if vetoed else "holds")


def pack(process: SelectionProcess, appointment: Appointment, framework: ComplianceFramework,
         record: ComplianceRecord, panel_rules: PanelRulesFile, hearing: Hearing) -> PackAnswer:
    """The pack decided from the three evidence records and the rules they name."""
    chosen = appointment_reference.selection(process, appointment)
    met = appointment_reference.compliance(framework, record)
    heard = appointment_reference.hearing(panel_rules, hearing)
    return checks(chosen.outcome, chosen.preferred, hearing.candidate, all(met.values()), heard.outcome == "veto")


# --- the margin ------------------------------------------------------------------------------

LEVELS = ("holds", "vetoed", "does_not_hold")  # highest first
Flip = tuple[str, str, str]  # (item, before, after): a check ("holds" / "fails") or the hearing's outcome


@dataclass(frozen=True)
class ReachAnswer:
    status: str  # found | unreachable | no_level
    target: Optional[str] = None
    fewest: Optional[int] = None
    example: tuple[Flip, ...] = ()
    example_outcome: Optional[str] = None


@dataclass(frozen=True)
class PackMarginAnswer:
    outcome: str
    single: tuple[tuple[Flip, str], ...]  # each flip alone that changes the outcome, and the outcome it gives
    up: ReachAnswer
    down: ReachAnswer


def margin(answer: PackAnswer, vetoed: bool) -> PackMarginAnswer:
    """The pack's margin counted from what the checks mean, not searched: a pack holds when every
    check passes and the Panel did not veto, so reaching holds means passing every failing check
    and lifting a veto; reaching vetoed, passing every failing check and vetoing; leaving the
    passing levels, failing any one check. Up and down are to the next level that way or beyond
    it, the example the first such flips with the checks in order, then the hearing's outcome."""
    failing = [c for c, ok in answer.passed.items() if not ok]
    hearing = ("hearing_outcome", "veto" if vetoed else "no_veto", "no_veto" if vetoed else "veto")
    pass_failing = tuple((c, "fails", "holds") for c in failing)
    single = _single(answer, failing, hearing, vetoed)
    up, down = ReachAnswer("no_level"), ReachAnswer("no_level")
    if answer.outcome == "vetoed":
        up = ReachAnswer("found", "holds", 1, (hearing,), "holds")
    if answer.outcome == "does_not_hold":  # passing the failing checks gives vetoed, or holds without a veto
        up = ReachAnswer("found", "vetoed", len(failing), pass_failing, "vetoed" if vetoed else "holds")
    if answer.outcome != "does_not_hold":  # every check passes: failing the first is enough
        first = next(iter(answer.passed))
        down = ReachAnswer("found", LEVELS[LEVELS.index(answer.outcome) + 1], 1, ((first, "holds", "fails"),),
                           "does_not_hold")
    return PackMarginAnswer(answer.outcome, single, up, down)


def _single(answer: PackAnswer, failing: list[str], hearing: Flip, vetoed: bool) -> tuple[tuple[Flip, str], ...]:
    if len(failing) > 1:  # one flip leaves a check failing
        return ()
    if failing:  # passing the one failing check
        return (((failing[0], "fails", "holds"), "vetoed" if vetoed else "holds"),)
    checks_failed = tuple(((c, "holds", "fails"), "does_not_hold") for c in answer.passed)
    return checks_failed + ((hearing, "holds" if vetoed else "vetoed"),)
