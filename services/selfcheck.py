"""`selfcheck`: what an installed Parcours needs besides its code, checked on the machine it runs on — by CI on
the frozen bundle, and by an IT department after deploying it.

    run_checks(db, today) -> SelfcheckRun      the checks that need no Qt, and the PDF they rendered
    format_report(results, header) -> str      the French report
    exit_code(results) -> int                  0 when every check passed, 2 otherwise

Each check returns a CheckResult whatever happens (an exception becomes a failed check that names it): one broken
piece must not hide the others. The Qt checks (QtPdf, printing) are in ui/selfcheck_qt.py, since services never
import Qt; cli/selfcheck_command.py runs both.
"""
from __future__ import annotations

import io
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from services.version import parcours_version

EXIT_OK, EXIT_FAILED = 0, 2
ZONES = ("A", "B", "C")  # the zones a programme may choose (services.programme_settings)


@dataclass(frozen=True)
class CheckResult:
    title: str  # what was checked, in French (« Vacances scolaires »)
    ok: bool
    detail: str  # what was found, or what is wrong and what to do, in French


@dataclass(frozen=True)
class SelfcheckRun:
    results: tuple[CheckResult, ...]
    pdf: bytes | None  # the one-page PDF the font check rendered, for the Qt checks to load; None if it failed


def _failure(title: str, exc: BaseException, advice: str) -> CheckResult:
    return CheckResult(title, False, f"{advice} ({type(exc).__name__} : {exc})")


def guarded(title: str, advice: str, check: Callable[[], CheckResult]) -> CheckResult:
    """The check's result, or a failed one naming the exception it raised."""
    try:
        return check()
    except Exception as exc:  # a missing file, module or library: reported, the other checks still run
        return _failure(title, exc, advice)


# -- the checks ----------------------------------------------------------------------------------------------------

MIGRATIONS = "Migrations de la base"
REINSTALL = "Installation incomplète : réinstallez Parcours."


def check_migrations() -> CheckResult:
    """The migration files are there and readable, and they build a new database up to the newest revision (what
    the first start does: Alembic reads them from disk, the migrations import their own modules)."""
    from sqlalchemy import create_engine

    from models.db import VERSIONS_DIR, head_revision, migrate, scanned_revisions

    graph = scanned_revisions()
    if not graph:
        return CheckResult(MIGRATIONS, False, f"aucun fichier de migration lisible dans {VERSIONS_DIR}. {REINSTALL}")
    head = head_revision()
    engine = create_engine("sqlite://")  # in memory: nothing written on the disk
    try:
        reached = migrate(engine)
    finally:
        engine.dispose()
    if reached != head:
        return CheckResult(MIGRATIONS, False, f"une base neuve s'arrête à la révision {reached} au lieu de {head}. "
                                              f"{REINSTALL}")
    return CheckResult(MIGRATIONS, True, f"{len(graph)} migrations lues ; une base neuve se crée jusqu'à la "
                                         f"révision {head}.")


HOLIDAYS = "Vacances scolaires"


def check_holidays(today: date) -> CheckResult:
    """The calendar the billing rules read (services.billing.rules) has the holidays of this year and the next for
    every zone: without them, a session in the holidays would be billed as an ordinary week."""
    from vacances_scolaires_france import SchoolHolidayDates

    calendar = SchoolHolidayDates()
    years = (today.year, today.year + 1)
    missing = []
    for year in years:
        for zone in ZONES:
            try:
                found = calendar.holidays_for_year_and_zone(year, zone)
            except Exception:  # UnsupportedYearException: the data stops before that year
                found = None
            if not found:
                missing.append(f"{year} (zone {zone})")
    if missing:
        return CheckResult(HOLIDAYS, False, "pas de dates de vacances pour " + ", ".join(missing) + " : mettez "
                           "Parcours à jour, sinon les séances de ces périodes seront facturées comme hors "
                           "vacances.")
    return CheckResult(HOLIDAYS, True, f"calendrier lu pour {years[0]} et {years[1]} (zones {', '.join(ZONES)}).")


PDF = "Polices des PDF (reportlab)"
PDF_SAMPLE = "Parcours — état mensuel : 1 234,56 € (éèàçôœ)"


