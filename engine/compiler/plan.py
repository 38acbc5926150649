"""Plan: the compiled, engine-neutral form of one criteria set. Frozen; JSON in and out.

A plan has three parts:

- quantities: what the tally stage counts in the evidence (criteria met in a selection,
  factors present, sub-areas at or below a level, the worst sub-area grade, a scored
  criterion's score, the sum of a selection's scores, ...);
- conditions: one quantity compared with one whole-number threshold. Quantifiers such as
  'the vast majority' are turned into thresholds here, exactly, with fractions, because
  the selection sizes are known at compile time;
- stages: first-hit decision tables run in order (level, then floor, then cap, then an
  override when a case records one). Each rule
  needs all its conditions; the first rule of a stage whose conditions hold (and whose
  trigger matches the grade so far) fires and concludes the stage.

Beside them it carries what the margin (runtime/margin.py) needs to propose only valid
evidence: the scales of the scored criteria the quantities read, and the exclusive groups.

The durable-rules evaluator (runtime/) runs the ruleset `compile` derives from the plan; the
oracle (oracle/reference.py) never reads a plan, so a mistake in lowering the criteria to it
shows up as a disagreement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class PlanLevel:
    id: str
    label: str
    rank: int  # 0 is the highest level


@dataclass(frozen=True)
class Quantity:
    id: str
    kind: str  # met | not_met | not_assessed | factors_present | subgrades_at_or_below | ...
    members: tuple[str, ...]  # criterion, factor or sub-area ids counted over
    describe: str  # e.g. "significant fair criteria met"
    level_rank: Optional[int] = None  # for subgrades_at_or_below / _above / subgrades_at


@dataclass(frozen=True)
class ScoreRange:
    """A scored criterion's scale: its finding is a whole number from low to high."""

    criterion: str
    low: int
    high: int


@dataclass(frozen=True)
class PlanGroup:
    """An exclusive group (models.ExclusiveGroup): at most one member met, or with exactly_one
    exactly one unless none is assessed. Validation keeps cases to it; the margin keeps the
    changes it proposes to it."""

    id: str
    members: tuple[str, ...]
    exactly_one: bool = False


@dataclass(frozen=True)
class QuantifierUse:
    name: str
    phrase: str
    bound: str  # at_least | more_than | at_most | less_than
    fraction: str  # exact decimal as written, e.g. "0.8"
    choice: Optional[str] = None
    source: Optional[str] = None


@dataclass(frozen=True)
class PlanCondition:
    id: str
    quantity: str
    op: str  # ">=", "<=" or "==" (exactly)
    threshold: int
    total: int  # how many members the quantity ranges over
    quantifier: Optional[QuantifierUse] = None
    level_bound: Optional[str] = None  # for worst/best sub-area: the level compared with
    choice: Optional[str] = None
    source: Optional[str] = None
    strict: Optional[str] = None  # below | above, as written: below 2 is the threshold <= 1


@dataclass(frozen=True)
class Trigger:
    """What the stage event must say for a rule to fire."""

    decided: Optional[bool] = None  # None: either
    rank_above: Optional[int] = None  # grade so far is better than this rank (rank < n)
    rank_below: Optional[int] = None  # grade so far is worse than this rank (rank > n)


@dataclass(frozen=True)
class PlanRule:
    id: str
    stage: str  # level | floor | cap
    when: tuple[str, ...]  # condition ids, all must hold
    trigger: Trigger
    conclude: str  # a level id, "undecided", "pass" (keep the grade so far), "override" or "not_graded"
    describe: str
    limiter: Optional[str] = None  # the limiter or floor id this rule applies
    source: Optional[str] = None
    choice: Optional[str] = None


