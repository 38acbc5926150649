"""The decision record's model: what `arbiter score` writes, and what `summary` and `compare` read back.

One model per record kind: an inspection decision (no `kind` key), and the appointment kinds
`candidate`, `appointment` (a selection process), `hearing`, `compliance_record` and `pack`
(one appointment's three decisions checked together, appointments/pack.py). The
writers (inspections/record.py, appointments/appointment_record.py) are held to it by the
tests, which pass every record of every shipped case and of every generated world through
`validated` (not at run time: checking a record costs more than deciding it); the reader
(workspace/compare.py) checks every record it is given against the same model before any id in it is
looked up.

Scalars are strict, as in models.py: a JSON `5` is not text and `"true"` is not a boolean.
Ids are the patterns of the criteria files: `criteria_set`, `framework` and `case` are
PathIds (lowercase segments joined by '/': no '..', no leading '/'), so a record can only
name a file inside the project; whether that file exists is the catalog's question
(compare.reference_problems). Explanations (why_not, trace, tallies, ...) are typed too, as
the writer makes them, but nothing reads them back but people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, ConfigDict, Field, Strict, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError

from .diagnostics import CODES, suggest
from .models import Bool, Citation, Id, Int, Model, PathId, Text

RECORD_FORMAT = "arbiter-decision/1"

DecisionId = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9a-f]{16}$")]
Sha256 = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9a-f]{64}$")]
AnyText = Annotated[str, Strict()]  # text that may be empty


def _int_or_text(value: Any) -> Any:
    # Only whole numbers and text reach durable-rules (durable.check_value), so a fact holds nothing else.
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("E112", "a fact holds a whole number or text, not {shown}", {"shown": shown(value)})


FactValue = Annotated[Any, AfterValidator(_int_or_text)]


class RecordModel(Model):
    # Fields are read by their JSON names only: `from`, never the Python name `from_`.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False, defer_build=True)


class Firing(RecordModel):
    rule: Text
    matched: dict[str, dict[str, FactValue]]


class _Record(RecordModel):
    """The keys every decision record has, whatever its kind."""

    format: Literal["arbiter-decision/1"]
    decision_id: DecisionId
    case: PathId
    subject: Text
    constructed: Bool
    framework: PathId
    outcome: Id
    outcome_label: Text
    uncapped_outcome: Id
    trace: list[Firing]
    criteria_sha256: Sha256
    ruleset_sha256: Sha256
    evidence_sha256: Sha256
    engine_version: Text
    durable_rules_version: Text


# --- inspection decisions (inspections/record.py) ----------------------------------------

class Bound(RecordModel):
    id: Id
    stage: Id
    level: Id
    description: Text
    choice: Optional[Text]
    source: Optional[Citation]


class OverrideRecord(RecordModel):
    outcome: Id
    rationale: Text
    by: Text
    source: Optional[Citation]
    label: Text


class SubgradeRecord(RecordModel):
    id: Id
    grade: Optional[Id]
    provenance: Literal["inspected", "carried_over", "ungraded"]
    counted: Bool
    carried_from: Optional[Text] = None  # written only for a carried-over grade
    year: Optional[Int] = None
    decision: Optional[PathId] = None  # written only for a grade taken from another decision: its case
    decision_id: Optional[DecisionId] = None  # ... and that decision's id
    source: Optional[Citation] = None  # written only when the case cites one


class InputRecord(RecordModel):
    """A decision whose outcome a sub-area took as its grade (inspections/graph.py)."""

    subarea: Id
    case: PathId
    decision_id: DecisionId
    record_sha256: Sha256
    outcome: Id


class ConcernRecord(RecordModel):
    text: Text
    cites: list[Citation]


class ImprovementRecord(RecordModel):
    text: Text
    qualifier: Optional[Id] = None  # written only when the case gives one
    cites: list[Citation]


class Observation(RecordModel):
    """One condition observed against what it requires (explain.observed)."""

    condition: Text
    quantity: Text
    observed: Int
    of: Int
    required: Text
    holds: Bool
    text: Text
    choice: Optional[Text]


class DecidedBy(RecordModel):
    rule: Text
    conditions: list[Observation]


class AlternativeNotReached(RecordModel):
    rule: Text  # level:<level>:<rule id>
    failed: list[Text]  # the ids of its conditions not reached (their observations are in `failed`)


class LevelNotReached(RecordModel):
    level: Id
    label: Text
    failed: list[Observation]
    reason: Text
    alternatives: list[AlternativeNotReached] = []  # a level reached by several rules: each one's shortfall


class QuantifierUse(RecordModel):
    phrase: Text
    bound: Text
    fraction: Text
    choice: Optional[Text]
    source: Optional[Citation]


ChangedValue = Union[Int, Literal["met", "not_met", "not_assessed", "present", "absent"]]  # Int: a score


class MarginChange(RecordModel):
    """One finding or factor changed: a finding to another value (a scored one to another score),
    a factor present or absent; or a switch in an exclusive group, counted as one change: this
    finding met, and the member it replaces, met before, not met."""

    kind: Literal["finding", "factor"]
    id: Id
    from_: ChangedValue = Field(alias="from")
    to: ChangedValue
    replaces: Optional[Id] = None  # absent but for a switch, and from records written before switches


class SingleChange(MarginChange):
    outcome: Id  # the rules' outcome with this change alone
    outcome_label: Text


class MarginReach(RecordModel):
    """The fewest changes that move the rules' outcome to the target level or beyond it."""

    status: Literal["found", "unreachable", "beyond_limit", "no_level", "no_grade"]
    target: Optional[Id]  # the next level up or down; null for no_level and no_grade
    target_label: Optional[Text]
    fewest_changes: Optional[Int]  # found only
    more_than: Optional[Int]  # beyond_limit only: every set of at most this many changes falls short
    example: list[MarginChange]  # found only: one set of the fewest changes
    example_outcome: Optional[Id]
    example_label: Optional[Text]


