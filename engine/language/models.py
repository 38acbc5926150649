"""Models: the schema of every file kind, as frozen pydantic models.

Models check shape and types only; cross-references (a finding's criterion, a grade's
level) are checked in `check`. Scalars are strict, so YAML's coercions cannot slip
through: a `3` is not text, `"yes"` is not a boolean, `"3"` is not a number.
Fields are documented in criteria/README.md, which the tests keep in step with this file.
"""

from __future__ import annotations

from string import Formatter
from typing import Annotated, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

Text = Annotated[str, Strict(), StringConstraints(min_length=1)]
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Number = Annotated[Union[Annotated[int, Strict()], Annotated[float, Strict()]], Field(union_mode="left_to_right")]
# Ids name files (criteria/<id>.yaml, rules/<id>.json): bounded well below the system's limits
# on a file name (255 bytes) and a path, so an id can never make a path the system refuses.
ID_MAX_LENGTH = 100  # an id, or one part of a path id
PATH_ID_MAX_LENGTH = 200  # a whole path id


ID_LENGTH_HINT = "shorten it; an id names a file, and ids this long are never needed"


def id_length_problem(value: str) -> str | None:
    """Why an id is too long, naming the limit; None when it is within both limits."""
    longest = max(value.split("/"), key=len)
    if len(longest) > ID_MAX_LENGTH:
        part = " (each part of a path id)" if "/" in value else ""
        return f"an id is at most {ID_MAX_LENGTH} characters{part}; '{longest[:24]}...' has {len(longest)}"
    if len(value) > PATH_ID_MAX_LENGTH:
        return f"a path id is at most {PATH_ID_MAX_LENGTH} characters; '{value[:24]}...' has {len(value)}"
    return None


def _short_enough(value: str) -> str:
    problem = id_length_problem(value)
    if problem:
        raise coded_error("E113", "{problem}", ID_LENGTH_HINT, problem=problem)
    return value


Id = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$"), AfterValidator(_short_enough)]
PathId = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$"),
                   AfterValidator(_short_enough)]
Citation = Annotated[str, Strict(), StringConstraints(pattern=r"^[0-9]{3}:[0-9]+(-[0-9]+)?$")]

INSPECTION_KINDS = ("scale", "framework", "criteria", "case")
FINDINGS = ("met", "not_met", "not_assessed")
UNDECIDED = "professional_judgement"
UNDECIDED_LABEL = "Professional judgement required"
NOT_GRADED = "not_graded"  # an area inspected but, by the framework's own choice, given no grade
NOT_GRADED_LABEL = "Not graded"


class Model(BaseModel):
    # defer_build: a model's validator is built when it first validates, not when the class
    # is defined; a command then builds those it uses, not the hundred-odd it imports.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


def coded_error(code: str, template: str, hint: str | None = None, **context: object) -> PydanticCustomError:
    """A validation error carrying our stable code as its type, and its own hint.

    pydantic fills a template's plain `{name}` placeholders and nothing else: `{value!r}` or
    `{value:.2f}` would reach the author with its braces. Such a template is refused here, so
    the mistake shows the first time the error is raised (tests raise every one); values
    that need quoting are quoted by the caller, with `shown`."""
    for _, name, spec, conversion in Formatter().parse(template):
        if name is not None and (spec or conversion or name not in context):
            raise ValueError(f"template {template!r}: write plain {{{name}}} and pass {name} ready to print")
    return PydanticCustomError(code, template, {**context, **({"hint": hint} if hint else {})})


def shown(value: object) -> str:
    """A value as a message shows it: text quoted, numbers as written."""
    return f"'{value}'" if isinstance(value, str) else str(value)


# --- scales -----------------------------------------------------------------------------

class Level(Model):
    id: Id
    label: Text
    definition: Text
    value: Optional[Int] = None  # for rating scales: the number an assessor writes
    source: Optional[Citation] = None


class Scale(Model):
    arbiter: Literal["scale"]
    id: Id
    title: Text
    description: Optional[Text] = None
    source: Optional[Citation] = None
    levels: tuple[Level, ...] = Field(min_length=2)


# --- frameworks -------------------------------------------------------------------------

class Described(Model):
    description: Text
    source: Optional[Citation] = None


_QUANTIFIER_HINT = "write one bound as a fraction from 0 to 1, e.g. at_least: 0.8 for 80%"