@dataclass(frozen=True)
class Plan:
    format: str
    criteria_set: str
    title: str
    framework: str
    framework_version: str
    scale: str
    levels: tuple[PlanLevel, ...]
    quantities: tuple[Quantity, ...]
    conditions: tuple[PlanCondition, ...]
    stages: tuple[str, ...]
    rules: tuple[PlanRule, ...]
    undecided_reason: str
    undecided_source: Optional[str] = None
    criteria_sha256: str = ""
    carried_over: str = "excluded"  # whether sub-area grades carried over from earlier count
    graded: bool = True
    # What decides when two grades' rules hold (models.HitPolicy); plans compiled before hit
    # policies were declared gave the highest grade whose rule holds.
    hit_policy: str = "best"
    hit_policy_choice: Optional[str] = None
    hit_policy_source: Optional[str] = None
    scored: tuple[ScoreRange, ...] = ()  # the scored criteria the quantities read, with their scales
    exclusive: tuple[PlanGroup, ...] = ()  # the criteria set's exclusive groups
    _index: dict = field(default=None, compare=False, repr=False, hash=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        index = {
            "level": {lv.id: lv for lv in self.levels},
            "rank": {lv.rank: lv for lv in self.levels},
            "quantity": {q.id: q for q in self.quantities},
            "condition": {c.id: c for c in self.conditions},
            "rule": {r.id: r for r in self.rules},
            "scored": {s.criterion: s for s in self.scored},
        }
        object.__setattr__(self, "_index", index)

    def counts_subgrade(self, provenance: str) -> bool:
        """Only graded sub-areas count; carried-over ones only when the framework says so."""
        return provenance == "inspected" or (provenance == "carried_over" and self.carried_over == "counted")

    def level(self, level_id: str) -> PlanLevel:
        return self._index["level"][level_id]

    def level_at(self, rank: int) -> PlanLevel:
        return self._index["rank"][rank]

    def quantity(self, quantity_id: str) -> Quantity:
        return self._index["quantity"][quantity_id]

    def condition(self, condition_id: str) -> PlanCondition:
        return self._index["condition"][condition_id]

    def rule(self, rule_id: str) -> PlanRule:
        return self._index["rule"][rule_id]

    def score_range(self, criterion: str) -> Optional[ScoreRange]:
        """The scale of a scored criterion a quantity reads; None for a met/not-met criterion."""
        return self._index["scored"].get(criterion)

    def threshold_words(self, cond: PlanCondition) -> str:
        """A condition's bound as the compiled condition requires it: 'at least 4 of 7', 'below 2'
        (as written; compiled as at most 1), 'good or better'."""
        if cond.level_bound is not None:
            return f"{cond.level_bound} or {'better' if cond.op == '<=' else 'worse'}"
        if cond.strict is not None:
            bound = f"{cond.strict} {cond.threshold + 1 if cond.strict == 'below' else cond.threshold - 1}"
        else:
            bound = f"{ {'>=': 'at least', '<=': 'at most', '==': 'exactly'}[cond.op]} {cond.threshold}"
        counted = self.quantity(cond.quantity).kind not in ("score", "score_sum", "causes_of_concern")
        return f"{bound} of {cond.total}" if counted else bound

    def condition_words(self, cond: PlanCondition) -> str:
        """E.g. 'good criteria met at least 4 of 7'."""
        return f"{self.quantity(cond.quantity).describe} {self.threshold_words(cond)}"

    def stage_rules(self, stage: str) -> list[PlanRule]:
        return [r for r in self.rules if r.stage == stage]

    @property
    def lowest(self) -> PlanLevel:
        return self.levels[-1]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_index")
        # Left out at their defaults, so plans with no scored criterion or exclusive group read as they always have.
        if not self.scored:
            data.pop("scored")
        if not self.exclusive:
            data.pop("exclusive")
        for condition in data["conditions"]:
            if condition["strict"] is None:
                condition.pop("strict")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Plan":
        def cond(c: dict) -> PlanCondition:
            q = c.get("quantifier")
            return PlanCondition(**{**c, "quantifier": QuantifierUse(**q) if q else None})

        def rule(r: dict) -> PlanRule:
            return PlanRule(**{**r, "when": tuple(r["when"]), "trigger": Trigger(**r["trigger"])})

        return cls(
            **{**data,
               "levels": tuple(PlanLevel(**x) for x in data["levels"]),
               "quantities": tuple(Quantity(**{**x, "members": tuple(x["members"])}) for x in data["quantities"]),
               "conditions": tuple(cond(x) for x in data["conditions"]),
               "stages": tuple(data["stages"]),
               "scored": tuple(ScoreRange(**x) for x in data.get("scored", ())),
               "exclusive": tuple(PlanGroup(**{**x, "members": tuple(x["members"])})
                                  for x in data.get("exclusive", ())),
               "rules": tuple(rule(x) for x in data["rules"])})