class InspectionMargin(RecordModel):
    outcome: Id  # the rules' outcome it is measured from: computed_outcome
    outcome_label: Text
    single_changes: list[SingleChange]
    up: MarginReach
    down: MarginReach
    search_limit: Int  # sets of changes tried at most per direction


class LimiterLine(RecordModel):
    """A limiter whose conditions hold, decisive or not (explain.limiter_lines)."""

    id: Id
    cap: Id
    decisive: Bool
    note: Text
    absolute: Bool = False  # no recorded judgement lifts the grade above its cap
    description: Text
    choice: Optional[Text]
    source: Optional[Citation]


class HitPolicyRecord(RecordModel):
    policy: Literal["unique", "first", "worst", "best"]
    meaning: Text
    choice: Optional[Text]
    source: Optional[Citation]


class InspectionDecision(_Record):
    framework_version: Text
    criteria_set: PathId
    area: Text
    uncapped_label: Text
    limiter: Optional[Bound]
    floor: Optional[Bound]
    computed_outcome: Id
    computed_label: Text
    override: Optional[OverrideRecord]
    overruled_by: Optional[Bound] = None  # an absolute limiter that lowered the recorded judgement to its cap
    undecided_reason: Optional[Text]  # filled only where the outcome needs professional judgement
    subgrades: list[SubgradeRecord]
    inputs: list[InputRecord] = []  # written only when a sub-area takes its grade from another decision
    causes_of_concern: list[ConcernRecord]
    areas_for_improvement: list[ImprovementRecord]
    hit_policy: Optional[HitPolicyRecord] = None  # absent from records written before hit policies were declared
    decided_by: DecidedBy
    why_not: list[LevelNotReached]
    margin: Optional[InspectionMargin] = None  # absent from records written before margins were recorded
    limiters: list[LimiterLine] = []  # every limiter that holds; absent from records written before
    tallies: list[Observation]
    quantifiers: dict[str, QuantifierUse]


