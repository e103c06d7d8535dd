"""The unit of work: one database transaction that rolls back unless the service commits it."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    """Use as `with uow: ...; uow.commit()`. Each `with` opens a fresh session; leaving it without
    commit (or on an exception) rolls everything back, so nothing is ever half-written."""

    def __init__(self, session_factory: Callable[[], Session]):
        self._session_factory = session_factory
        self.session: Session | None = None

    def __enter__(self) -> "UnitOfWork":
        if self.session is not None:
            raise RuntimeError("unit of work already in use")
        self.session = self._session_factory()
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of_work_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    return lambda: UnitOfWork(factory)
