"""Models of the appointment pack kinds: the pack rules (what a pack must show, in words with
their sources) and the pack itself, which names the selection, compliance and hearing
evidence of one appointment by case id.

Like `models`, these check shape and types only; the cases a pack names are found and checked
in `appointments/pack.py`. Field meanings are documented in criteria/README.md.
"""

from __future__ import annotations

from typing import Literal, Optional

from .models import Citation, Id, Model, PathId, Text

# The checks a pack is decided on, in the order the rules decide them: each is a field of
# `PackChecks`, and the compiler writes one pair of rules for each.
CHECKS = ("selection_decided", "hearing_candidate", "compliance_holds")
# What the pack's decision can be: every check holds and the Panel did not veto the candidate;
# every check holds but the Panel vetoed; a check fails.
PACK_OUTCOMES = ("holds", "vetoed", "does_not_hold")
# The evidence each field of a pack names, by the kind its file declares.
PACK_INPUTS = {"selection": "appointment", "compliance": "compliance_record", "hearing": "hearing"}


class PackCheck(Model):
    text: Text
    source: Optional[Citation] = None


class PackChecks(Model):
    selection_decided: PackCheck  # the selection gave a preferred candidate (not a tie, none, or incomplete)
    hearing_candidate: PackCheck  # the candidate the Panel heard is that preferred candidate
    compliance_holds: PackCheck  # the process's compliance record is compliant


class PackRulesFile(Model):
    arbiter: Literal["pack_rules"]
    id: PathId
    title: Text
    source: Optional[Citation] = None
    checks: PackChecks
    on_holds: Text
    on_vetoed: Text
    on_does_not_hold: Text


class PackExpect(Model):
    outcome: Literal["holds", "vetoed", "does_not_hold"]
    failed: tuple[Id, ...] = ()  # the checks that fail, in any order
    source: Optional[Citation] = None


class AppointmentPack(Model):
    arbiter: Literal["appointment_pack"]
    id: PathId
    pack_rules: PathId
    subject: Text
    note: Optional[Text] = None
    selection: PathId  # case ids: cases/<id>.yaml, of the kind PACK_INPUTS gives
    compliance: PathId
    hearing: PathId
    expect: Optional[PackExpect] = None


PACK_MODELS = {
    "pack_rules": PackRulesFile,
    "appointment_pack": AppointmentPack,
}