def render_sample_pdf() -> bytes:
    """A one-page PDF written with the fonts of the statements (services.billing.pdf), accents and euro sign
    included."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from services.billing.pdf import BOLD, FONT, ITALIC

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1)
    for n, font in enumerate((FONT, BOLD, ITALIC)):
        canvas.setFont(font, 14)
        canvas.drawString(72, 760 - 24 * n, PDF_SAMPLE)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def check_pdf() -> tuple[CheckResult, bytes | None]:
    try:
        data = render_sample_pdf()
    except Exception as exc:  # reportlab or its font files missing
        return _failure(PDF, exc, f"les PDF ne peuvent pas être produits. {REINSTALL}"), None
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-32:]:
        return CheckResult(PDF, False, f"le PDF produit est incomplet. {REINSTALL}"), None
    from services.billing.pdf import BOLD, FONT, ITALIC

    return CheckResult(PDF, True, f"une page rendue avec {FONT}, {BOLD} et {ITALIC} ({len(data)} octets)."), data


DATA_FOLDER = "Dossier de la base"


def check_database_folder(db: str) -> CheckResult:
    """The folder of the SQLite file takes a new file (the database, its journal, its backups are written there),
    and the database, if it exists, can be written. Nothing is left behind."""
    from services.backup import sqlite_file

    path = sqlite_file(db)
    if path is None:
        return CheckResult(DATA_FOLDER, True, "base sur un serveur (URL) : pas de dossier local à vérifier.")
    folder = path.parent
    existing = folder
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent  # the folder is made at the first start: its nearest existing parent must allow it
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".parcours-selfcheck-"):
            pass
    except OSError as exc:
        return CheckResult(DATA_FOLDER, False, f"impossible d'écrire dans {existing} ({_os_reason(exc)}). "
                                               "Donnez à l'utilisateur le droit d'écriture sur ce dossier, ou "
                                               "choisissez un autre emplacement avec --db.")
    if path.exists():
        if path.is_dir():
            return CheckResult(DATA_FOLDER, False, f"{path} est un dossier, pas un fichier de base de données.")
        if not os.access(path, os.W_OK):
            return CheckResult(DATA_FOLDER, False, f"la base {path} est en lecture seule : les séances ne pourront "
                                                   "pas être enregistrées.")
        return CheckResult(DATA_FOLDER, True, f"{folder} accessible en écriture ; base existante : {path.name}.")
    if existing != folder:
        return CheckResult(DATA_FOLDER, True, f"{folder} sera créé au premier lancement ({existing} est accessible "
                                              "en écriture).")
    return CheckResult(DATA_FOLDER, True, f"{folder} accessible en écriture (la base {path.name} sera créée au "
                                          "premier lancement).")


def _os_reason(exc: OSError) -> str:
    from services.file_faults import describe_os_error

    try:
        return describe_os_error(exc).rstrip(".")
    except Exception:  # the sentence is a nicety: the error's own text will do
        return exc.strerror or type(exc).__name__


# -- running and reporting -----------------------------------------------------------------------------------------

def run_checks(db: str, today: date) -> SelfcheckRun:
    """The checks that need no Qt, in the report's order."""
    results = [
        guarded(MIGRATIONS, REINSTALL, check_migrations),
        guarded(HOLIDAYS, REINSTALL, lambda: check_holidays(today)),
    ]
    pdf_result, pdf = check_pdf()
    results.append(pdf_result)
    results.append(guarded(DATA_FOLDER, "le dossier de la base n'a pas pu être vérifié",
                           lambda: check_database_folder(db)))
    return SelfcheckRun(tuple(results), pdf)


def runtime_description() -> str:
    """« application autonome » for a frozen bundle, else the Python that runs the checkout."""
    if getattr(sys, "frozen", False):
        return f"application autonome, {platform.system()} {platform.machine()}"
    return f"Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def header(db: str) -> str:
    return (f"Vérification de Parcours {parcours_version()} ({runtime_description()})\n"
            f"Base : {db}\nExécutable : {Path(sys.executable).resolve()}")


def format_report(results: Sequence[CheckResult], heading: str) -> str:
    lines = [heading, ""]
    for result in results:
        lines.append(f"[{'ok' if result.ok else 'ÉCHEC'}] {result.title} : {result.detail}")
    failed = [r for r in results if not r.ok]
    lines.append("")
    if failed:
        lines.append(f"{len(failed)} vérification{'s' if len(failed) > 1 else ''} sur {len(results)} en échec : "
                     + ", ".join(r.title for r in failed) + ".")
    else:
        lines.append(f"Tout est en ordre ({len(results)} vérifications).")
    return "\n".join(lines)


def exit_code(results: Sequence[CheckResult]) -> int:
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED
