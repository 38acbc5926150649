"""Shared fixtures: the project's own catalog, and hypothesis settings for the laws (`laws`, the
default) and for the mutation run (`mutation`, chosen with `--hypothesis-profile=mutation`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from engine.language.catalog import Catalog

from . import postgres_cluster as pg

ROOT = Path(__file__).resolve().parent.parent

settings.register_profile("laws", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The mutation run (tools/mutation) runs the laws once per mutant: fewer examples, drawn the
# same way every time, so its figures can be measured again.
settings.register_profile("mutation", max_examples=25, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.load_profile("laws")


def _catalog_scope(fixture_name: str, config: pytest.Config) -> str:
    """One catalog for the whole session, but one per test in the mutation run: a catalog keeps
    what it compiled, and mutmut tries a mutant only against the tests that called the mutated
    function, so with a shared catalog a mutant in the compiler would meet only the first test
    that compiled each criteria set."""
    return "function" if config.getoption("hypothesis_profile", None) == "mutation" else "session"


@pytest.fixture(scope=_catalog_scope)
def catalog() -> Catalog:
    return Catalog(ROOT)


# --- a real PostgreSQL server for the ledger tests (tests/postgres_cluster.py) --------------

@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL server for the session, with a template database holding the
    ledger's schema and a login role in each of the ledger's group roles (postgres_cluster.LOGINS).
    Without PostgreSQL installed the tests that need it fail, saying how to install it."""
    try:
        cluster = pg.start(pg.cluster_folder())
    except pg.ClusterUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        pg.prepare_template(cluster)
        yield cluster
    finally:
        cluster.stop()
        pg.remove_folder(cluster.folder)


@pytest.fixture
def postgres_ledger_url(postgres_cluster):
    """A fresh database holding the ledger's schema and no entry, as the superuser's URL."""
    database = pg.create_database(postgres_cluster)
    yield postgres_cluster.url_for(database)
    pg.drop_database(postgres_cluster, database)
