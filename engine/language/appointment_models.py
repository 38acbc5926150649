"""Models of the appointment file kinds: competency frameworks, selection processes,
panel rules, compliance frameworks, and their evidence records.

Like `models`, these check shape and types only; cross-references are checked in
`appointment_check`. Field meanings are documented in criteria/README.md.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_serializer, field_validator, model_validator

from .models import Bool, Citation, Id, Int, Model, PathId, Text, coded_error

# What one compiled rule can hold in durable-rules (measured: bench/limits.py; the host's
# own limits are in engine/runtime/durable.py, and tests/test_limits.py checks these fit inside them),
# and, for gates, the work one selection takes (see SelectionProcess).
MAX_GATES = 100
MAX_REQUIREMENTS = 11
# One cell rule per category (see compiler/selection.py), inside the host's 64 rules; with the
# resolution, result and rank rules, 32 patterns on the stage event, the host's 32.
MAX_PAIR_CATEGORIES = 20

# --- the Competency and Values Framework ------------------------------------------------


class CvfValue(Model):
    id: Id
    name: Text
    description: tuple[Text, ...] = Field(min_length=1)
    behaviours: tuple[Text, ...] = Field(min_length=1)
    source: Optional[Citation] = None


class CvfCluster(Model):
    id: Id
    name: Text
    description: tuple[Text, ...] = Field(min_length=1)
    competencies: tuple[Id, ...] = Field(min_length=1)
    source: Optional[Citation] = None


class CvfLevel(Model):
    level: Int
    behaviours: tuple[Text, ...] = Field(min_length=1)
    source: Optional[Citation] = None


class CvfCompetency(Model):
    id: Id
    name: Text
    cluster: Id
    description: tuple[Text, ...] = Field(min_length=1)
    why_important: tuple[Text, ...] = ()
    levels: tuple[CvfLevel, ...] = Field(min_length=1)
    source: Optional[Citation] = None


class WorkLevel(Model):
    level: Int
    description: Text


class CompetencyFramework(Model):
    arbiter: Literal["competency_framework"]
    id: Id
    title: Text
    source: Optional[Citation] = None
    copyright: Optional[Text] = None
    levels_cumulative: Bool
    cumulative_text: Text
    work_levels: tuple[WorkLevel, ...] = ()
    values: tuple[CvfValue, ...] = Field(min_length=1)
    clusters: tuple[CvfCluster, ...] = ()
    competencies: tuple[CvfCompetency, ...] = Field(min_length=1)


# --- selection processes ----------------------------------------------------------------


class ReconstructedCell(Model):
    area: Id
    note: Text


class Exercise(Model):
    id: Id
    title: Text
    assesses: tuple[Id, ...] = Field(min_length=1)
    scored: Bool  # does it count toward the cumulative score?
    stage: Optional[Id] = None  # the stage the panel scores it at; its own id when absent (see `stages`)
    reconstructed: tuple[ReconstructedCell, ...] = ()
    source: Optional[Citation] = None


class Gate(Model):
    id: Id
    description: Text
    every_rating_at_least: Int
    source: Optional[Citation] = None


class PanelRules(Model):
    scoring_roles: tuple[Id, ...] = Field(min_length=1)
    advisory_roles: tuple[Id, ...] = ()
    independent_role: Id
    min_independent: Int = 1
    recorder_roles: tuple[Id, ...] = ()  # who may record a cell (F205); when absent, any role that does not score
    source: Optional[Citation] = None


class Moderation(Model):
    """The numbers behind the moderation flags: data, each with the file's reading of its source."""

    spread_at_least: Int = Field(ge=1)  # F202: individual ratings of one cell this far apart flag it
    choice: Text  # the reading, in words: where the number comes from, or that the source gives none
    source: Optional[Citation] = None


class Shortlisting(Model):
    elements: tuple[Id, ...] = Field(min_length=1)
    rule: Text  # the declared shortlisting rule, in words; the scores are shown, never totalled
    source: Optional[Citation] = None