class Quantifier(Model):
    """A named fraction: the criteria file's explicit reading of a word such as 'most'."""

    at_least: Optional[Number] = None
    more_than: Optional[Number] = None
    at_most: Optional[Number] = None
    less_than: Optional[Number] = None
    phrase: Text
    choice: Optional[Text] = None
    source: Optional[Citation] = None

    @model_validator(mode="after")
    def _one_bound(self):
        bounds = [b for b in ("at_least", "more_than", "at_most", "less_than") if getattr(self, b) is not None]
        if len(bounds) != 1:
            raise coded_error("E132", "a quantifier needs exactly one of at_least, more_than, at_most, less_than "
                                      "(found {found})", _QUANTIFIER_HINT, found=", ".join(bounds) or "none")
        value = getattr(self, bounds[0])
        if not 0 <= value <= 1:
            raise coded_error("E132", "a quantifier is a fraction from 0 to 1, not {value}", _QUANTIFIER_HINT,
                              value=shown(value))
        return self

    @property
    def bound(self) -> tuple[str, float]:
        for name in ("at_least", "more_than", "at_most", "less_than"):
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise AssertionError("validated quantifier without a bound")


class Selection(Model):
    """Which criteria a count looks at: all filters must hold; empty means every criterion."""

    tier: Optional[Id] = None
    flag: Optional[Id] = None
    flags: tuple[Id, ...] = ()
    ids: tuple[Id, ...] = ()


class SubgradeCount(Model):
    level: Id
    of: Optional[tuple[Id, ...]] = None


class SubgradeSelection(Model):
    of: Optional[tuple[Id, ...]] = None


class Everything(Model):
    """An empty selection: `causes_of_concern: {}` counts every cause of concern."""


COUNT_QUANTITIES = ("met", "not_met", "not_assessed")
LEVEL_QUANTITIES = ("worst_subgrade", "best_subgrade")
SUBGRADE_COUNTS = ("subgrades_at_or_below", "subgrades_at_or_above", "subgrades_at")
SCORE_QUANTITIES = ("score", "score_sum")  # one scored criterion's score; the sum of a selection's scores
QUANTITIES = COUNT_QUANTITIES + ("factors_present",) + SUBGRADE_COUNTS + ("causes_of_concern",) + LEVEL_QUANTITIES \
    + SCORE_QUANTITIES
STRICT_BOUNDS = ("below", "above")  # below N is at most N - 1, above N at least N + 1: whole numbers only
BOUNDS = ("is", "at_least", "at_most", "exactly") + STRICT_BOUNDS


_CONDITION_HINT = ("write one quantity (e.g. met: {tier: good}) and one bound (is: <quantifier>, at_least: N, "
                   "at_most: N, exactly: N, below: N or above: N)")