# --- appointment decisions (appointments/appointment_record.py) ---------------------------

class _AppointmentRecord(_Record):
    limiter: None  # kept so that one reader handles every kind; no appointment decision is capped
    why_not: list[Text]


class GateLine(RecordModel):
    gate: Id
    description: Text
    passed: Bool
    failing: list[Text]
    source: Optional[Citation]


# A candidate's levels in its margin, highest first (runtime/appointment_margin.py).
def candidate_result(passed: bool, pending: bool) -> str:
    """A candidate's result as a selection's rules concluded it: pass, pending (a pair table's
    candidate waiting for a tiebreaker or discussion) or fail."""
    if passed:
        return "pass"
    return "pending" if pending else "fail"


STANDING_LABELS = {
    "preferred": "Preferred candidate",
    "tied": "Tied at the top",
    "passed": "Passed every gate, below the top",
    "failed": "Failed a gate",
    "pending": "Pending a tiebreaker or discussion",  # a pair table's
}
# A pair-table candidate fails by a cell's category, not a gate.
PAIR_STANDING_LABELS = {**STANDING_LABELS, "passed": "Passed every cell, below the top", "failed": "Failed a cell"}

# What a margin's change moves other than a number: a requirement's result, a pack check's
# conclusion, the hearing's outcome.
ChangedValue = Literal["met", "not_met", "holds", "fails", "veto", "no_veto"]


class AppointmentChange(RecordModel):
    """One change the margin counts: a rating moved, the votes for the veto, a requirement's result;
    for a pack, a check's conclusion or the hearing's outcome."""

    kind: Literal["rating", "votes", "requirement", "check", "hearing_outcome"]
    # candidate/exercise/area (a pair table's: candidate/exercise/area/member), votes_for_veto, the
    # requirement's id, the check's id, or hearing_outcome
    id: Text
    from_: Union[Int, ChangedValue] = Field(alias="from")
    to: Union[Int, ChangedValue]


class AppointmentSingleChange(AppointmentChange):
    outcome: Id
    outcome_label: Text


class AppointmentReach(RecordModel):
    """The fewest changes that move the outcome to the target level or beyond it."""

    status: Literal["found", "unreachable", "no_level"]
    target: Optional[Id]
    target_label: Optional[Text]
    fewest_changes: Optional[Int]  # found only: for ratings, the points moved in all
    more_than: None  # the appointment margins are exact: no search limit
    example: list[AppointmentChange]
    example_outcome: Optional[Id]
    example_label: Optional[Text]


class AppointmentMargin(RecordModel):
    unit: Text  # what one change is
    outcome: Id  # the level it is measured from: for a candidate, its standing
    outcome_label: Text
    single_changes: list[AppointmentSingleChange]
    up: AppointmentReach
    down: AppointmentReach


class CandidateMargin(AppointmentMargin):
    candidate: Id


class SelectionMargin(RecordModel):
    """A selection's margin: the one-point changes that change the outcome, and each candidate's margin."""

    unit: Text
    outcome: Id
    outcome_label: Text
    single_changes: list[AppointmentSingleChange]
    candidates: list[CandidateMargin]


class PairRating(RecordModel):
    member: Id
    rating: Int


class PairResolution(RecordModel):
    """How a cell whose pair needed a tiebreaker or discussion was settled, as the rule that applied it matched."""

    category: Id
    category_label: Text
    result: Literal["pass", "fail"]
    by: Id
    rationale: Text
    tiebreak_rating: Optional[Int]


class PairCellLine(RecordModel):
    """A pair-table cell: the two assessors' ratings, the table row that mapped them, its category,
    and the recorded resolution that settled it, if one did (the table's category is kept beside it)."""

    exercise: Id
    area: Id
    ratings: list[PairRating]  # the lower first, as the category rule matched them
    row: Int  # the table row, counted from 1 as the file writes them
    row_ratings: list[Int]
    category: Id
    category_label: Text
    result: Literal["pass", "fail", "tiebreaker", "discuss"]
    resolution: Optional[PairResolution] = None  # absent from records written before resolutions were recorded


