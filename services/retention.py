"""RGPD retention: the files of families no longer followed are anonymised once their retention period is over.

Which families. A family is anonymised when every one of these holds:
  - each of its children's parcours is closed, with an end date;
  - no orientation is still pending (proposed) or in force without an end (validated, no end date);
  - its LAST ACTIVITY is more than `years` years before today (cutoff = today minus `years` years; a last
    activity exactly on the cutoff is kept). The last activity is the latest of: parcours end dates, home
    session dates, orientation dates (EPS, decision, end) and dates of the EPS meetings that studied the family.
    Home sessions and orientations belong to the family, not to a parcours: a family whose parcours closed long
    ago but who still receives home sessions is still followed, so these dates count too.
  - a family with no parcours at all follows the same rule with its session, orientation and EPS dates.
A family left without any date to judge by (no parcours, session, orientation nor EPS situation), or with a closed
parcours whose end date is unknown, is never anonymised automatically: it is counted « à vérifier ».

What is kept. Codes (keys) of every record — issued statements refer to families by code —, the commune, the
priority-neighbourhood flag, the référent, the consent date, children's sex and year of birth (their birth date
becomes 1 January of that year, so ages by year stay countable), every status, date, duration, count and approval.
Billing reads none of what is erased, so every issued statement reads the same and every month recomputes the same.

What is erased. Family name (becomes « Famille anonymisée <code> »), address, consent scope and notes; guardians
(rows deleted); children's first and last names (« Anonyme »), school and class; parcours objectives and exit
reasons; home-session notes and the reasons given for refused dérogations; EPS situation recommendations;
orientation reasons.

A family is « already anonymised » when running the anonymisation again would change nothing: it is skipped
(no write, no audit entry). Text typed into an anonymised family afterwards is erased by the next run.

On PostgreSQL (the team server), the tables whose text is erased are rewritten by VACUUM (FULL) after the commit, for
the same reason: an UPDATE leaves the old row versions in the table's files.
On SQLite, after the commit, the file is rebuilt (VACUUM) and the write-ahead log truncated, so that erased text does
not linger in free pages or old log frames; if another program holds the base busy, `storage_compacted` is False
and the job should be run again later. Backups taken before the run still hold the erased data until they expire.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import selectinload

from models import Child, EpsMeeting, EpsSituation, Family, HomeSession, Orientation, Parcours
from services import audit
from services.errors import ValidationError
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork

log = logging.getLogger(__name__)

ANONYMISED_NAME_PREFIX = "Famille anonymisée "
ANONYMOUS = "Anonyme"
DEFAULT_YEARS = 2
MAX_YEARS = 100


@dataclass(frozen=True)
class RetentionReport:
    cutoff: date  # families whose last activity is strictly before this day are anonymised
    dry_run: bool
    anonymised: tuple[str, ...]  # family codes anonymised by this run (would be, in a dry run)
    already_anonymised: int  # eligible, but nothing left to erase
    kept: int  # still followed, or active since the cutoff
    to_review: tuple[str, ...]  # family codes with no usable date (see the module's docstring)
    # SQLite only, after anonymising: True once the file is rebuilt and its log truncated, False if the base was busy
    # (erased text may linger in free pages: run again later); None when there was nothing to compact.
    storage_compacted: bool | None = None

    @property
    def anonymised_count(self) -> int:
        return len(self.anonymised)


def anonymised_name(family_key: str) -> str:
    return f"{ANONYMISED_NAME_PREFIX}{family_key}"


def is_anonymised(family_key: str, family_name: str) -> bool:
    return family_name == anonymised_name(family_key)


def retention_cutoff(today: date, years: int) -> date:
    """`today` minus `years` years; 29 February falls back to 28 February."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def anonymise_expired_families(uow: UnitOfWork, user: CurrentUser, years: int = DEFAULT_YEARS,
                               today: date | None = None, *, dry_run: bool = False) -> RetentionReport:
    """Anonymise every family whose retention period is over (see the module's docstring for the rule), in one
    transaction, with one audit entry per family naming the erased fields. `dry_run` computes the same report and
    writes nothing."""
    with uow:
        require(user, "retention.run", session=uow.session)
        if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
            raise ValidationError(f"La durée de conservation doit être un nombre entier d'années, de 1 à {MAX_YEARS}.",
                                  field="years")
        today = today or date.today()
        cutoff = retention_cutoff(today, years)
        session = uow.session
        eligible, kept, to_review = _classify(session, cutoff)
        anonymised, already = [], 0
        families = session.scalars(select(Family).where(Family.id.in_(eligible)).order_by(Family.key)
                                   .options(selectinload(Family.guardians), selectinload(Family.children)))
        for family in families:
            changed = _anonymise(session, family)
            if not changed:
                already += 1
                continue
            anonymised.append(family.key)
            audit.record(session, user.key, "anonymise", "family", family.key, changed)
        session.flush()
        bind = session.get_bind()
        if not dry_run:
            uow.commit()
    compacted = None
    if anonymised and not dry_run and bind.dialect.name == "sqlite":
        compacted = _compact_sqlite(getattr(bind, "engine", bind))  # a session may be bound to a Connection
    elif anonymised and not dry_run and bind.dialect.name == "postgresql":
        compacted = _compact_postgres(getattr(bind, "engine", bind))
    return RetentionReport(cutoff, dry_run, tuple(anonymised), already, kept, tuple(sorted(to_review)), compacted)


