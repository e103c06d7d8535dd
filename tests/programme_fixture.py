"""A small programme for service and window tests: the example dataset, with handles on its records."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Convention, Family, Intervenant
from services.dataset import import_dataset, parse_json
from services.directory import CurrentUser, list_users

EXAMPLE = Path(__file__).parent / "data" / "example_dataset.json"


@dataclass(frozen=True)
class Programme:
    uow: object  # the unit-of-work factory
    referent: CurrentUser  # Claire Martin, follows F1 and F2
    coordinator: CurrentUser
    administrator: CurrentUser
    family: dict  # key -> id
    intervenant: dict  # key -> id
    convention: dict  # key -> id


def import_example(uow) -> None:
    import_dataset(uow(), parse_json(EXAMPLE.read_bytes()))


def build_example(url: str) -> None:
    """The example dataset in the (migrated) database at `url`: a template for `programme` on PostgreSQL."""
    from models.db import make_engine
    from services.uow import unit_of_work_factory

    engine = make_engine(url)
    try:
        import_example(unit_of_work_factory(engine))
    finally:
        engine.dispose()


def load_example(uow) -> Programme:
    import_example(uow)
    return example_handles(uow)


def example_handles(uow) -> Programme:
    """The handles on a store that already holds the example dataset."""
    users = {u.key: u for u in list_users(uow())}
    with uow() as w:
        ids = lambda model: {r.key: r.id for r in w.session.scalars(select(model))}  # noqa: E731
        family, intervenant, convention = ids(Family), ids(Intervenant), ids(Convention)
    return Programme(uow, users["ref-martin"], users["coord-durand"], users["admin-petit"], family, intervenant,
                     convention)


@pytest.fixture
def programme(uow) -> Programme:
    return example_handles(uow)  # on either store, a copy of a template that already holds the example (conftest)


def add_family(programme: Programme, key: str, name: str, referent_id: str | None = None) -> str:
    """A family outside the example dataset (no orientation yet); returns its id."""
    with programme.uow() as w:
        family = Family(key=key, name=name, commune="Bourg-en-Bresse", referent_id=referent_id)
        w.session.add(family)
        w.commit()
        return family.id