CANDIDATE_OUTCOMES = Literal["gates_passed", "gate_failed", "cells_passed", "cells_pending", "cell_failed"]


class CandidateDecision(_AppointmentRecord):
    kind: Literal["candidate"]
    subject: Id  # the candidate's pseudonym
    outcome: CANDIDATE_OUTCOMES
    uncapped_outcome: CANDIDATE_OUTCOMES
    total: Int  # a pair table's: the cells in the ranking categories
    rank: Optional[Int]
    preferred: Bool
    gates: list[GateLine]  # a pair table's: none
    margin: Optional[AppointmentMargin] = None  # absent from records written before margins were recorded
    cells: Optional[list[PairCellLine]] = None  # a pair table's
    resolved: Optional[list[Text]] = None  # a pair table's: each settled cell, the table's category and the resolution
    scoring_choice: Optional[Text] = None  # a pair table's reading of its categories


class CandidateLine(RecordModel):
    candidate: Id
    gates: Literal["pass", "fail", "pending"]  # a pair table's result, by its cells' categories
    total: Int
    rank: Optional[Int]
    # By exercise held: the agreed ratings summed (a pair table's: the cells in the ranking
    # categories counted); absent from records written before subtotals were recorded.
    subtotals: Optional[dict[Id, Int]] = None


class Flag(RecordModel):
    """A moderation or panel flag. A flag about a cell names it (candidate, exercise, area; all
    None otherwise), and every flag names the scorers and ratings involved and the members it
    is about. The names are panel ids, never people's names. Records written before flags
    named people hold only the code and message."""

    code: Text
    message: Text
    candidate: Optional[Id] = None
    exercise: Optional[Id] = None
    area: Optional[Id] = None
    ratings: dict[Id, Int] = {}
    members: list[Id] = []


class PanelSeat(RecordModel):
    """A panel member by id and role (no name: records never carry names). Members come in the
    process's order of roles, then by id (appointment_models.panel_order), not the file's: the
    ledger stores evidence in a canonical order, and a replay must rebuild the same record."""

    id: Id
    role: Id
    scoring: Bool


class CellLine(RecordModel):
    """One cell of the grid: candidate x scored exercise x assessed area. Summed ratings: the
    agreed rating and each scorer's own (`individual`), the gates its `cell:below` firings
    failed, `category` None. A pair table has no agreed rating (`agreed` None, `gates_failed`
    empty): `individual` holds the two assessors' ratings and `category` the cell's category as
    its rule fired, or as a recorded resolution settled it. A cell of a stage not yet held
    (`held` false) holds nothing yet: no ratings, rationale, recorder or category."""

    candidate: Id
    exercise: Id
    area: Id
    stage: Id
    held: Bool
    agreed: Optional[Int]
    individual: dict[Id, Int]
    rationale: Optional[AnyText]
    recorded_by: Optional[Id]
    reconstructed: Bool
    flags: list[Text]
    gates_failed: list[Id]
    category: Optional[Id] = None


class StagesLine(RecordModel):
    """The stages in scoring order, those held (every cell filled), and the cells still to fill."""

    order: list[Id]
    held: list[Id]
    still_to_fill: Int


class ShortlistingRecord(RecordModel):
    rule: Text
    elements: list[Id]
    scores: dict[Id, dict[Id, Int]]


class ReconstructedCell(RecordModel):
    exercise: Id
    area: Id
    note: Text


class Sensitivity(RecordModel):
    candidate: Id
    exercise: Id
    area: Id
    member: Optional[Id] = None  # a pair table's: whose individual rating moved
    from_: Int = Field(alias="from")
    to: Int
    changes: list[Text]


