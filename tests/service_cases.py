"""Every public service function, with a sample call that succeeds for an allowed user, on a small programme.

Shared by tests/test_permissions.py (who may call what) and tests/test_audit_completeness.py (what each call
writes in the audit log). A new public service function taking a unit of work must get a case here (or be listed
in services.permissions.PRE_LOGIN / INSIDE_CHECKED_WORK): test_permissions fails otherwise.

The programme is the example dataset plus: a second référent (ref-other) who follows F3, F4 and F5, a parcours of
F4's child followed by ref-martin (so ref-martin follows F4 through it, not F3), a family F5 whose parcours closed
in 2023 (past a one-year retention), sessions with notes, a second convention, an EPS meeting with a proposed
orientation, a suspended parcours, and a password for admin-petit so that someone can log in (the store is past its
first start). It is built once and copied for each test.
"""
from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from models import (Child, Convention, EpsMeeting, EpsSituation, Family, Guardian, HomeSession, Intervenant,
                    Orientation, Parcours)
from models.db import make_engine, migrate
from services import (access_export, activity, audit, consent, conventions_admin, devices, directory, family_records,
                      families, home_sessions, orientations, parcours, programme_settings, retention,
                      session_exceptions, statement_names, users)
from services.record_fields import ParcoursDetails
from services.billing import statements
from services import sheet_import
from services import dashboard
from services import reports
from services.dataset import exporter, import_dataset, importer
from services.directory import CurrentUser, list_users
from services.permissions import SYSTEM, allowed
from services.uow import unit_of_work_factory
from services.sync import client as sync_client
from services.sync import server as sync_server

DATA = Path(__file__).parent / "data" / "example_dataset.json"
TODAY = date(2025, 3, 20)
PASSWORD = "cheval-agrafe-pile"
F3_NOTE = "Note confidentielle de la famille F3"
F1_NOTE = "Note confidentielle de la famille F1"


def extra_records(example: dict) -> dict:
    ap = next(c for c in example["conventions"] if c["key"] == "ap-2025")
    return {
        "format": "parcours-dataset/1",
        "users": [{"key": "ref-other", "name": "Paul Autre", "role": "referent"}],
        "conventions": [{**copy.deepcopy(ap), "key": "as-2025", "action": "Accompagnement scolaire"}],
        "families": [
            {"key": "F3", "name": "Famille Tiers", "commune": "Bourg-en-Bresse", "referent": "ref-other",
             "notes": "Dossier suivi par Paul Autre",
             "children": [{"key": "C4", "first_name": "Jade", "last_name": "Tiers", "birth_date": "2015-05-05"}]},
            {"key": "F4", "name": "Famille Quatre", "commune": "Bourg-en-Bresse", "referent": "ref-other",
             "children": [{"key": "C5", "first_name": "Noé", "last_name": "Quatre", "birth_date": "2013-06-06"}]},
            {"key": "F5", "name": "Famille Cinq", "commune": "Bourg-en-Bresse", "referent": "ref-other",
             "address": "5 rue Close", "consent_date": "2023-01-05", "consent_scope": "Atout Plus",
             "children": [{"key": "C6", "first_name": "Léa", "last_name": "Cinq", "birth_date": "2012-02-02"}]},
        ],
        "parcours": [
            {"key": "P2", "child": "C3", "referent": "ref-martin", "status": "suspended", "start": "2025-01-10"},
            {"key": "P4", "child": "C5", "referent": "ref-martin", "status": "open", "start": "2025-01-10"},
            {"key": "P5", "child": "C6", "referent": "ref-other", "status": "closed", "start": "2023-01-10",
             "end": "2023-12-15", "exit_reason": "Déménagement"},  # past a one-year retention on TODAY
        ],
        "eps_meetings": [{"key": "EPS-2025-02", "date": "2025-02-11", "situations": [{"family": "F4"}]}],
        "orientations": [
            {"key": "O3", "family": "F3", "convention": "ap-2025", "eps_date": "2025-01-14", "status": "validated",
             "decided_on": "2025-01-20", "decided_by": "coord-durand"},
            {"key": "O-prop", "family": "F4", "convention": "ap-2025", "eps_date": "2025-02-11",
             "status": "proposed"},
        ],
        "sessions": [
            {"key": "S5", "family": "F3", "intervenant": "i-aes", "date": "2025-03-06", "start_time": "09:00",
             "duration_minutes": 60, "status": "held", "referent_present": True, "notes": F3_NOTE},
            {"key": "S6", "family": "F1", "intervenant": "i-aes", "date": "2025-02-25", "start_time": "14:00",
             "duration_minutes": 60, "status": "held", "referent_present": True, "notes": F1_NOTE},
        ],
    }