class Condition(Model):
    """One quantity compared with one bound, e.g. `met: {tier: good}` with `is: most`."""

    met: Optional[Selection] = None
    not_met: Optional[Selection] = None
    not_assessed: Optional[Selection] = None
    factors_present: Optional[tuple[Id, ...]] = None
    subgrades_at_or_below: Optional[SubgradeCount] = None
    subgrades_at_or_above: Optional[SubgradeCount] = None
    subgrades_at: Optional[SubgradeCount] = None  # sub-areas graded exactly at the level
    worst_subgrade: Optional[SubgradeSelection] = None
    best_subgrade: Optional[SubgradeSelection] = None
    causes_of_concern: Optional[Everything] = None
    score: Optional[Id] = None  # a scored criterion's score
    score_sum: Optional[Selection] = None  # the sum of the scores of the selection's scored criteria
    is_: Optional[Id] = Field(default=None, alias="is")
    at_least: Optional[Union[Int, Id]] = Field(default=None, union_mode="left_to_right")
    at_most: Optional[Union[Int, Id]] = Field(default=None, union_mode="left_to_right")
    exactly: Optional[Union[Int, Id]] = Field(default=None, union_mode="left_to_right")
    below: Optional[Int] = None
    above: Optional[Int] = None
    choice: Optional[Text] = None
    source: Optional[Citation] = None

    @model_validator(mode="after")
    def _one_quantity_one_bound(self):
        quantities = [q for q in QUANTITIES if getattr(self, q) is not None]
        if len(quantities) != 1:
            raise coded_error("E133", "a condition needs exactly one quantity ({valid}); found {found}",
                              _CONDITION_HINT, valid=", ".join(QUANTITIES), found=", ".join(quantities) or "none")
        bounds = [b for b in BOUNDS if self._bound_value(b) is not None]
        if len(bounds) != 1:
            raise coded_error("E133", "a condition needs exactly one of {valid}; found {found}",
                              _CONDITION_HINT, valid=", ".join(BOUNDS), found=", ".join(bounds) or "none")
        quantity, (bound, value) = quantities[0], self.bound
        wants_level = quantity in LEVEL_QUANTITIES
        if wants_level and bound == "exactly":
            raise coded_error("E133", "{quantity} takes at_least or at_most, not exactly",
                              "to ask for one grade exactly, count the sub-areas at it: subgrades_at: {level: good}",
                              quantity=quantity)
        if wants_level and bound in STRICT_BOUNDS:
            raise coded_error("E133", "{quantity} takes at_least or at_most, not {bound}",
                              "compare the grade with a level, e.g. at_least: good", quantity=quantity, bound=bound)
        if wants_level and not isinstance(value, str):
            raise coded_error("E133", "{quantity} is compared with a level id (at_least: good), not {value}",
                              "write a level of the scale, e.g. at_least: good", quantity=quantity, value=shown(value))
        if quantity in SCORE_QUANTITIES and not isinstance(value, int):
            raise coded_error("E133", "{quantity} is compared with a whole number, not {value}",
                              "write a whole number on the criteria's scale, e.g. below: 2 or at_least: 10",
                              quantity=quantity, value=shown(value))
        if not wants_level and bound != "is" and not isinstance(value, int):
            raise coded_error("E133", "{quantity} is a count: {bound} takes a whole number, not {value}",
                              f"write a whole number, e.g. {bound}: 1, or is: <quantifier> for a fraction",
                              quantity=quantity, bound=bound, value=shown(value))
        if bound == "is" and quantity not in COUNT_QUANTITIES + ("factors_present",):
            # Sub-areas may be ungraded in a case, so their count has no fixed denominator.
            raise coded_error("E133", "{quantity} cannot take a quantifier (is:); use at_least or at_most",
                              "count sub-areas with a whole number, e.g. at_most: 1", quantity=quantity)
        if isinstance(value, int) and value < 0:
            raise coded_error("E133", "a {what} bound cannot be negative ({value})", "write 0 or more",
                              what="score" if quantity in SCORE_QUANTITIES else "count", value=shown(value))
        return self

    @property
    def whole_bound(self) -> tuple[str, int]:
        """A whole-number bound as at_least, at_most or exactly: below N is at most N - 1, above N
        at least N + 1 (scores and counts are whole numbers)."""
        bound, value = self.bound
        if bound == "below":
            return "at_most", value - 1
        if bound == "above":
            return "at_least", value + 1
        return bound, value

    def _bound_value(self, name: str):
        return self.is_ if name == "is" else getattr(self, name)

    @property
    def quantity(self) -> str:
        return next(q for q in QUANTITIES if getattr(self, q) is not None)

    @property
    def bound(self) -> tuple[str, object]:
        return next((b, self._bound_value(b)) for b in BOUNDS if self._bound_value(b) is not None)


class GradeRule(Model):
    level: Id
    id: Optional[Id] = None  # needed where a level is reached by more than one rule (alternatives)
    builds_on: Optional[Id] = None
    when: tuple[Condition, ...] = Field(min_length=1)
    source: Optional[Citation] = None
    note: Optional[Text] = None


def rule_name(rule: GradeRule) -> str:
    """How a grade rule is named in rule ids and messages: its id, or its level when it has none."""
    return rule.id or rule.level


class _Bound(Model):
    """A limiter or floor: when every condition holds, the grade is bounded."""

    id: Id
    when: tuple[Condition, ...] = Field(min_length=1)
    description: Text
    choice: Optional[Text] = None
    source: Optional[Citation] = None


class Limiter(_Bound):
    cap: Id  # the grade is at most this level
    absolute: Bool = False  # no recorded professional judgement lifts the grade above the cap


class Floor(_Bound):
    floor: Id  # the grade is at least this level


HIT_POLICIES = ("unique", "first", "worst", "best")