SELECTION_OUTCOMES = Literal["preferred", "tie", "no_appointable_candidate", "resolution_required", "incomplete"]
SELECTION_LABELS = {
    "preferred": "Preferred candidate",
    "tie": "Tie: referred to the panel",
    "no_appointable_candidate": "No appointable candidate",
    "resolution_required": "Resolution required: a tiebreaker or discussion comes first",
    "incomplete": "Incomplete",  # a stage still to fill; the label says how many cells
}


class SelectionDecision(_AppointmentRecord):
    kind: Literal["appointment"]
    outcome: SELECTION_OUTCOMES
    uncapped_outcome: SELECTION_OUTCOMES
    preferred: Optional[Id]
    tied: list[Id]
    candidates: list[CandidateLine]
    flags: list[Flag]
    shortlisting: Optional[ShortlistingRecord]
    reconstructed_cells: list[ReconstructedCell]
    sensitivity: list[Sensitivity]
    margin: Optional[SelectionMargin] = None  # absent from records written before margins were recorded
    pending: Optional[list[Id]] = None  # a pair table's: candidates waiting for a tiebreaker or discussion
    scoring_choice: Optional[Text] = None  # a pair table's reading of its categories
    # Absent from records written before the record carried the grid and the stages:
    panel: Optional[list[PanelSeat]] = None
    cells: Optional[list[CellLine]] = None
    stages: Optional[StagesLine] = None


class HearingDecision(_AppointmentRecord):
    kind: Literal["hearing"]
    subject: Id  # the candidate's pseudonym
    outcome: Literal["veto", "no_veto"]
    uncapped_outcome: Literal["veto", "no_veto"]
    members: Int
    present: Optional[Int]
    votes_for_veto: Int
    votes_needed: Int
    arithmetic: Text
    consequence: Text
    rule: Text
    margin: Optional[AppointmentMargin] = None  # absent from records written before margins were recorded


class RequirementLine(RecordModel):
    requirement: Id
    met: Bool  # met, or does not apply
    applies: Bool = True  # False where the requirement's condition does not hold; absent from older records
    text: Text
    source: Optional[Citation]


class ComplianceDecision(_AppointmentRecord):
    kind: Literal["compliance_record"]
    outcome: Literal["compliant", "not_compliant"]
    uncapped_outcome: Literal["compliant", "not_compliant"]
    requirements: list[RequirementLine]
    failed: list[Id]
    margin: Optional[AppointmentMargin] = None  # absent from records written before margins were recorded


APPOINTMENT_RECORDS: dict[str, type[_Record]] = {
    "candidate": CandidateDecision,
    "appointment": SelectionDecision,
    "hearing": HearingDecision,
    "compliance_record": ComplianceDecision,
}
# What an appointment record's `framework` names: a file of this kind under criteria/.
RULES_KIND = {"candidate": "selection_process", "appointment": "selection_process", "hearing": "panel_rules",
              "compliance_record": "compliance"}


def model_for(record: dict[str, Any]) -> type[_Record]:
    """An inspection decision has no `kind`; every other decision says which it is."""
    kind = record.get("kind")
    return InspectionDecision if kind is None else APPOINTMENT_RECORDS[kind]


def validated(record: dict[str, Any]) -> dict[str, Any]:
    """The record unchanged, once its model accepts it: the tests call this on what the
    writers make, so a record the reader would refuse fails there (a bug), never in a user's
    summary."""
    model_for(record).model_validate(record)
    return record