class PairCategory(Model):
    """Where a pair-table row puts a cell: a category that passes, fails, or that the two
    assessors' ratings cannot settle (a tiebreaker or a discussion is required)."""

    id: Id
    label: Optional[Text] = None
    passes: Optional[Bool] = None  # exactly one of passes and resolution (checked in appointment_check)
    resolution: Optional[Literal["tiebreaker", "discuss"]] = None


class PairRow(Model):
    ratings: tuple[Int, Int]  # an unordered pair of scale values: [4, 5] also maps 5 and 4
    category: Id


PAIR_TABLE_FIELDS = ("assessors", "categories", "table", "rank_by", "choice")


class Scoring(Model):
    """How a candidate's cells are scored. Written `scoring: sum_of_agreed_ratings` (the agreed
    ratings summed, with gates), or as a mapping with `method: pair_table`: two assessors each
    rate a cell, and the published table maps the pair to a category."""

    method: Literal["sum_of_agreed_ratings", "pair_table"]
    assessors: Optional[Literal[2]] = None
    categories: tuple[PairCategory, ...] = ()
    table: tuple[PairRow, ...] = ()
    rank_by: tuple[Id, ...] = ()  # passers are ranked by how many cells fall in these categories
    choice: Optional[Text] = None  # the reading, in words: how results and the outcome follow from the categories
    source: Optional[Citation] = None

    @model_validator(mode="after")
    def _complete(self):
        given = [f for f in PAIR_TABLE_FIELDS if getattr(self, f) not in (None, ())]
        if self.method == "sum_of_agreed_ratings" and given:
            raise coded_error("E113", "{fields} belong to a pair table, not to sum_of_agreed_ratings",
                              "write method: pair_table, or remove them", fields=", ".join(given))
        missing = [f for f in PAIR_TABLE_FIELDS if f not in given]
        if self.method == "pair_table" and missing:
            raise coded_error("E111", "a pair table needs {fields}", "add each: assessors: 2, the categories, the "
                              "table's rows, the categories that rank passers (rank_by) and the reading (choice)",
                              fields=", ".join(missing))
        if len(self.categories) > MAX_PAIR_CATEGORIES:
            raise coded_error("E136", "the table has {count} categories; the limit is {limit}",
                              "merge categories that mean the same for the outcome",
                              count=len(self.categories), limit=MAX_PAIR_CATEGORIES)
        return self


class SelectionProcess(Model):
    arbiter: Literal["selection_process"]
    id: PathId
    title: Text
    role: Text
    competency_framework: Id
    level: Int
    rating_scale: Id
    source: Optional[Citation] = None
    note: Optional[Text] = None
    exercises: tuple[Exercise, ...] = Field(min_length=1)
    gates: tuple[Gate, ...] = ()  # required by sum_of_agreed_ratings, refused by a pair table (appointment_check)
    scoring: Scoring
    ranking: Literal["highest_total_among_gate_passers", "most_cells_in_rank_categories_among_passers"]
    tie_policy: Literal["refer_to_panel"]
    panel: PanelRules
    moderation: Optional[Moderation] = None  # without it, no F202 flag: Arbiter has no number of its own
    shortlisting: Optional[Shortlisting] = None

    @field_validator("scoring", mode="before")
    @classmethod
    def _scoring_by_name(cls, value):
        """`scoring: sum_of_agreed_ratings`, the short form, is the method with nothing more."""
        return {"method": value} if isinstance(value, str) else value

    @field_serializer("scoring")
    def _scoring_as_written(self, scoring: Scoring):
        """The short form stays short in the canonical form, so a summing process hashes as it always did."""
        return scoring.method if scoring.method == "sum_of_agreed_ratings" else scoring.model_dump(
            mode="json", by_alias=True, exclude_defaults=True)

    @model_validator(mode="after")
    def _fits_the_engine(self):
        # A gate is a fact, not a rule or a property, so the ruleset is the same size whatever
        # the number of gates; each gate adds one cell-rule firing per candidate and scored cell
        # (at 100 gates the Kent field, 2 candidates of 12 cells, takes 2,400 firings, about 0.2 s).
        if len(self.gates) > MAX_GATES:
            raise coded_error("E136", "the process has {count} gates; the limit is {limit}",
                              "merge gates that test the same threshold, or split the process",
                              count=len(self.gates), limit=MAX_GATES)
        return self


