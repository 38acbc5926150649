"""The heat map's colours: a colour-blind-safe diverging palette (ColorBrewer's PuOr, five
classes: orange for low ratings, purple for high), each with the text colour that reads on
it. The contrast of each pair is at least 4.5 (WCAG AA for normal text); the browser tests
compute it from these values.
"""

from __future__ import annotations

from typing import Optional

# tone -> (background, text), lowest rating first
TONES: tuple[tuple[str, str], ...] = (
    ("#e66101", "#000000"),
    ("#fdb863", "#000000"),
    ("#f7f7f7", "#000000"),
    ("#b2abd2", "#000000"),
    ("#5e3c99", "#ffffff"),
)


def tone_of(value: Optional[int], values: list[int]) -> str:
    """The tone class of a rating on a scale of the given values: the five tones spread over
    the scale's range, lowest to highest; 'none' for a rating the scale does not have."""
    if value is None or value not in values:
        return "none"
    if len(values) == 1:
        return f"t{len(TONES) // 2}"
    position = values.index(value) / (len(values) - 1)
    return f"t{round(position * (len(TONES) - 1))}"


def stylesheet_rules() -> str:
    """The CSS for each tone class, written from TONES so the two never disagree."""
    return "\n".join(f".t{index} {{ background: {back}; color: {text}; }}" for index, (back, text) in enumerate(TONES))