# --- checking a record read back ------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Something wrong in one record, at a path into it (keys and list indexes); the reader
    turns the path into a line and column."""

    loc: tuple
    code: str
    message: str
    hint: str | None = None
    at_key: bool = False


REWRITE = "decision records are written by `arbiter score --format json`, never by hand: score the case again"


def record_problems(record: Any) -> list[Problem]:
    """Every problem of shape in one parsed record: format first, then kind, then its model."""
    if not isinstance(record, dict):
        return [Problem((), "E112", f"a decision record is a JSON object ({{...}}), not {shown(record)}", REWRITE)]
    if "format" not in record:
        return [Problem((), "E111", "missing field 'format': this is not an Arbiter decision record",
                        f"give JSON Lines written by `arbiter score --format json` (format '{RECORD_FORMAT}')")]
    if record["format"] != RECORD_FORMAT:
        return [Problem(("format",), "E113", f"unknown record format {shown(record['format'])}",
                        f"this version of Arbiter reads '{RECORD_FORMAT}' records")]
    kind = record.get("kind")
    if kind is not None and (not isinstance(kind, str) or kind not in APPOINTMENT_RECORDS):
        return [Problem(("kind",), "E113", f"unknown record kind {shown(kind)}",
                        f"{suggest(_text(kind), APPOINTMENT_RECORDS)} (an inspection decision has no kind)")]
    return schema_problems(model_for(record), record)


def schema_problems(model: type[_Record], record: dict[str, Any]) -> list[Problem]:
    try:
        model.model_validate(record)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        missing = [e for e in errors if e["type"] == "missing"]
        return _missing(missing) + [_problem(model, e) for e in errors if e["type"] != "missing"]
    return []


def _missing(errors: list[dict]) -> list[Problem]:
    """One problem per object that lacks fields, naming them all: a record cut short would
    otherwise give one line for each of thirty fields."""
    by_parent: dict[tuple, list[str]] = defaultdict(list)
    for error in errors:
        by_parent[tuple(error["loc"][:-1])].append(str(error["loc"][-1]))
    problems = []
    for parent, names in by_parent.items():
        listed = ", ".join(f"'{n}'" for n in names)
        problems.append(Problem(parent, "E111", f"missing field{'s' if len(names) > 1 else ''} {listed}{_in(parent)}",
                                REWRITE))
    return problems


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "dict_type": "an object ({...})",
    "model_type": "an object ({...})",
    "model_attributes_type": "an object ({...})",
    "list_type": "a list ([...])",
    "none_required": "null",
}

_PATTERN_HINTS = {
    r"^[a-z0-9][a-z0-9_-]*$": "an id uses lowercase letters, digits, '-' and '_', e.g. mp-case-review",
    r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$":
        "an id is a lowercase path inside the project such as hmic-2007/child-abuse: no '..', no leading '/'",
    r"^[0-9]{3}:[0-9]+(-[0-9]+)?$": "a citation is a seed prefix and line or line range, e.g. \"000:735\"",
    r"^[0-9a-f]{16}$": "a decision id is 16 lowercase hexadecimal digits",
    r"^[0-9a-f]{64}$": "a sha256 is 64 lowercase hexadecimal digits",
}


def _problem(model: type[_Record], error: dict) -> Problem:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    where = describe(loc)
    if kind == "extra_forbidden":
        known = [f.alias or name for name, f in model.model_fields.items()] if len(loc) == 1 else []
        return Problem(loc, "E110", f"unknown field '{loc[-1]}'{_in(loc[:-1])}",
                       suggest(str(loc[-1]), known) if known else REWRITE, at_key=True)
    if kind in CODES:  # our own validators (and models.py's) name the code as the error type
        return Problem(loc, kind, f"{where}: {error['msg']}", error.get("ctx", {}).get("hint") or REWRITE)
    if kind in _TYPE_WORDS:
        return Problem(loc, "E112", f"{where} must be {_TYPE_WORDS[kind]}, not {shown(value)}", REWRITE)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        return Problem(loc, "E113", f"{where} is {shown(value)}, which is not allowed", suggest(_text(value), options))
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(error.get("ctx", {}).get("pattern", ""), REWRITE)
        return Problem(loc, "E113", f"{where} is {shown(value)}, which is not well formed", hint)
    if kind == "string_too_short":
        return Problem(loc, "E113", f"{where} is empty", REWRITE)
    return Problem(loc, "E113", f"{where}: {error['msg']}", REWRITE)


def _text(value: Any) -> str:
    """What a did-you-mean compares: only text can be a misspelt id."""
    return value if isinstance(value, str) else ""


def describe(loc: tuple) -> str:
    """A path into a record as a reader writes it: 'why_not[0].failed[1].holds'."""
    if not loc:
        return "the record"
    text = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in loc).lstrip(".")
    return f"'{text}'"


def _in(loc: tuple) -> str:
    return f" in {describe(loc)}" if loc else ""


SHOWN_TEXT = 60  # characters of a wrong value quoted in a message


def shown(value: Any) -> str:
    """A value from a record as a message quotes it: short, and printable whatever it holds."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int) and value.bit_length() > 64:
        return "a very large number"  # str() of one with thousands of digits raises
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    short = text[:SHOWN_TEXT] + ("..." if len(text) > SHOWN_TEXT else "")
    # Escapes what cannot be printed (a lone surrogate from "\ud800", control characters).
    return "'" + short.encode("utf-8", "backslashreplace").decode("utf-8").translate(_CONTROLS) + "'"