# --- evidence: an appointment -----------------------------------------------------------


class PanelMember(Model):
    id: Id
    name: Optional[Text] = None
    role: Id


class Candidate(Model):
    id: Id  # a pseudonym; the name is optional and kept apart from the scores
    name: Optional[Text] = None


class Resolution(Model):
    """How a pair-table cell whose pair needs a tiebreaker or discussion was settled: the pair it
    resolved (it stands for that pair only), the category agreed, who settled it and why, and,
    for a tiebreaker, the third assessor's rating when one was given."""

    pair: tuple[Int, Int]  # the two ratings resolved, unordered: [5, 3] is the pair 3 and 5
    category: Id  # a category of the table that passes or fails, never one that needs resolving
    by: Id  # a scoring panel member: the third assessor, or the lead who decided
    rationale: Optional[str] = None  # required, and checked non-empty, by appointment_check
    tiebreak_rating: Optional[Int] = None  # a tiebreaker's: the third assessor's own rating


class Rating(Model):
    """One cell. A cell written with nothing in it (no agreed rating, no individual rating, an
    empty rationale: as a blank scoresheet leaves it) is not yet filled (see `is_blank`)."""

    candidate: Id
    exercise: Id
    area: Id
    individual: dict[Id, Optional[Int]] = {}  # a member left blank has given no rating
    agreed: Optional[Int] = None  # required by sum_of_agreed_ratings, refused by a pair table (appointment_check)
    rationale: Optional[str] = None  # required, and checked non-empty, by appointment_check
    recorded_by: Id
    resolution: Optional[Resolution] = None  # a pair-table cell's whose pair needs resolving (appointment_check)


class ShortlistScore(Model):
    candidate: Id
    element: Id
    score: Int
    rationale: Optional[str] = None


class CandidateExpect(Model):
    gates: Literal["pass", "fail", "pending"]  # pending: a pair table's tiebreaker or discussion
    total: Optional[Int] = None
    rank: Optional[Int] = None


class AppointmentExpect(Model):
    outcome: Literal["preferred", "tie", "no_appointable_candidate", "resolution_required", "incomplete"]
    preferred: Optional[Id] = None
    tied: tuple[Id, ...] = ()
    candidates: dict[Id, CandidateExpect] = {}
    source: Optional[Citation] = None


class Appointment(Model):
    arbiter: Literal["appointment"]
    id: PathId
    process: PathId
    constructed: Bool
    note: Optional[Text] = None
    panel: tuple[PanelMember, ...] = Field(min_length=1)
    candidates: tuple[Candidate, ...] = Field(min_length=1)
    ratings: tuple[Rating, ...] = ()
    shortlisting: tuple[ShortlistScore, ...] = ()
    expect: Optional[AppointmentExpect] = None


# --- the confirmation hearing -----------------------------------------------------------


class Fraction(Model):
    numerator: Int = Field(ge=1)
    denominator: Int = Field(ge=1)

    @model_validator(mode="after")
    def _proper(self):
        if self.numerator > self.denominator:
            raise coded_error("E132", "a fraction of the members cannot exceed 1 ({n}/{d})",
                              "write a numerator no larger than the denominator, e.g. 2 of 3",
                              n=self.numerator, d=self.denominator)
        return self


class VetoRule(Model):
    at_least: Fraction
    of: Literal["members"]  # the Panel's membership, never those present
    text: Text
    source: Optional[Citation] = None


class PanelRulesFile(Model):
    arbiter: Literal["panel_rules"]
    id: PathId
    title: Text
    source: Optional[Citation] = None
    veto: VetoRule
    on_veto: Text
    on_no_veto: Text


class HearingExpect(Model):
    outcome: Literal["veto", "no_veto"]
    source: Optional[Citation] = None


