"""Shared fixtures: the project's own catalog, and hypothesis settings for the laws."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from engine.language.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile("laws", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("laws")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(ROOT)