class HitPolicy(Model):
    """What decides when the rules of two grades hold at once (criteria/README.md):
    unique - at most one may hold; when two do, the outcome is professional judgement;
    first - the rule written first in `grades` that holds gives the grade;
    worst, best - the lowest, or highest, grade whose rule holds."""

    policy: Literal["unique", "first", "worst", "best"]
    choice: Optional[Text] = None
    source: Optional[Citation] = None


class Undecided(Model):
    """What happens when no grade rule decides: the file must say, never a silent default."""

    outcome: Literal["professional_judgement"]
    reason: Text
    source: Optional[Citation] = None


class Comparability(Model):
    """Whether grades under this framework may be compared with another framework's."""

    statement: Text  # what the source says about comparing grades, verbatim where it can be
    source: Optional[Citation] = None
    comparable_with: dict[PathId, dict[Id, Id]] = {}  # framework -> mapping of their levels onto ours


# --- reviewed lint exceptions -------------------------------------------------------------

# Stable codes of `arbiter lint`'s findings (engine/lint/findings.py re-exports this table); a
# code never changes meaning once published. criteria/README.md ("Lint") documents each.
LINT_CODES: dict[str, str] = {
    "L201": "grade-rules-overlap",
    "L202": "no-grade-rule-holds",
    "L203": "grade-unreachable",
    "L204": "limiter-never-applies",
    "L205": "floor-never-applies",
    "L206": "condition-always-holds",
    "L207": "condition-never-holds",
    "L208": "too-large-to-enumerate",
    "L210": "choice-disagrees-with-quantifier",
    "L211": "changed-without-new-version",
    "L212": "criterion-read-by-no-grade",
    "L213": "unused-exception",
}


def _lint_code(value: str) -> str:
    if value not in LINT_CODES:
        raise coded_error("E113", "unknown lint code {value}", f"write one of {', '.join(LINT_CODES)}",
                          value=shown(value))
    return value


class LintException(Model):
    """A lint finding reviewed and accepted on purpose: `arbiter lint` reports it as accepted,
    with the reason, and does not fail on it. An exception no finding matches is itself a
    finding (L213), so a stale one is seen."""

    code: Annotated[str, Strict(), AfterValidator(_lint_code)]
    about: Optional[Text] = None  # the id the finding is about; none: every finding of the code
    reason: Text


# Reviewed exceptions say nothing about how a case is graded, so the canonical form leaves them
# out (canonical.UNGRADED_FIELDS), and with it the criteria's hash: adding one does not change a
# compiled ruleset or a decision record.
LintExceptions = tuple[LintException, ...]


class Framework(Model):
    arbiter: Literal["framework"]
    id: PathId
    title: Text
    version: Text
    scale: Id
    source: Optional[Citation] = None
    tiers: dict[Id, Described] = {}
    flags: dict[Id, Described] = {}
    factors: dict[Id, Described] = {}
    quantifiers: dict[Id, Quantifier] = {}
    afi_qualifiers: tuple[Id, ...] = ()  # the inspectorate's words for how often a weakness was seen
    carried_over: Literal["counted", "excluded"] = "excluded"  # sub-area grades from an earlier inspection
    grades: tuple[GradeRule, ...] = ()  # empty: the source publishes no rule, so every case is undecided
    hit_policy: HitPolicy = HitPolicy(policy="unique")  # when two grades' rules hold
    limiters: tuple[Limiter, ...] = ()
    floors: tuple[Floor, ...] = ()
    undecided: Undecided
    comparability: Optional[Comparability] = None
    lint: LintExceptions = ()  # reviewed lint exceptions, for every criteria set of the framework


# --- criteria sets ----------------------------------------------------------------------

class ScoreScale(Model):
    """A criterion assessed as a whole number on a scale (1 to 4) rather than met or not met."""

    min: Int
    max: Int
    labels: tuple[Text, ...] = ()  # optional: a word for each score from min to max, in order

    @model_validator(mode="after")
    def _ordered(self):
        if self.min < 0 or self.max <= self.min:
            raise coded_error("E113", "a score scale runs from a whole number min of 0 or more up to a larger max "
                                      "(given min {low}, max {high})", "write e.g. scored: {min: 1, max: 4}",
                              low=shown(self.min), high=shown(self.max))
        if self.labels and len(self.labels) != len(self.values):
            raise coded_error("E113", "a score scale from {low} to {high} has {count} scores, but {given} labels",
                              "give one label per score, lowest first, or none", low=shown(self.min),
                              high=shown(self.max), count=str(len(self.values)), given=str(len(self.labels)))
        return self

    @property
    def values(self) -> range:
        return range(self.min, self.max + 1)


