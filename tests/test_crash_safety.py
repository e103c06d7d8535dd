"""A writer killed with SIGKILL at random moments never corrupts the file, never loses a session whose commit it
had acknowledged, and never leaves half a transaction behind (see crash_worker.py for the mechanics)."""
import os
import random

import pytest

from crash_worker import CrashHarness, inspect_file, prepare_database
from models.db import make_engine
from services.dataset import export_dataset
from services.permissions import SYSTEM
from services.uow import unit_of_work_factory

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() and SIGKILL (POSIX)")

KILLS = 200
BATCH = 5  # home sessions (and as many audit entries) per transaction
MAX_DELAY = 0.04  # seconds between the start of a writer and its death: a few transactions at most
# One round in ten lives longer: on a loaded machine (CI's 2 cores) a writer may not commit within MAX_DELAY at all,
# and kills that all land before the first commit would prove nothing about acknowledged batches.
LONG_DELAY = 0.4


def test_sigkill_at_random_moments_keeps_the_file_intact_every_acknowledged_batch_and_no_half_batch(tmp_path):
    db = str(tmp_path / "crash.sqlite")
    prepare_database(db)
    rng = random.Random(20261123)
    acknowledged: set[str] = set()
    killed = 0
    with CrashHarness(db, BATCH) as harness:
        for n in range(KILLS):
            round_ = harness.kill_after(rng.uniform(0.0, LONG_DELAY if n % 10 == 9 else MAX_DELAY))
            killed += round_.killed
            acknowledged.update(round_.acknowledged)
            state = inspect_file(db)
            assert state.integrity == "ok", f"after kill {n + 1}"
            missing = acknowledged - state.batches.keys()
            assert not missing, f"after kill {n + 1}: acknowledged batches lost: {sorted(missing)[:3]}"
            partial = {batch: count for batch, count in state.batches.items() if count != BATCH}
            assert not partial, f"after kill {n + 1}: half-written transactions {partial}"
            assert state.audited == state.batches, f"after kill {n + 1}: sessions and audit entries disagree"
    assert killed == KILLS  # every writer died of our SIGKILL, none stopped on its own
    assert acknowledged, "no kill landed after a commit: the test would prove nothing"

    engine = make_engine(db)  # the application still reads the file as a whole
    exported = export_dataset(unit_of_work_factory(engine)(), SYSTEM)
    engine.dispose()
    assert len(exported["sessions"]) == 4 + BATCH * len(state.batches)
