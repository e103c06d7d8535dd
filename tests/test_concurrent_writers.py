"""Two connections writing at once wait their turn: « database is locked » never reaches a user (issue 8)."""
import threading
import time

from sqlalchemy import text

from models.db import make_engine, migrate
from services.uow import unit_of_work_factory


def test_units_that_read_then_write_from_several_threads_all_commit(tmp_path):
    engine = make_engine(str(tmp_path / "busy.sqlite"))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    errors: list[str] = []

    def worker(n: int) -> None:
        for i in range(25):
            try:
                with uow() as w:  # the shape of opening a family file: read, then write an audit row
                    w.session.execute(text("SELECT count(*) FROM partner")).scalar()
                    time.sleep(0.002)
                    w.session.execute(text("INSERT INTO partner (id, key, name, created_at, updated_at) "
                                           "VALUES (:k, :k, :k, '2025-01-01', '2025-01-01')"), {"k": f"{n}-{i}"})
                    w.commit()
            except Exception as exc:  # noqa: BLE001 - the test counts every failure
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM partner")).scalar() == 100
