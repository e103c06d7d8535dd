import os
import sys
from pathlib import Path

# Headless Qt for every test; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest  # noqa: E402

from models.db import make_engine, migrate  # noqa: E402
from services.uow import unit_of_work_factory  # noqa: E402

DATA = Path(__file__).parent / "data"
pytest_plugins = ["tests.postgres"]  # postgres_server (session) and postgres_url (a fresh database per test)


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "parcours.sqlite")


@pytest.fixture
def engine(db_path):
    engine = make_engine(db_path)
    migrate(engine)
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