_CONTROLS = {code: f"\\x{code:02x}" for code in list(range(32)) + [127]}


# --- the appointment kinds' outcomes, for reading records back and for `log` and `override` ---

APPOINTMENT_OUTCOMES = {
    "candidate": ("gates_passed", "gate_failed", "cells_passed", "cells_pending", "cell_failed"),
    "appointment": ("preferred", "tie", "no_appointable_candidate", "resolution_required"),
    "hearing": ("veto", "no_veto"),
    "compliance_record": ("compliant", "not_compliant"),
}

# What each appointment outcome's label starts with (the rest, after a colon, names the
# subject): `log --outcome` and `override --outcome` accept these as well as the ids.
APPOINTMENT_LABELS = {
    "gates_passed": "Passed every gate", "gate_failed": "Failed a gate",
    "cells_passed": "Passed every cell", "cells_pending": "Pending", "cell_failed": "Failed a cell",
    "preferred": "Preferred candidate", "tie": "Tie", "no_appointable_candidate": "No appointable candidate",
    "resolution_required": "Resolution required",
    "veto": "Veto", "no_veto": "No veto",
    "compliant": "Compliant", "not_compliant": "Not compliant",
}


# --- appointment packs (appointments/pack.py) -------------------------------------------------

class PackInputLine(RecordModel):
    """One of the decisions a pack rests on: its case, its id and the sha256 of its record."""

    case: PathId
    decision_id: DecisionId
    record_sha256: Sha256
    outcome: Id
    outcome_label: Text


class PackCheckLine(RecordModel):
    check: Id
    holds: Bool
    text: Text
    source: Optional[Citation]
    observed: Text  # what the three decisions showed, in words


PACK_OUTCOMES = Literal["holds", "vetoed", "does_not_hold"]


class PackDecision(_AppointmentRecord):
    kind: Literal["pack"]
    margin: Optional[AppointmentMargin] = None  # absent from records written before margins were recorded
    outcome: PACK_OUTCOMES
    uncapped_outcome: PACK_OUTCOMES
    selection: PackInputLine  # the selection process's record (kind appointment)
    compliance: PackInputLine
    hearing: PackInputLine
    preferred: Optional[Id]
    heard: Id
    hearing_outcome: Literal["veto", "no_veto"]
    checks: list[PackCheckLine]
    failed: list[Id]
    consequence: Text


APPOINTMENT_RECORDS["pack"] = PackDecision
RULES_KIND["pack"] = "pack_rules"
APPOINTMENT_OUTCOMES["pack"] = ("holds", "vetoed", "does_not_hold")
APPOINTMENT_LABELS.update({"holds": "The pack holds", "vetoed": "Vetoed by the Panel",
                           "does_not_hold": "The pack does not hold"})