class Hearing(Model):
    arbiter: Literal["hearing"]
    id: PathId
    panel_rules: PathId
    candidate: Id  # the candidate's pseudonym, as in the selection
    candidate_name: Optional[Text] = None  # personal data: kept apart from the decision
    constructed: Bool
    note: Optional[Text] = None
    members: Int = Field(ge=1)  # the Panel's membership, from the record
    present: Optional[Int] = None
    votes_for_veto: Int = Field(ge=0)
    expect: Optional[HearingExpect] = None


# --- process compliance -----------------------------------------------------------------

CONDITION_TESTS = ("differ", "equal", "is_true", "is_false")


class Condition(Model):
    """When a requirement applies: one test on the compliance record. Where it does not hold,
    the requirement does not apply, and counts as met."""

    differ: Optional[tuple[Id, Id]] = None  # two numbers in the record differ
    equal: Optional[tuple[Id, Id]] = None  # two numbers in the record are equal
    is_true: Optional[Id] = None  # a yes/no in the record is yes
    is_false: Optional[Id] = None  # ... is no

    @model_validator(mode="after")
    def _one_test(self):
        tests = [t for t in CONDITION_TESTS if getattr(self, t) is not None]
        if len(tests) != 1:
            raise coded_error("E133", "applies_when needs exactly one test (differ, equal, is_true, is_false); "
                                      "found {found}",
                              "keep one: differ: [a, b], equal: [a, b], is_true: flag or is_false: flag",
                              found=", ".join(tests) or "none")
        return self

    @property
    def test(self) -> str:
        return next(t for t in CONDITION_TESTS if getattr(self, t) is not None)


class Requirement(Model):
    """One statutory or procedural requirement, tested against the compliance record."""

    id: Id
    description: Text
    source: Optional[Citation] = None
    applies_when: Optional[Condition] = None  # always, when absent
    days_between: Optional[tuple[Id, Id]] = None  # two dates in the record; with at_least (days)
    ratio: Optional[tuple[Id, Id]] = None  # value / base; with within (a fraction either way)
    value: Optional[Id] = None  # a number in the record; with at_most or at_least
    is_true: Optional[Id] = None  # a yes/no in the record
    contains_all: Optional[Id] = None  # a list in the record; with items
    at_least: Optional[Int] = None
    at_most: Optional[Int] = None
    within: Optional[Fraction] = None
    items: tuple[Id, ...] = ()

    @model_validator(mode="after")
    def _one_test(self):
        tests = [t for t in ("days_between", "ratio", "value", "is_true", "contains_all") if getattr(self, t) is not None]
        if len(tests) != 1:
            raise coded_error("E133", "a requirement needs exactly one test (days_between, ratio, value, is_true, "
                                      "contains_all); found {found}",
                              "keep one test; write another requirement for each further test",
                              found=", ".join(tests) or "none")
        needs = {"days_between": ("at_least",), "ratio": ("within",), "value": ("at_least", "at_most"),
                 "is_true": (), "contains_all": ("items",)}[tests[0]]
        given = [b for b in ("at_least", "at_most", "within", "items") if getattr(self, b) not in (None, ())]
        if needs and not any(b in given for b in needs):
            raise coded_error("E133", "{test} needs {needs}", f"add {' or '.join(needs)} to the requirement",
                              test=tests[0], needs=" or ".join(needs))
        unused = [b for b in given if b not in needs]
        if unused:  # a bound the test does not read would be silently ignored
            raise coded_error("E133", "{test} does not use {unused}", "remove it, or give the test that uses it its own "
                              "requirement", test=tests[0], unused=", ".join(unused))
        if tests[0] == "value" and len(given) == 2:
            raise coded_error("E133", "value takes at_least or at_most, not both",
                              "keep one bound; write a second requirement for the other")
        return self

    @property
    def test(self) -> str:
        return next(t for t in ("days_between", "ratio", "value", "is_true", "contains_all") if getattr(self, t) is not None)