def _classify(session, cutoff: date) -> tuple[list[str], int, list[str]]:
    """(ids of families past their retention period, number kept, codes to review)."""
    last: dict[str, list[date]] = defaultdict(list)
    running: set[str] = set()  # families still followed
    undated: set[str] = set()  # a closed parcours without end date

    for family_id, status, end in session.execute(
            select(Child.family_id, Parcours.status, Parcours.end_date).join(Parcours, Parcours.child_id == Child.id)):
        if status != "closed":
            running.add(family_id)
        elif end is None:
            undated.add(family_id)
        else:
            last[family_id].append(end)

    for family_id, day in session.execute(
            select(HomeSession.family_id, func.max(HomeSession.date)).group_by(HomeSession.family_id)):
        last[family_id].append(day)

    o = Orientation
    for family_id, status, eps_date, decided_on, end in session.execute(
            select(o.family_id, o.status, o.eps_date, o.decided_on, o.end_date)):
        if status == "proposed" or (status == "validated" and end is None):
            running.add(family_id)
        last[family_id].extend(d for d in (eps_date, decided_on, end) if d is not None)

    for family_id, day in session.execute(
            select(EpsSituation.family_id, func.max(EpsMeeting.date))
            .join(EpsMeeting, EpsMeeting.id == EpsSituation.eps_meeting_id).group_by(EpsSituation.family_id)):
        last[family_id].append(day)

    eligible, kept, to_review = [], 0, []
    for family_id, key in session.execute(select(Family.id, Family.key)):
        dates = last.get(family_id)
        if family_id in running or (dates and max(dates) >= cutoff):
            kept += 1
        elif family_id in undated or not dates:
            to_review.append(key)
        else:
            eligible.append(family_id)
    return eligible, kept, to_review


def _erase(record, changed: set[str], prefix: str, **values) -> None:
    """Set each attribute to its anonymous value; note the name of those that actually change."""
    for attribute, value in values.items():
        if getattr(record, attribute) != value:
            setattr(record, attribute, value)
            changed.add(f"{prefix}{attribute}")


def _anonymise(session, family: Family) -> list[str]:
    """Erase the family's identifying text; returns the names of the fields that changed (empty: nothing to do)."""
    changed: set[str] = set()
    _erase(family, changed, "", name=anonymised_name(family.key), address=None, consent_scope=None, notes=None)
    if family.guardians:
        family.guardians.clear()  # delete-orphan: the rows are deleted
        changed.add("guardians")
    child_ids = [child.id for child in family.children]
    for child in family.children:
        _erase(child, changed, "child_", first_name=ANONYMOUS, last_name=ANONYMOUS,
               birth_date=date(child.birth_date.year, 1, 1), school=None, school_class=None)
    if child_ids:
        for parcours in session.scalars(select(Parcours).where(Parcours.child_id.in_(child_ids))):
            # free texts only: the codes (referral source, reasons, profile, exit reason) stay for the bilans
            _erase(parcours, changed, "parcours_", objectives=None, actions=None, exit_reason=None,
                   referral_source_other=None, referral_reason_other=None, support_profile_other=None)
    for home_session in session.scalars(select(HomeSession).where(
            HomeSession.family_id == family.id,
            or_(HomeSession.notes.is_not(None), HomeSession.exception_reason.is_not(None)))):
        _erase(home_session, changed, "home_session_", notes=None, exception_reason=None)
    for situation in session.scalars(select(EpsSituation).where(EpsSituation.family_id == family.id)):
        _erase(situation, changed, "eps_situation_", recommendation=None)
    for orientation in session.scalars(select(Orientation).where(Orientation.family_id == family.id)):
        _erase(orientation, changed, "orientation_", reason=None)
    return sorted(changed)


# The tables whose text the anonymisation erases (guardian: its rows are deleted).
ERASED_TABLES = ("family", "guardian", "child", "parcours", "home_session", "eps_situation", "orientation")


def _compact_postgres(engine: Engine) -> bool:
    """On the team server's PostgreSQL an UPDATE leaves the old row version, erased text included, in the table's
    files until a VACUUM FULL rewrites them. Run once the anonymisation is committed, outside any transaction (VACUUM
    refuses to run inside one); it locks each table a moment, which a yearly retention run can afford. Best effort:
    False (and logged) if it failed — the anonymisation itself is committed."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ERASED_TABLES:
                conn.exec_driver_sql(f'VACUUM (FULL) "{table}"')
        return True
    except Exception:  # noqa: BLE001 — as _compact_sqlite
        log.warning("retention: VACUUM FULL failed; erased text may remain in dead rows", exc_info=True)
        return False


def _compact_sqlite(engine: Engine) -> bool:
    """Rebuild the file and truncate the write-ahead log, so erased text survives neither in free pages nor in old
    log frames. Outside any transaction (VACUUM refuses to run inside one); best effort: False if the base is busy."""
    raw = None
    try:
        raw = engine.raw_connection()
        cursor = raw.cursor()
        cursor.execute("VACUUM")
        busy, *_ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
        return busy == 0
    except Exception:  # noqa: BLE001 — the anonymisation is committed; only the scrubbing of free space failed
        log.warning("retention: VACUUM or WAL checkpoint failed; erased text may remain in free pages", exc_info=True)
        return False
    finally:
        if raw is not None:
            raw.close()