def build_template(path: Path) -> None:
    engine = make_engine(str(path))
    migrate(engine)
    uow = unit_of_work_factory(engine)
    example = json.loads(DATA.read_text(encoding="utf-8"))
    import_dataset(uow(), example)
    import_dataset(uow(), extra_records(example))
    with engine.begin() as conn:  # someone can log in: the bootstrap operations are closed from now on
        conn.execute(text("UPDATE app_user SET password_hash = :h WHERE key = 'admin-petit'"),
                     {"h": users.HASHER.hash(PASSWORD)})
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file


@dataclass
class Env:
    """One test's copy of the programme: the unit-of-work factory, the file, and handles on its records."""

    uow: Callable
    path: Path
    engine: object
    users: dict[str, CurrentUser]
    ids: dict[str, str] = field(default_factory=dict)  # "<kind>:<key>" -> id

    def id(self, kind: str, key: str) -> str:
        return self.ids[f"{kind}:{key}"]

    def dump(self) -> dict[str, list[str]]:
        """Every row of every table: equal dumps mean that nothing at all was written."""
        with sqlite3.connect(self.path) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"'))) for t in tables}

    def audit_rows(self) -> list[tuple]:
        with sqlite3.connect(self.path) as conn:
            return list(conn.execute("SELECT id, actor_key, action, record_type, record_key, changed_fields "
                                     "FROM audit_log ORDER BY at, id"))

    def set_account(self, key: str, **values) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        with self.engine.begin() as conn:
            conn.execute(text(f"UPDATE app_user SET {sets} WHERE key = :key"), {**values, "key": key})


def open_env(template: Path, folder: Path) -> Env:
    path = folder / "programme.sqlite"
    shutil.copyfile(template, path)
    return env_on(make_engine(str(path)), path)


def env_on(engine, path, env_class: type[Env] = Env) -> Env:
    """An Env on a store that already is a copy of the programme (a SQLite file, or a PostgreSQL database)."""
    uow = unit_of_work_factory(engine)
    env = env_class(uow, path, engine, {u.key: u for u in list_users(uow(), active_only=False)})
    with uow() as w:
        for kind, model in (("family", Family), ("child", Child), ("parcours", Parcours), ("session", HomeSession),
                            ("orientation", Orientation), ("intervenant", Intervenant), ("eps", EpsMeeting),
                            ("convention", Convention)):
            env.ids.update({f"{kind}:{r.key}": r.id for r in w.session.scalars(select(model))})
        for s in w.session.scalars(select(EpsSituation)):
            env.ids[f"situation:{s.meeting.key}/{s.family.key}"] = s.id
    return env


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The programme, built once per test module."""
    path = tmp_path_factory.mktemp("template") / "programme.sqlite"
    build_template(path)
    return path


@pytest.fixture
def env(template, tmp_path):
    """A copy of the programme for one test."""
    env = open_env(template, tmp_path)
    yield env
    env.engine.dispose()


# -- the actors -------------------------------------------------------------------------------------------------

ACTORS = ("referent", "coordinator", "administrator", "system", "nobody")
ACCOUNT_OF = {"referent": "ref-martin", "coordinator": "coord-durand", "administrator": "admin-petit"}


def allowed_pairs(actors=ACTORS) -> list[tuple["Case", str]]:
    """(case, actor) for every actor whose role may run the case's operation, by the table."""
    def user(who):
        return SYSTEM if who == "system" else None if who == "nobody" else CurrentUser("-", "-", "-", who)

    return [(case, who) for case in CASES for who in actors if allowed(user(who), case.operation)]


def actor(env: Env, name: str) -> CurrentUser | None:
    if name == "system":
        return SYSTEM
    if name == "nobody":
        return None
    return env.users[ACCOUNT_OF[name]]


# -- the cases ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    function: Callable  # the public service function the case drives
    operation: str  # its operation in services.permissions.PERMISSIONS
    call: Callable[[Env, CurrentUser | None], object]
    audit: tuple[str, str, str | None] | None = None  # (action, record type, record key or None) written once
    label: str = ""
    audited_actors: tuple[str, ...] | None = None  # the actors (ACTORS) whose call writes `audit`; None: all
    setup: Callable[[Env], None] | None = None  # brings the programme where the call can succeed, before measuring

    def prepare(self, env: Env) -> None:
        if self.setup is not None:
            self.setup(env)

    def audit_for(self, who: str) -> tuple[str, str, str | None] | None:
        """The entry the call writes when `who` makes it (None: a read that writes nothing)."""
        return self.audit if self.audited_actors is None or who in self.audited_actors else None

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__name__}"

    @property
    def id(self) -> str:
        return self.name.removeprefix("services.") + (f"[{self.label}]" if self.label else "")


