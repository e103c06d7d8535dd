"""`parcours-cli selfcheck`: checks the installation on this machine and prints a French report (exit 0 when all is
well, 2 otherwise). Run by CI on the frozen bundle and by an IT department after deploying Parcours.

It does not open the database (it must run where the database cannot be opened yet, or not at all): it checks the
folder the database lives in. The Qt checks are imported here, not in services (services never import Qt), and only
once the others have run, so a broken Qt still gets the rest of the report.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date

HELP = "vérifie l'installation (migrations, vacances scolaires, PDF, aperçu, impression, dossier de la base)"


def add_parser(sub) -> argparse.ArgumentParser:
    return sub.add_parser("selfcheck", help=HELP, description=HELP[0].upper() + HELP[1:] + ".")


def run(db: str, *, today: date | None = None) -> int:
    from services.selfcheck import CheckResult, exit_code, format_report, header, run_checks

    checked = run_checks(db, today or date.today())
    results = list(checked.results)
    try:
        from ui.selfcheck_qt import qt_checks
    except ImportError as exc:  # PySide6 itself missing: the window cannot start either
        results.append(CheckResult("Qt (PySide6)", False, f"Qt ne se charge pas ({exc}) : la fenêtre ne pourra pas "
                                                          "s'ouvrir. Réinstallez Parcours."))
    else:
        results += qt_checks(checked.pdf)
    print(format_report(results, header(db)))
    sys.stdout.flush()
    return exit_code(results)