class Criterion(Model):
    id: Id
    tier: Id
    flags: tuple[Id, ...] = ()
    text: Text
    sources: tuple[Citation, ...] = ()
    scored: Optional[ScoreScale] = None  # its finding is a score on this scale, not met or not met


class ExclusiveGroup(Model):
    """Criteria of which at most one (or, with exactly_one, exactly one) may be met in a case:
    one rating per key question."""

    id: Id
    criteria: tuple[Id, ...]
    exactly_one: Bool = False
    source: Optional[Citation] = None


def group_breach(exactly_one: bool, values: list) -> Optional[str]:
    """How a group's findings (in its order; None for a member with no finding) break it:
    "several met", "none met" (exactly_one, and some member assessed), or None when they keep
    it. The case check (E128) and the margin's choice of changes both ask this."""
    if values.count("met") > 1:
        return "several met"
    if exactly_one and "met" not in values and any(v not in (None, "not_assessed") for v in values):
        return "none met"
    return None


class Subgrade(Model):
    id: Id
    title: Text
    source: Optional[Citation] = None


class CriteriaSet(Model):
    arbiter: Literal["criteria"]
    id: PathId
    framework: PathId
    title: Text
    source: Optional[Citation] = None
    derived: Bool = False
    graded: Bool = True  # false: inspected, findings recorded, but no grade is given
    note: Optional[Text] = None
    criteria: tuple[Criterion, ...] = ()
    subgrades: tuple[Subgrade, ...] = ()
    exclusive: tuple[ExclusiveGroup, ...] = ()
    lint: LintExceptions = ()  # reviewed lint exceptions for this criteria set

    def scale_of(self, criterion_id: str) -> Optional[ScoreScale]:
        """The score scale of a scored criterion; None for a yes/no criterion or an unknown id."""
        return next((c.scored for c in self.criteria if c.id == criterion_id), None)


# --- evidence ---------------------------------------------------------------------------

class Finding(Model):
    criterion: Id
    finding: Optional[Literal["met", "not_met", "not_assessed"]] = None
    score: Optional[Int] = None  # for a scored criterion: a whole number on its scale
    cites: tuple[Citation, ...] = ()
    note: Optional[Text] = None

    @model_validator(mode="after")
    def _finding_or_score(self):
        if self.finding is None and self.score is None:
            raise coded_error("E111", "a finding needs finding: (met, not_met or not_assessed) or, for a scored "
                                      "criterion, score: N", "add finding: met, or score: 3")
        if self.finding is not None and self.score is not None:
            raise coded_error("E113", "a finding is either finding: {finding} or score: {score}, not both",
                              "keep score: N for a scored criterion that was assessed, or finding: not_assessed",
                              finding=self.finding, score=shown(self.score))
        return self

    @property
    def value(self) -> Union[str, int]:
        """What was found: met, not_met or not_assessed, or a score."""
        return self.finding if self.score is None else self.score


class Expect(Model):
    outcome: Id
    source: Optional[Citation] = None
    note: Optional[Text] = None