def _year_issued_then_corrected(env: Env) -> None:
    from services.permissions import SYSTEM

    for month in range(1, 13):
        statements.issue_statement(env.uow(), SYSTEM, "ap-2025", f"2025-{month:02d}", render_pdf=_fake_pdf)
    late = home_sessions.SessionDraft(env.id("family", "F1"), env.id("intervenant", "i-aes"), date(2025, 12, 9), 60,
                                      referent_present=True)
    home_sessions.record_session(env.uow(), env.users["coord-durand"], late, date(2025, 12, 20))


def _p1_closed(env: Env) -> None:
    """P1 closed with its exit text only, as before the closed lists (a correction completes it)."""
    parcours.close_parcours(env.uow(), env.users["coord-durand"], env.id("parcours", "P1"), date(2025, 3, 1),
                            "Fin du suivi")


def _own_devices(env: Env) -> None:
    """A device for each account of the roles, for the push's check of its device."""
    for key in ACCOUNT_OF.values():
        env.ids[f"device:{key}"] = devices.enrol_device(env.uow(), env.users[key], "Portable").device.key


def _spare_device(env: Env) -> None:
    """A device of ref-martin for a revocation to withdraw."""
    env.ids["device:spare"] = devices.enrol_device(env.uow(), env.users["ref-martin"], "Poste de rechange").device.key


def _sync_conflict(env: Env) -> None:
    """A laptop copy of ref-martin holding one conflict on a session of F1 (its duration changed on both sides)."""
    from services.sync import local as sync_local

    with env.engine.begin() as conn:
        session_id = conn.execute(select(HomeSession.id).where(HomeSession.family_id == env.id("family", "F1"))
                                  .order_by(HomeSession.key).limit(1)).scalar_one()
        sync_local.write_state(conn, server_url="https://127.0.0.1:8443", fingerprint="AA", device_key="poste-test",
                               device_token="jeton", user_key="ref-martin", user_id=env.users["ref-martin"].id,
                               cursor=0, next_sequence=2)
        operation = {"id": "op-1", "name": "session.update", "record": session_id, "base_version": 1,
                     "fields": {"duration_minutes": {"base": 60, "value": 90}}}
        conn.execute(sync_local.OUTBOX.insert().values(
            id="op-1", sequence=1, name="session.update", record_table="home_session", record_key=session_id,
            base_version=1, fields=json.dumps(operation["fields"]), actor_key="ref-martin",
            local_time="2025-03-20T10:00:00+01:00", status="conflict"))
        conn.execute(sync_local.CONFLICT.insert().values(
            id="op-1", operation_id="op-1", name="session.update", record_table="home_session", record_key=session_id,
            fields=json.dumps({"duration_minutes": {"base": 60, "local": 90, "server": 75}}), server_version=2,
            operation=json.dumps(operation), detected_at=datetime(2025, 3, 20, 10, tzinfo=timezone.utc)))


def _sync_refusal(env: Env) -> None:
    """The same laptop copy, its operation refused by the server instead."""
    _sync_conflict(env)
    from services.sync import local as sync_local

    with env.engine.begin() as conn:
        conn.execute(sync_local.OUTBOX.update().values(status="refused", reason="Cette séance est verrouillée."))


def _avenant_on_1_september(env: Env) -> None:
    conventions_admin.add_amendment(env.uow(), env.users["admin-petit"], "ap-2025", date(2025, 9, 1),
                                    {("AES", "home_intervention"): "31,00"})


def _draft(env: Env, family: str = "F1") -> home_sessions.SessionDraft:
    return home_sessions.SessionDraft(env.id("family", family), env.id("intervenant", "i-aes"), date(2025, 3, 18), 60,
                                      notes="Séance calme")


def _convention_input(env: Env) -> conventions_admin.ConventionInput:
    current = conventions_admin.get_convention(env.uow(), env.users["admin-petit"], "ap-2025")
    return conventions_admin.ConventionInput(
        key=current.key, partner=current.partner, action=current.action, start=current.start, end=current.end,
        max_families=20, budget_cap=current.budget_cap, budget_imputation=current.budget_imputation,
        period_end_months=current.period_end_months,
        tariffs={(t.qualification, t.kind): t.unit_price for t in current.tariffs})


def _guardian(env: Env, family: str = "F1") -> str:
    with env.uow() as w:
        return w.session.scalar(select(Guardian.id).where(Guardian.family_id == env.id("family", family)))


NEW_HOUSEHOLD = family_records.HouseholdInput("Famille Nouvelle", "Bourg-en-Bresse", "3 rue Neuve")
LUCAS = family_records.ChildInput("Lucas", "Lefèvre", date(2016, 4, 2), "M", "École Charles Robin", "CM2")


