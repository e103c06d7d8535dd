"""tests/service_cases.py's programme (`template`, `env`) on both stores: the cases run on SQLite (a copy of the
template file, as service_cases does) and on PostgreSQL (a copy of a template database, built once per session).

Import `env` and `template` from here instead of from tests.service_cases; conftest parametrises them by `backend`.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests import service_cases
from tests.service_cases import Env
from tests.stores import dump_connection


class PostgresEnv(Env):
    """An Env whose store is a PostgreSQL database (`path` is its URL): it reads through its engine."""

    def dump(self) -> dict[str, list[str]]:
        with self.engine.connect() as conn:
            return dump_connection(conn)

    def audit_rows(self) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT id, actor_key, action, record_type, record_key, changed_fields FROM audit_log ORDER BY at, id"))]


def open_postgres_env(url: str) -> PostgresEnv:
    """service_cases.open_env on a database that already is a copy of the template."""
    return service_cases.env_on(make_engine(url), url, PostgresEnv)


@pytest.fixture(scope="module")
def template(request, backend, tmp_path_factory):
    """The programme, built once per test module on SQLite (a file), once per session on PostgreSQL (a database)."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_databases").template("cases", service_cases.build_template)
    path = tmp_path_factory.mktemp("template") / "programme.sqlite"
    service_cases.build_template(path)
    return path


@pytest.fixture
def env(request, backend, template, tmp_path):
    """A copy of the programme for one test."""
    if backend == "sqlite":
        env = service_cases.open_env(template, tmp_path)
        yield env
        env.engine.dispose()
        return
    databases = request.getfixturevalue("postgres_databases")
    name = databases.copy(template)
    env = open_postgres_env(databases.url(name))
    try:
        yield env
    finally:
        env.engine.dispose()
        databases.drop(name)