class SubgradeEntry(Model):
    """A sub-area's grade with where it came from; a bare level id means inspected now.

    A sub-area may instead name the decision it takes its grade from: `decision: <case id>`
    (decided in the same run) or `decision_id: <id>` (recorded in the ledger). Once that decision
    is taken (inspections/graph.py), the entry holds its outcome as the grade with both links and
    the hash of its record, which is what the dependent decision's evidence hash covers."""

    grade: Optional[Id] = None  # None only when ungraded, or before an input decision is taken
    provenance: Literal["inspected", "carried_over", "ungraded"] = "inspected"
    carried_from: Optional[Text] = None  # e.g. "PEEL 2017 effectiveness"
    year: Optional[Int] = None
    source: Optional[Citation] = None
    decision: Optional[PathId] = None  # the case whose decision gives the grade
    decision_id: Optional[Text] = None  # that decision's id (written, or filled in once it is taken)
    record_sha256: Optional[Text] = None  # filled in with the grade: the hash of the input's record

    @property
    def is_input(self) -> bool:
        """True when the grade is taken from another decision."""
        return self.decision is not None or self.decision_id is not None

    @model_validator(mode="after")
    def _grade_matches_provenance(self):
        if self.is_input:
            return self._input_is_whole()
        if self.grade is None and self.provenance != "ungraded":
            raise coded_error("E113", "a sub-area {provenance} needs a grade",
                              "add grade: <level>, or write provenance: ungraded",
                              provenance=_PROVENANCE[self.provenance])
        if self.grade is not None and self.provenance == "ungraded":
            raise coded_error("E113", "an ungraded sub-area has no grade (given {grade})",
                              "remove the grade, or give the provenance it was graded in", grade=shown(self.grade))
        if self.provenance == "carried_over" and (self.carried_from is None or self.year is None):
            raise coded_error("E111", "a carried-over grade needs carried_from and year",
                              "add carried_from: <inspection> and year: <year>")
        return self

    def _input_is_whole(self):
        if self.provenance != "inspected" or self.carried_from is not None or self.year is not None:
            raise coded_error("E113", "a sub-area taken from a decision is graded in this inspection",
                              "remove provenance, carried_from and year, or give the grade by hand")
        if self.grade is None and self.decision is not None and self.decision_id is not None:
            raise coded_error("E113", "a sub-area takes its grade from one decision, not from both a case "
                                      "and a recorded decision", "keep decision: <case id> or decision_id: <id>")
        return self


_PROVENANCE = {"inspected": "inspected now", "carried_over": "carried over"}


class Concern(Model):
    text: Text
    cites: tuple[Citation, ...] = ()


class AreaForImprovement(Model):
    text: Text
    qualifier: Optional[Id] = None  # e.g. often, sometimes, rarely: declared by the framework
    cites: tuple[Citation, ...] = ()


class Override(Model):
    """A recorded professional judgement that departs from the rules' outcome."""

    outcome: Id
    rationale: Text
    by: Text
    source: Optional[Citation] = None


class Case(Model):
    arbiter: Literal["case"]
    id: PathId
    criteria: PathId
    subject: Text
    period: Optional[Text] = None
    constructed: Bool
    note: Optional[Text] = None
    factors: dict[Id, Bool] = {}
    subgrades: dict[Id, Annotated[Union[Id, SubgradeEntry], Field(union_mode="left_to_right")]] = {}
    findings: tuple[Finding, ...] = ()
    causes_of_concern: tuple[Concern, ...] = ()
    areas_for_improvement: tuple[AreaForImprovement, ...] = ()
    override: Optional[Override] = None
    expect: Optional[Expect] = None

    def subgrade(self, sub_id: str) -> SubgradeEntry:
        entry = self.subgrades[sub_id]
        return SubgradeEntry(grade=entry) if isinstance(entry, str) else entry


MODELS: dict[str, type[Model]] = {
    "scale": Scale,
    "framework": Framework,
    "criteria": CriteriaSet,
    "case": Case,
}


# --- what a selection picks, for the checks and the compiler alike ---------------------------

def select_criteria(cs: CriteriaSet, sel: Selection) -> list[str]:
    wanted_flags = set(sel.flags) | ({sel.flag} if sel.flag else set())
    return [c.id for c in cs.criteria
            if (sel.tier is None or c.tier == sel.tier)
            and wanted_flags <= set(c.flags)
            and (not sel.ids or c.id in sel.ids)]


def select_subgrades(cs: CriteriaSet, of: tuple[str, ...] | None) -> list[str]:
    return [s.id for s in cs.subgrades if of is None or s.id in of]


def counted_criteria(cs: CriteriaSet, quantity: str, sel: Selection) -> list[str]:
    """The criteria a quantity ranges over: a score sum the selection's scored criteria, a count
    its yes/no criteria (a scored criterion is never met or not met)."""
    scored = quantity == "score_sum"
    by_id = {c.id: c for c in cs.criteria}
    return [cid for cid in select_criteria(cs, sel) if (by_id[cid].scored is not None) == scored]


def may_select_none(loc: tuple, cond: "Condition") -> bool:
    """A limiter or floor that needs at least one criterion of a kind may find none in a set,
    and then never applies there: HMIC 2007 caps a failed critical criterion at Poor, but a
    report that calls nothing in an area critical gives that area no critical criterion, and
    none is invented to fill the selection."""
    bound, value = cond.whole_bound if cond.bound[0] != "is" else cond.bound
    return loc[0] in ("limiters", "floors") and bound == "at_least" and value >= 1
