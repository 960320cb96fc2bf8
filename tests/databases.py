"""The databases the store's tests run on: a real SQLite file, PostgreSQL and MariaDB/MySQL.

Each test gets its own empty database: a new SQLite file, a new PostgreSQL schema, a new
MariaDB database, dropped afterwards. The servers are found through
``GOVPOST_TEST_POSTGRES_URL`` and ``GOVPOST_TEST_MYSQL_URL``:

- set (as ``.ci/run`` does): the server must answer, or the test fails;
- unset: the default local URL is tried once; if nothing answers there, the tests of that
  server are skipped with the reason printed (``pytest -rs``).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

#: Backend -> (environment variable, the URL tried when it is unset).
SERVERS = {
    "postgresql": (
        "GOVPOST_TEST_POSTGRES_URL",
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "mysql": ("GOVPOST_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
BACKENDS = ("sqlite", "postgresql", "mysql")


@functools.cache
def _reach(url: str) -> str | None:
    """``None`` if the server at ``url`` answers, else why not."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to connect is the reason
        return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    finally:
        engine.dispose()
    return None


def server_url(backend: str) -> str:
    """The admin URL of ``backend``'s server; fails or skips the test if it is not there."""
    variable, default = SERVERS[backend]
    given = os.environ.get(variable)
    url = given or default
    problem = _reach(url)
    if problem is None:
        return url
    if given:
        pytest.fail(f"{variable}={given} is set but the server does not answer: {problem}")
    pytest.skip(f"{backend} not reachable at {default} ({problem}); set {variable} to run")
    raise AssertionError  # unreachable: skip raises


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a new, empty database on ``backend``; dropped at exit."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin = server_url(backend)
    name = f"gp_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                connection.execute(sa.text(f"CREATE SCHEMA {name}"))
            else:
                connection.execute(
                    sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                )
        base = sa.make_url(admin)
        if backend == "postgresql":
            url = base.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            url = base.set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            if backend == "postgresql":
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            else:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()
