from datetime import date

import pytest
from PySide6.QtCore import QThreadPool

from tests.programme_fixture import programme  # noqa: F401 - fixture shared with the window tests

TODAY = date(2025, 3, 20)


@pytest.fixture
def today():
    return lambda: TODAY


@pytest.fixture(autouse=True)
def _drain_background_work(qtbot):
    """Let no background job outlive its test (its database is about to be deleted)."""
    yield
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(10)
