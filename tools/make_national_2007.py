"""Write cases/national-2007/: 43 force records per 2007 area whose grades reproduce the
published national distribution (000:635-655), Kent's own six among them.

Kent's records are copied from cases/kent-2007/ (ids changed). The other 42 per area are
constructed: findings are drawn, with a fixed seed, to reach each grade the table needs,
and every record is scored through the engine before it is written, so a file that does
not reach its grade is never produced. Run from the project root:

    python tools/make_national_2007.py
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
import shutil
from pathlib import Path

from engine.inspections.cases import load_case, score
from engine.language.catalog import Catalog
from engine.language.criteria import load_criteria
from engine.language.load import dump_yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "cases" / "national-2007"
GRADES = ("excellent", "good", "fair", "poor")
# Excellent, Good, Fair, Poor for each area, with the table's lines (000:641-655).
PUBLISHED = {
    "neighbourhood-policing": ((6, 14, 21, 2), "000:641"),
    "performance-management": ((6, 29, 8, 0), "000:645"),
    "child-abuse": ((3, 17, 21, 2), "000:649"),
    "domestic-violence": ((1, 13, 27, 2), "000:651"),
    "public-protection": ((2, 16, 23, 2), "000:653"),
    "missing-persons": ((1, 21, 21, 0), "000:655"),
}


def findings_for(grade: str, criteria, rng: random.Random, well_short: Fraction) -> tuple[dict[str, str], dict[str, bool]]:
    """Findings that reach `grade` under the HMIC 2007 framework, with some variety (well_short:
    the share of Fair criteria not met that the framework reads as 'a significant number')."""
    fair = [c for c in criteria if c.tier == "fair"]
    good = [c for c in criteria if c.tier == "good"]
    met = {c.id: "met" for c in criteria}
    factors = {"beacon": False, "evaluated_innovation": False}
    if grade == "excellent":
        factors = {"beacon": True, "evaluated_innovation": True}
    elif grade == "good":
        factors = {"beacon": rng.random() < 0.3, "evaluated_innovation": False}
        for c in rng.sample(good, k=rng.randint(0, (len(good) - 1) // 2)):
            met[c.id] = "not_met"
    elif grade == "fair":
        plain = [c for c in fair if "significant" not in c.flags]
        for c in rng.sample(plain, k=rng.randint(1, len(plain))):
            met[c.id] = "not_met"
        for c in rng.sample(good, k=rng.randint(0, len(good))):
            met[c.id] = "not_met"
    else:  # poor: a critical criterion not met where the area has one, else well short of the Fair criteria
        critical = [c for c in fair if "critical" in c.flags]
        if critical:
            met[rng.choice(critical).id] = "not_met"
        else:
            significant = [c for c in fair if "significant" in c.flags]
            missed = [rng.choice(significant)]
            missed += rng.sample([c for c in fair if c not in missed], k=math.ceil(well_short * len(fair)) - 1)
            for c in missed:
                met[c.id] = "not_met"
    return met, factors


def constructed_case(area: str, number: int, grade: str, criteria, rng: random.Random, well_short: Fraction) -> dict:
    met, factors = findings_for(grade, criteria, rng, well_short)
    return {
        "arbiter": "case",
        "id": f"national-2007/{area}/force-{number:02d}",
        "criteria": f"hmic-2007/{area}",
        "subject": f"Constructed force {number:02d}",
        "period": "April 2006 to July 2007",
        "constructed": True,
        "note": ("Constructed: one of 43 force records whose grades reproduce the published national "
                 f"distribution for this area ({PUBLISHED[area][1]}); not a real force's findings."),
        "factors": factors,
        "findings": [{"criterion": c.id, "finding": met[c.id]} for c in criteria],
        "expect": {"outcome": grade, "note": f"the national table needs this many forces at this grade ({PUBLISHED[area][1]})"},
    }


def write_area(catalog: Catalog, area: str, rng: random.Random) -> None:
    folder = OUT / area
    folder.mkdir(parents=True, exist_ok=True)
    kent = ROOT / "cases" / "kent-2007" / f"{area}.yaml"
    kent_copy = folder / "kent.yaml"
    kent_copy.write_text(kent.read_text(encoding="utf-8").replace(
        f"id: kent-2007/{area}", f"id: national-2007/{area}/kent"), encoding="utf-8")
    kent_grade = score(load_case(kent_copy, catalog))["outcome"]
    counts = dict(zip(GRADES, PUBLISHED[area][0]))
    counts[kent_grade] -= 1
    loaded = load_criteria(catalog, f"hmic-2007/{area}")
    criteria = loaded.criteria.model.criteria
    well_short = Fraction(str(loaded.framework.model.quantifiers["significant_number"].bound[1]))
    number = 0
    for grade in GRADES:
        for _ in range(counts[grade]):
            number += 1
            path = folder / f"force-{number:02d}.yaml"
            path.write_text(dump_yaml(constructed_case(area, number, grade, criteria, rng, well_short)), encoding="utf-8")
            reached = score(load_case(path, catalog))["outcome"]
            if reached != grade:
                path.unlink()
                raise SystemExit(f"{path}: reached {reached}, not {grade}")


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    catalog = Catalog(ROOT)
    rng = random.Random(2007)
    for area in PUBLISHED:
        write_area(catalog, area, rng)
    print(f"wrote {sum(1 for _ in OUT.rglob('*.yaml'))} records under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
