"""Command-line verbs over the services: demo, import, export, statement.

The command line works on the database file without logging in: it acts as services.permissions.SYSTEM, the
operator of the machine, who may run only the operations the command line offers."""
from __future__ import annotations

import sys
from typing import Callable

from services.dataset import import_dataset, read_dataset_file, stream_dataset
from services.errors import DomainError
from services.file_faults import READ, describe_os_error, write_atomically
from services.permissions import SYSTEM
from services.uow import UnitOfWork

EXIT_OK, EXIT_REFUSED = 0, 2


def run_import(uow: Callable[[], UnitOfWork], path: str) -> int:
    try:
        # read section by section, while importing: a file of 300,000 sessions is never held whole
        report = import_dataset(uow(), read_dataset_file(path), SYSTEM)
    except OSError as exc:  # the file, unreadable when opened or while its sections are read again
        print(describe_os_error(exc, path, READ), file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as exc:
        print(f"Import refusé, rien n'a été enregistré.\n{exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    names = {  # section: (singular, plural), in French for the summary
        "programme": ("programme", "programmes"), "users": ("utilisateur", "utilisateurs"),
        "partners": ("partenaire", "partenaires"), "conventions": ("convention", "conventions"),
        "intervenants": ("intervenant", "intervenants"), "families": ("famille", "familles"),
        "parcours": ("parcours", "parcours"), "eps_meetings": ("séance d'EPS", "séances d'EPS"),
        "orientations": ("orientation", "orientations"), "sessions": ("séance à domicile", "séances à domicile"),
        "meetings": ("réunion", "réunions"),
    }
    created = ", ".join(f"{n} {names.get(section, (section, section))[n > 1]}"
                        for section, n in report.created.items()) or "aucun nouvel enregistrement"
    print(f"Import terminé : {created}.")
    if report.unchanged:
        print(f"Déjà présents et identiques : {sum(report.unchanged.values())} enregistrement(s).")
    for warning in report.warnings:
        print(f"Avertissement : {warning}", file=sys.stderr)
    return EXIT_OK


def run_export(uow: Callable[[], UnitOfWork], path: str) -> int:
    try:
        # through a temporary file: never a half-written export; a failure names the file, in French, and the
        # export's audit entry is rolled back with it. Written as it is read: the whole file is never in memory.
        stream_dataset(uow(), SYSTEM, deliver=lambda chunks: write_atomically(
            path, (chunk.encode("utf-8") for chunk in chunks)))
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    print(f"Export écrit dans {path}.")
    return EXIT_OK


def run_demo(uow: Callable[[], UnitOfWork]) -> int:
    from services.demo import load_demo

    try:
        summary = load_demo(uow(), SYSTEM)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED
    print(summary)
    return EXIT_OK


def run_statement(uow: Callable[[], UnitOfWork], args) -> int:
    from cli.statement_command import run

    return run(uow, args)