class ComplianceFramework(Model):
    arbiter: Literal["compliance"]
    id: PathId
    title: Text
    source: Optional[Citation] = None
    requirements: tuple[Requirement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_the_engine(self):
        # The `compliant` rule joins one passing result per requirement with its event;
        # durable-rules fails a rule of 17 patterns, and the host refuses more than 12.
        if len(self.requirements) > MAX_REQUIREMENTS:
            raise coded_error("E136", "the framework has {count} requirements; the limit is {limit}",
                              "split the requirements into two compliance frameworks",
                              count=len(self.requirements), limit=MAX_REQUIREMENTS)
        return self


class ComplianceExpect(Model):
    outcome: Literal["compliant", "not_compliant"]
    failed: tuple[Id, ...] = ()


class ComplianceRecord(Model):
    arbiter: Literal["compliance_record"]
    id: PathId
    compliance: PathId
    subject: Text
    constructed: Bool
    note: Optional[Text] = None
    dates: dict[Id, Text] = {}  # ISO dates, quoted: "2022-10-03"
    numbers: dict[Id, Int] = {}  # whole numbers (money in pence)
    flags: dict[Id, Bool] = {}
    lists: dict[Id, tuple[Id, ...]] = {}
    cites: dict[Id, tuple[Citation, ...]] = {}
    expect: Optional[ComplianceExpect] = None


APPOINTMENT_MODELS = {
    "competency_framework": CompetencyFramework,
    "selection_process": SelectionProcess,
    "appointment": Appointment,
    "panel_rules": PanelRulesFile,
    "hearing": Hearing,
    "compliance": ComplianceFramework,
    "compliance_record": ComplianceRecord,
}


# --- views of the models, for the checks, the compiler, the runtime and the records -------

def cvf_areas(cvf: CompetencyFramework) -> dict[str, str]:
    """Every assessable area (value or competency) by id, with its name."""
    return {**{v.id: v.name for v in cvf.values}, **{c.id: c.name for c in cvf.competencies}}


def pair_table(process: SelectionProcess) -> Optional[Scoring]:
    """The process's pair-table scoring, or None when it sums agreed ratings."""
    return process.scoring if process.scoring.method == "pair_table" else None


def scored_cells(process: SelectionProcess) -> list[tuple[str, str]]:
    """(exercise, area) for every cell that counts toward the cumulative score."""
    return [(e.id, area) for e in process.exercises if e.scored for area in e.assesses]


def agreed(appt: "Appointment") -> dict[tuple[str, str, str], "Rating"]:
    """Each rating cell by (candidate, exercise, area), filled or not."""
    return {(r.candidate, r.exercise, r.area): r for r in appt.ratings}


def panel_order(appt: Appointment, process: SelectionProcess) -> list[PanelMember]:
    """The panel in the process's order of roles (its scoring roles, then its advisory ones, as
    it lists them), then by id. Records list members in this order, never the file's: the
    ledger keeps evidence in a canonical order, and a replay must give the same record."""
    roles = list(process.panel.scoring_roles + process.panel.advisory_roles)
    return sorted(appt.panel, key=lambda m: (roles.index(m.role) if m.role in roles else len(roles), m.id))


def given_ratings(rating: Rating) -> dict[str, int]:
    """The individual ratings a cell holds, by member: those left blank are not ratings."""
    return {member: value for member, value in rating.individual.items() if value is not None}


def is_blank(rating: Rating) -> bool:
    """Nothing filled in yet: no agreed rating, no individual rating and no rationale. The
    recorder may already be written (a scoresheet names one), as it says nothing of the cell."""
    return rating.agreed is None and not given_ratings(rating) and not (rating.rationale or "").strip() \
        and rating.resolution is None


def stages(process: SelectionProcess) -> list[tuple[str, tuple[str, ...]]]:
    """The stages the panel scores in, in the order of their first scored exercise, each with
    its scored exercises. An exercise is its own stage unless it names one (`stage:`), so by
    default the stages are the scored exercises in the file's order."""
    grouped: dict[str, list[str]] = {}
    for exercise in process.exercises:
        if exercise.scored:
            grouped.setdefault(exercise.stage or exercise.id, []).append(exercise.id)
    return [(stage, tuple(exercises)) for stage, exercises in grouped.items()]
