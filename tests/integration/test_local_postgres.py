"""The benchmarks' throwaway PostgreSQL (run/postgres.py): it starts, serves, and leaves nothing."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy
from mlops_orchestrator.run.postgres import _SEARCH_PATH, LocalPostgres, PostgresError

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("initdb", path=_SEARCH_PATH) is None, reason="PostgreSQL is not installed")
def test_a_throwaway_postgres_serves_its_database_and_is_removed_on_stop():
    with LocalPostgres() as postgres:
        assert postgres.url.startswith(f"postgresql+psycopg2://{postgres.user}@127.0.0.1:{postgres.port}/airflow")
        engine = sqlalchemy.create_engine(postgres.url)
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("select current_database()")).scalar() == "airflow"
        engine.dispose()
        folder = postgres.folder
        assert postgres.pid > 0
    assert not folder.exists()


def test_a_missing_program_is_named_with_what_to_install(monkeypatch):
    monkeypatch.setattr("mlops_orchestrator.run.postgres._SEARCH_PATH", "/nonexistent")
    postgres = LocalPostgres()
    try:
        with pytest.raises(PostgresError, match=r"initdb not found: install PostgreSQL"):
            postgres.start()
    finally:
        shutil.rmtree(postgres.folder, ignore_errors=True)
