import gc
import os
import shutil
import sys
from pathlib import Path

# Headless Qt for every test; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402

from models.db import make_engine, migrate  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402

DATA = Path(__file__).parent / "data"
TESTS = Path(__file__).resolve().parent
pytest_plugins = ["tests.postgres"]  # postgres_server (session) and postgres_url (a fresh database per test)

# The service tests run on both stores. Every test of tests/*.py and tests/billing/*.py that takes a store through
# `db_path` (so also `engine`, `uow`, `programme`) runs twice, as test[sqlite] and test[postgresql]: on PostgreSQL
# `db_path` is the URL of a new database, a copy of a template built once per session (migrated; with the example
# programme when the test takes `programme`), dropped after the test. Without PostgreSQL the [postgresql] half is
# skipped with « PostgreSQL absent : … » (failed when PARCOURS_TEST_POSTGRES_REQUIRED=1, as in CI). A test that
# is about the SQLite file itself carries `@pytest.mark.sqlite_only("why")` and runs once, on SQLite. A test whose
# outcome cannot depend on the store (a rule decided in Python before any SQL, a call whose SQL another test runs on
# PostgreSQL) carries `@pytest.mark.one_store("why, and where that SQL runs on PostgreSQL")`: also once, on SQLite;
# on 2 cores each PostgreSQL test costs the time of several. The window's tests (tests/ui) use the desktop's store:
# SQLite only.
BACKENDS = ("sqlite", "postgresql")
BOTH_STORES = (TESTS, TESTS / "billing")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): about the SQLite file itself; not run on PostgreSQL")
    config.addinivalue_line("markers", "one_store(reason): cannot depend on the store (the reason says why, and "
                                       "where its SQL runs on PostgreSQL); run once, on SQLite")


def pytest_collection_finish(session):
    """Everything the tests import is imported by now (the application, Qt, SQLAlchemy's caches): frozen, it is left
    out of every later garbage collection, the window tests' own included (tests/ui/conftest.py), which would
    otherwise walk those hundreds of thousands of objects after each test."""
    gc.collect()
    gc.freeze()


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames or Path(metafunc.definition.path).parent not in BOTH_STORES:
        return
    for name in ("sqlite_only", "one_store"):
        marker = metafunc.definition.get_closest_marker(name)
        if marker is not None:
            if not (marker.args or marker.kwargs.get("reason")):
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: {name} needs a reason")
            return
    # Module scope: a module's template (tests/both_stores.py) is built once per store, its tests grouped by store.
    metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend(request) -> str:
    """The store under test: "sqlite" (the default) or "postgresql" (see BACKENDS above)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(request, backend, tmp_path):
    """Where the test's store is: a SQLite file's path (not yet created), or a PostgreSQL database's URL (migrated)."""
    if backend == "sqlite":
        yield str(tmp_path / "parcours.sqlite")
        return
    databases = request.getfixturevalue("postgres_databases")
    if "programme" in request.fixturenames:
        from tests.programme_fixture import build_example

        name = databases.clone("example", build_example)
    else:
        name = databases.clone("migrated")
    yield databases.url(name)
    databases.drop(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session: `engine` starts from a copy of it instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.sqlite"
    engine = make_engine(str(path))
    migrate(engine)
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file (and removes it)
    return path


@pytest.fixture(scope="session")
def sqlite_example_template(sqlite_template, tmp_path_factory) -> Path:
    """The migrated template with the example programme imported once per session: `programme` starts from a copy
    (a hundredth of a second) instead of importing it again for each test (two thirds of a second)."""
    from tests.programme_fixture import import_example

    path = tmp_path_factory.mktemp("sqlite-example") / "example.sqlite"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(str(path))
    try:
        import_example(unit_of_work_factory(engine))
    finally:
        engine.dispose()
    return path


@pytest.fixture
def engine(request, backend, db_path):
    """An engine on the test's store, migrated (a copy of a migrated template on either store; with the example
    programme already in it when the test takes `programme`)."""
    if backend == "sqlite" and not Path(db_path).exists():
        template = "sqlite_example_template" if "programme" in request.fixturenames else "sqlite_template"
        shutil.copyfile(request.getfixturevalue(template), db_path)
    engine = make_engine(db_path)
    migrate(engine)  # a no-op on the copy: it checks the revision
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine):
    """A factory of units of work on a fresh, migrated temporary database."""
    return unit_of_work_factory(engine)


# PySide6 6.12 can crash while the interpreter finalizes (« bool_dealloc: deallocating True or False », exit 134)
# after every test has passed, with some sets of Qt test files: the result is known by then, so leave without
# finalizing, keeping pytest's exit status (its summary is already printed, its files closed).
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _EXIT_STATUS and "PySide6.QtCore" in sys.modules:
        config.get_terminal_writer().flush()  # pytest's summary line, written through its own buffered file
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