def _fake_pdf(_statement) -> bytes:
    return b"%PDF-1.4 test"


SHEET_GRID = sheet_import.Grid("", (), (("Nom", "Prénom", "DDN", "Commune"),
                                        ("Roux", "Jade", "01/01/2015", "Bourg-en-Bresse")))

NEW_CONVENTION = conventions_admin.ConventionInput(
    key="AS-2026", partner="adom", action="Accompagnement scolaire", start=date(2026, 1, 1), end=date(2026, 12, 31),
    tariffs={("AES", "home_intervention"): Decimal("31.50")})
NEW_PARTNER_FILE = {"format": "parcours-dataset/1", "partners": [{"key": "pep", "name": "PEP 01"}]}

CASES: tuple[Case, ...] = (
    # directory
    Case(directory.get_user, "user.manage", lambda e, u: directory.get_user(e.uow(), u, e.users["ref-other"].id),
         label="another"),
    Case(directory.get_user, "user.self", lambda e, u: directory.get_user(e.uow(), u, getattr(u, "id", "")),
         label="own"),
    Case(directory.list_intervenants, "convention.read", lambda e, u: directory.list_intervenants(e.uow(), u)),
    Case(directory.list_conventions, "convention.read", lambda e, u: directory.list_conventions(e.uow(), u)),
    # families
    Case(families.list_families, "family.list", lambda e, u: families.list_families(e.uow(), u, TODAY)),
    Case(families.family_choices, "family.list", lambda e, u: families.family_choices(e.uow(), u)),
    Case(families.family_file, "family.read",
         lambda e, u: families.family_file(e.uow(), u, e.id("family", "F1"), TODAY), audit=("open", "family", "F1")),
    # entering and editing a family's records
    Case(family_records.family_record, "family.read",
         lambda e, u: family_records.family_record(e.uow(), u, e.id("family", "F1"))),
    Case(family_records.create_family, "family.create",
         lambda e, u: family_records.create_family(e.uow(), u, NEW_HOUSEHOLD), audit=("create", "family", None)),
    Case(family_records.update_family, "family.edit",
         lambda e, u: family_records.update_family(
             e.uow(), u, e.id("family", "F1"),
             family_records.HouseholdInput("Famille Lefèvre-Roux", "Bourg-en-Bresse", "12 rue des Lilas", True,
                                           referent_id=e.users["ref-martin"].id), None),
         audit=("update", "family", "F1")),
    Case(family_records.close_family, "family.close",
         lambda e, u: family_records.close_family(e.uow(), u, e.id("family", "F1"), TODAY, "Déménagement", None,
                                                  today=TODAY),
         audit=("close", "family", "F1")),
    Case(family_records.delete_family, "family.remove",
         lambda e, u: family_records.delete_family(e.uow(), u, e.id("family", "F5"), None),
         audit=("delete", "family", "F5")),
    Case(family_records.add_guardian, "family.edit",
         lambda e, u: family_records.add_guardian(e.uow(), u, e.id("family", "F1"),
                                                  family_records.GuardianInput("Karim Lefèvre", "père")),
         audit=("create", "guardian", "F1")),
    Case(family_records.update_guardian, "family.edit",
         lambda e, u: family_records.update_guardian(
             e.uow(), u, _guardian(e), family_records.GuardianInput("Aurélie Lefèvre", "mère", "06 00 00 00 02"),
             None),
         audit=("update", "guardian", "F1")),
    Case(family_records.remove_guardian, "family.edit",
         lambda e, u: family_records.remove_guardian(e.uow(), u, _guardian(e), None),
         audit=("delete", "guardian", "F1")),
    Case(family_records.add_child, "family.edit",
         lambda e, u: family_records.add_child(e.uow(), u, e.id("family", "F1"),
                                               family_records.ChildInput("Léo", "Lefèvre", date(2021, 5, 1)),
                                               today=TODAY),
         audit=("create", "child", None)),
    Case(family_records.update_child, "family.edit",
         lambda e, u: family_records.update_child(e.uow(), u, e.id("child", "C1"), LUCAS, None, today=TODAY),
         audit=("update", "child", "C1")),
    Case(family_records.update_parcours_plan, "parcours.edit",
         lambda e, u: family_records.update_parcours_plan(e.uow(), u, e.id("parcours", "P1"), "Confiance en soi",
                                                          "Aide aux devoirs le mardi", None),
         audit=("update", "parcours", "P1")),
    Case(family_records.correct_closed_parcours, "parcours.edit",
         lambda e, u: family_records.correct_closed_parcours(
             e.uow(), u, e.id("parcours", "P1"), ParcoursDetails("en_enseignant", referral_reasons=("scolarite",)),
             "objectifs_atteints", None, None),
         audit=("update", "parcours", "P1"), setup=_p1_closed),
    # home sessions
    Case(home_sessions.check_session, "session.record",
         lambda e, u: home_sessions.check_session(e.uow(), u, _draft(e), TODAY)),
    Case(home_sessions.record_session, "session.record",
         lambda e, u: home_sessions.record_session(e.uow(), u, _draft(e), TODAY),
         audit=("create", "home_session", None)),
    Case(home_sessions.update_session, "session.update",
         lambda e, u: home_sessions.update_session(e.uow(), u, e.id("session", "S1"), _draft(e), TODAY),
         audit=("update", "home_session", "S1")),
    Case(home_sessions.delete_session, "session.delete",
         lambda e, u: home_sessions.delete_session(e.uow(), u, e.id("session", "S1")),
         audit=("delete", "home_session", "S1")),
    Case(home_sessions.usual_intervenant, "session.record",
         lambda e, u: home_sessions.usual_intervenant(e.uow(), u, e.id("family", "F1"))),
    Case(home_sessions.count_sessions, "session.read", lambda e, u: home_sessions.count_sessions(e.uow(), u)),
    Case(home_sessions.list_sessions, "session.read", lambda e, u: home_sessions.list_sessions(e.uow(), u),
         audit=("read", "home_session", "liste"), audited_actors=("referent", "coordinator")),  # they see notes
    Case(home_sessions.list_sessions, "session.read",
         lambda e, u: home_sessions.list_sessions(e.uow(), u, offset=1), label="later page"),
    Case(home_sessions.sessions_page, "session.read",
         lambda e, u: home_sessions.sessions_page(e.uow(), u, count=True),
         audit=("read", "home_session", "liste"), audited_actors=("referent", "coordinator")),  # they see notes
    Case(home_sessions.sessions_page, "session.read",
         lambda e, u: home_sessions.sessions_page(e.uow(), u), label="page while scrolling"),
    Case(home_sessions.week_sessions, "session.read",
         lambda e, u: home_sessions.week_sessions(e.uow(), u, date(2025, 3, 4))),
    Case(home_sessions.latest_session_date, "session.read",
         lambda e, u: home_sessions.latest_session_date(e.uow(), u, TODAY)),
    Case(home_sessions.get_session, "session.read",
         lambda e, u: home_sessions.get_session(e.uow(), u, e.id("session", "S1"))),
    # EPS and orientations
    Case(orientations.list_eps_meetings, "eps.read", lambda e, u: orientations.list_eps_meetings(e.uow(), u)),
    Case(orientations.create_eps_meeting, "eps.manage",
         lambda e, u: orientations.create_eps_meeting(e.uow(), u, date(2025, 3, 11), "Ordre du jour"),
         audit=("create", "eps_meeting", "EPS-2025-03-11")),
    Case(orientations.eps_meeting_detail, "eps.read",
         lambda e, u: orientations.eps_meeting_detail(e.uow(), u, e.id("eps", "EPS-2025-01")),
         audit=("read", "eps_meeting", "EPS-2025-01")),
    Case(orientations.add_situation, "eps.manage",
         lambda e, u: orientations.add_situation(e.uow(), u, e.id("eps", "EPS-2025-02"), e.id("family", "F3"),
                                                 "Soutien scolaire"),
         audit=("create", "eps_situation", None)),
    Case(orientations.record_recommendation, "eps.manage",
         lambda e, u: orientations.record_recommendation(e.uow(), u, e.id("situation", "EPS-2025-01/F1"),
                                                         "Atout Plus renforcé"),
         audit=("update", "eps_situation", None)),
    Case(orientations.propose_orientation, "eps.manage",
         lambda e, u: orientations.propose_orientation(e.uow(), u, e.id("situation", "EPS-2025-01/F1"),
                                                       e.id("convention", "as-2025")),
         audit=("propose", "orientation", None)),
    Case(orientations.list_orientations, "orientation.read",
         lambda e, u: orientations.list_orientations(e.uow(), u, status="proposed")),
    Case(orientations.validate_orientation, "orientation.validate",
         lambda e, u: orientations.validate_orientation(e.uow(), u, e.id("orientation", "O-prop"), date(2025, 2, 20)),
         audit=("validate", "orientation", "O-prop")),
    Case(orientations.reject_orientation, "orientation.validate",
         lambda e, u: orientations.reject_orientation(e.uow(), u, e.id("orientation", "O-prop"), "Hors critères",
                                                      date(2025, 2, 20)),
         audit=("reject", "orientation", "O-prop")),
    Case(orientations.end_orientation, "orientation.end",
         lambda e, u: orientations.end_orientation(e.uow(), u, e.id("orientation", "O3"), date(2025, 3, 1),
                                                   "Fin de prise en charge"),
         audit=("end", "orientation", "O3")),
    Case(orientations.convention_capacity, "convention.read",
         lambda e, u: orientations.convention_capacity(e.uow(), u, TODAY)),
    Case(dashboard.coordinator_dashboard, "dashboard.read",
         lambda e, u: dashboard.coordinator_dashboard(e.uow(), u, TODAY)),
    # parcours
    Case(parcours.open_parcours, "parcours.change",
         lambda e, u: parcours.open_parcours(e.uow(), u, e.id("child", "C2"), date(2025, 2, 1), "Lecture"),
         audit=("open", "parcours", None)),
    Case(parcours.resume_parcours, "parcours.change",
         lambda e, u: parcours.resume_parcours(e.uow(), u, e.id("parcours", "P2")), audit=("resume", "parcours", "P2")),
    Case(parcours.suspend_parcours, "parcours.change",
         lambda e, u: parcours.suspend_parcours(e.uow(), u, e.id("parcours", "P1")),
         audit=("suspend", "parcours", "P1")),
    Case(parcours.close_parcours, "parcours.change",
         lambda e, u: parcours.close_parcours(e.uow(), u, e.id("parcours", "P1"), date(2025, 3, 1), "Objectifs atteints"),
         audit=("close", "parcours", "P1")),
    Case(parcours.children_turning_17, "parcours.read",
         lambda e, u: parcours.children_turning_17(e.uow(), u, TODAY, within_months=120)),
    # hours
    Case(activity.monthly_activity, "activity.read", lambda e, u: activity.monthly_activity(e.uow(), u, "2025-03"),
         audit=("read", "activity", "2025-03")),
    Case(activity.months_with_activity, "activity.read", lambda e, u: activity.months_with_activity(e.uow(), u)),
    Case(activity.family_hours, "family.read",
         lambda e, u: activity.family_hours(e.uow(), u, e.id("family", "F1")), audit=("read", "family_hours", "F1")),
    # dérogations
    Case(session_exceptions.flagged_sessions, "exception.read",
         lambda e, u: session_exceptions.flagged_sessions(e.uow(), u), audit=("read", "exception", "liste")),
    Case(session_exceptions.approve_exceptions, "exception.approve",
         lambda e, u: session_exceptions.approve_exceptions(e.uow(), u, [e.id("session", "S1")]),
         audit=("approve_exception", "home_session", "S1")),
    Case(session_exceptions.refuse_exceptions, "exception.approve",
         lambda e, u: session_exceptions.refuse_exceptions(e.uow(), u, [e.id("session", "S1")], "Pas de motif", TODAY),
         audit=("refuse_exception", "home_session", "S1")),
    # partners, intervenants, conventions
    Case(conventions_admin.list_partners, "convention.read", lambda e, u: conventions_admin.list_partners(e.uow(), u)),
    Case(conventions_admin.list_intervenants, "convention.read",
         lambda e, u: conventions_admin.list_intervenants(e.uow(), u)),
    Case(conventions_admin.list_conventions, "convention.read",
         lambda e, u: conventions_admin.list_conventions(e.uow(), u)),
    Case(conventions_admin.get_convention, "convention.read",
         lambda e, u: conventions_admin.get_convention(e.uow(), u, "ap-2025")),
    Case(conventions_admin.list_actions, "convention.read", lambda e, u: conventions_admin.list_actions(e.uow(), u)),
    Case(conventions_admin.known_qualifications, "convention.read",
         lambda e, u: conventions_admin.known_qualifications(e.uow(), u)),
    Case(programme_settings.get_programme, "programme.read",
         lambda e, u: programme_settings.get_programme(e.uow(), u)),
    Case(programme_settings.save_programme, "programme.manage",
         lambda e, u: programme_settings.save_programme(e.uow(), u, "PRE de Bourg-en-Bresse", "Bourg-en-Bresse", "A"),
         audit=("update", "programme", None)),
    Case(programme_settings.qpv_names, "programme.read", lambda e, u: programme_settings.qpv_names(e.uow(), u)),
    Case(programme_settings.save_qpv_names, "programme.manage",
         lambda e, u: programme_settings.save_qpv_names(e.uow(), u, ["Croix-Blanche", "Pont-des-Chèvres"]),
         audit=("update", "programme", None)),
    Case(conventions_admin.create_partner, "convention.manage",
         lambda e, u: conventions_admin.create_partner(e.uow(), u, "pep", "PEP 01"), audit=("create", "partner", "pep")),
    Case(conventions_admin.rename_partner, "convention.manage",
         lambda e, u: conventions_admin.rename_partner(e.uow(), u, "adom", "Adom de l'Ain"),
         audit=("update", "partner", "adom")),
    Case(conventions_admin.create_intervenant, "convention.manage",
         lambda e, u: conventions_admin.create_intervenant(
             e.uow(), u, conventions_admin.IntervenantInput("i-new", "Inès Roux", "TISF", "adom")),
         audit=("create", "intervenant", "i-new")),
    Case(conventions_admin.update_intervenant, "convention.manage",
         lambda e, u: conventions_admin.update_intervenant(
             e.uow(), u, "i-aes", conventions_admin.IntervenantInput("i-aes", "Nadia Benali-Roux", "AES", "adom")),
         audit=("update", "intervenant", "i-aes")),
    Case(conventions_admin.create_convention, "convention.manage",
         lambda e, u: conventions_admin.create_convention(e.uow(), u, NEW_CONVENTION),
         audit=("create", "convention", "AS-2026")),
    Case(conventions_admin.update_convention, "convention.manage",
         lambda e, u: conventions_admin.update_convention(e.uow(), u, "ap-2025", _convention_input(e)),
         audit=("update", "convention", "ap-2025")),
    Case(conventions_admin.add_amendment, "convention.manage",
         lambda e, u: conventions_admin.add_amendment(e.uow(), u, "ap-2025", date(2025, 9, 1),
                                                      {("AES", "home_intervention"): "31,00"}),
         audit=("update", "convention", "ap-2025")),
    Case(conventions_admin.remove_amendment, "convention.manage",
         lambda e, u: conventions_admin.remove_amendment(e.uow(), u, "ap-2025", date(2025, 9, 1)),
         audit=("update", "convention", "ap-2025"), setup=_avenant_on_1_september),
    Case(conventions_admin.regularisation_warning, "convention.read",
         lambda e, u: conventions_admin.regularisation_warning(
             e.uow(), u, "i-aes", conventions_admin.IntervenantInput("i-aes", "Nadia Benali", "TISF", "adom",
                                                                     from_date=date(2025, 9, 1)))),
    # reports (« Bilans »)
    Case(reports.bilan_report, "report.read",
         lambda e, u: reports.bilan_report(e.uow(), u, reports.ReportPeriod.calendar_year(2025))),
    Case(reports.caf_report, "report.read",
         lambda e, u: reports.caf_report(e.uow(), u, reports.ReportPeriod.calendar_year(2025))),
    # statements
    Case(statements.get_statement, "statement.read",
         lambda e, u: statements.get_statement(e.uow(), u, "ap-2025", "2025-03")),
    Case(statements.issued_pdf, "statement.read",
         lambda e, u: statements.issued_pdf(e.uow(), u, "ap-2025", "2025-01")),
    Case(statements.list_issued, "statement.read", lambda e, u: statements.list_issued(e.uow(), u, "ap-2025")),
    Case(statements.list_issued_summaries, "statement.read",
         lambda e, u: statements.list_issued_summaries(e.uow(), u, "ap-2025")),
    Case(statements.recomputed_lines, "statement.read",
         lambda e, u: statements.recomputed_lines(e.uow(), u, "ap-2025", "2025-03")),
    Case(statements.issued_month_changes, "statement.read",
         lambda e, u: statements.issued_month_changes(e.uow(), u, "ap-2025", "2025-03")),
    Case(statements.undecided_exceptions, "statement.read",
         lambda e, u: statements.undecided_exceptions(e.uow(), u, "ap-2025", "2025-03")),
    Case(statement_names.record_names_printed, "statement.read",
         lambda e, u: statement_names.record_names_printed(e.uow(), u, "ap-2025", "2025-03"),
         audit=("read", "statement_names", "ap-2025/2025-03")),
    Case(statements.issue_statement, "statement.issue",
         lambda e, u: statements.issue_statement(e.uow(), u, "ap-2025", "2025-01", render_pdf=_fake_pdf),
         audit=("issue", "statement", "ap-2025-001")),
    # the closing statement, once every month of ap-2025 is issued and a late session corrects December
    Case(statements.get_closing_statement, "statement.read",
         lambda e, u: statements.get_closing_statement(e.uow(), u, "ap-2025"), setup=_year_issued_then_corrected),
    Case(statements.issue_closing_statement, "statement.issue",
         lambda e, u: statements.issue_closing_statement(e.uow(), u, "ap-2025", render_pdf=_fake_pdf),
         audit=("issue", "statement", "ap-2025-013"), setup=_year_issued_then_corrected),
    # interchange
    Case(sheet_import.import_sheet, "sheet.import",
         lambda e, u: sheet_import.import_sheet(e.uow(), u, SHEET_GRID, today=TODAY),
         audit=("import", "sheet", None)),
    Case(importer.import_dataset, "dataset.import",
         lambda e, u: importer.import_dataset(e.uow(), copy.deepcopy(NEW_PARTNER_FILE), u),
         audit=("import", "dataset", None)),
    Case(exporter.export_dataset, "dataset.export", lambda e, u: exporter.export_dataset(e.uow(), u),
         audit=("export", "dataset", None)),
    Case(exporter.stream_dataset, "dataset.export",
         lambda e, u: exporter.stream_dataset(e.uow(), u, deliver=lambda chunks: "".join(chunks)),
         audit=("export", "dataset", None)),
    # accounts
    Case(users.add_user, "user.manage",
         lambda e, u: users.add_user(e.uow(), u, "nouvelle", "referent", PASSWORD, name="Nouvelle Référente"),
         audit=("create", "user", "nouvelle")),
    Case(users.change_password, "user.manage",
         lambda e, u: users.change_password(e.uow(), u, "ref-other", PASSWORD), audit=("change_password", "user",
                                                                                       "ref-other"),
         label="another"),
    Case(users.change_password, "user.self",
         lambda e, u: users.change_password(e.uow(), u, getattr(u, "key", ""), PASSWORD + "!"),
         audit=("change_password", "user", "<own>"), label="own"),
    Case(users.disable_user, "user.manage", lambda e, u: users.disable_user(e.uow(), u, "ref-other"),
         audit=("disable", "user", "ref-other")),
    Case(users.list_accounts, "user.manage", lambda e, u: users.list_accounts(e.uow(), u)),
    # RGPD
    Case(consent.families_without_consent, "family.list",
         lambda e, u: consent.families_without_consent(e.uow(), u)),
    Case(consent.record_consent, "consent.record",
         lambda e, u: consent.record_consent(e.uow(), u, "F2", date(2025, 3, 1), "Accompagnement PRE", today=TODAY),
         audit=("record_consent", "family", "F2")),
    Case(retention.anonymise_expired_families, "retention.run",
         lambda e, u: retention.anonymise_expired_families(e.uow(), u, years=1, today=TODAY),
         audit=("anonymise", "family", "F5")),
    Case(access_export.export_family, "access_export.run",
         lambda e, u: access_export.export_family(e.uow(), u, "F1", today=TODAY),
         audit=("access_export", "family", "F1")),
    # the team server's enrolled computers
    Case(devices.enrol_device, "device.enrol", lambda e, u: devices.enrol_device(e.uow(), u, "Portable de test"),
         audit=("create", "device", None)),
    Case(devices.list_devices, "device.manage", lambda e, u: devices.list_devices(e.uow(), u)),
    Case(devices.revoke_device, "device.manage",
         lambda e, u: devices.revoke_device(e.uow(), u, e.id("device", "spare")), audit=("revoke", "device", None),
         setup=_spare_device),
    # the team server's side of the sync: the device a push comes from, the changes a laptop pulls
    Case(sync_server.pushing_device, "sync.push",
         lambda e, u: sync_server.pushing_device(e.uow(), u, e.ids.get(f"device:{getattr(u, 'key', '')}", "-")),
         setup=_own_devices),
    Case(sync_server.changes_after, "sync.pull", lambda e, u: sync_server.changes_after(e.uow(), u, 0, 100)),
    # a laptop's sync: its status, its conflicts and refusals, a conflict resolved
    Case(sync_client.sync_status, "sync.status", lambda e, u: sync_client.sync_status(e.uow(), u)),
    Case(sync_client.list_conflicts, "sync.conflicts", lambda e, u: sync_client.list_conflicts(e.uow(), u),
         setup=_sync_conflict),
    Case(sync_client.list_refused, "sync.conflicts", lambda e, u: sync_client.list_refused(e.uow(), u)),
    Case(sync_client.resolve_conflict, "sync.resolve",
         lambda e, u: sync_client.resolve_conflict(e.uow(), u, "op-1", {"duration_minutes": "local"}),
         audit=("resolve", "sync_conflict", None), setup=_sync_conflict),
    Case(sync_client.withdraw_refused, "sync.resolve",
         lambda e, u: sync_client.withdraw_refused(e.uow(), u, "op-1"), audit=("withdraw", "sync_operation", None),
         setup=_sync_refusal),
    # audit log
    Case(audit.list_entries, "audit.read", lambda e, u: audit.list_entries(e.uow(), u)),
    Case(audit.purge_older_than, "audit.purge", lambda e, u: audit.purge_older_than(e.uow(), u, days=365),
         audit=("purge", "audit_log", None)),
)

# Public functions whose only caller is nobody-logged-in: they take no user; tested on their own.
BOOTSTRAP_ONLY = {"services.users.create_first_administrator"}
