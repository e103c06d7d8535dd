"""The unit of work: one database transaction that rolls back unless the service commits it."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from services.errors import ValidationError


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


def unstorable(text: str) -> bool:
    """A NUL or a lone surrogate (a half of a UTF-16 pair) cannot be stored as UTF-8 text."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse_unstorable_text(session: Session, _context, _instances) -> None:
    """Last line of defence for every service: a text the database cannot store is refused with a French
    message before anything is written, instead of failing inside the driver halfway through a commit. So is a
    character services.text_rules refuses (control, bidi, invisible) that a service forgot to check: here the
    field's kind is unknown, so a newline or a tab passes (notes), except in a key. A stored row is only checked
    in the values being changed: an older text does not block every later edit of its record."""
    from services import text_rules  # imported here: text_rules has no dependency, uow is imported everywhere

    new = session.new
    for record in (*new, *session.dirty):
        state = inspect(record)
        for attribute in state.mapper.column_attrs:
            value = getattr(record, attribute.key, None)
            if not isinstance(value, str):
                continue
            if unstorable(value):
                raise ValidationError(
                    f"Le texte saisi ({attribute.key}) contient un caractère invalide (caractère nul ou isolé) : "
                    "retirez-le avant d'enregistrer.", field=attribute.key)
            if record not in new and not state.attrs[attribute.key].history.has_changes():
                continue
            kind = text_rules.KEY if attribute.key == "key" else text_rules.TEXT
            problem = text_rules.character_problem(value, kind)
            if problem:
                raise ValidationError(f"Le texte saisi ({attribute.key}) {problem} avant d'enregistrer.",
                                      field=attribute.key)


def unit_of_work_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    event.listen(factory, "before_flush", _refuse_unstorable_text)
    return lambda: UnitOfWork(factory)
