"""RGPD command-line verbs.

  retention [--years N] [--dry-run]                     anonymise the families past their retention period;
                                                        prints counts only, never a name
  access-export CODE_FAMILLE --json SORTIE.json [--pdf SORTIE.pdf]   right of access: everything held on one family

Bad input ends with exit code 2 and a French message, never a traceback: the arguments argparse would refuse in
English (a missing key, a non-numeric --years) are taken as text and checked here. The files written hold a
family's personal data: they are created readable by their owner only.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from services.errors import DomainError
from services.file_faults import write_all_atomically

EXIT_OK, EXIT_REFUSED = 0, 2
COMMANDS = frozenset({"retention", "access-export"})


def add_parsers(sub) -> None:
    """Add `retention` and `access-export` to the sub-commands of main.build_parser()."""
    p = sub.add_parser("retention", help="anonymise les familles dont la durée de conservation est dépassée")
    p.add_argument("--years", metavar="N", default=None,
                   help="durée de conservation en années après la dernière activité (défaut : 2)")
    p.add_argument("--dry-run", action="store_true", help="compte seulement, sans rien modifier")
    p = sub.add_parser("access-export", help="droit d'accès : toutes les données détenues sur une famille")
    p.add_argument("family_key", nargs="?", metavar="CODE_FAMILLE", help="code de la famille")
    p.add_argument("--json", metavar="SORTIE.json", help="fichier JSON à écrire (obligatoire)")
    p.add_argument("--pdf", metavar="SORTIE.pdf", help="fichier PDF à écrire en plus")


def run(args, uow) -> int:
    try:
        if args.command == "retention":
            return run_retention(args, uow)
        return run_access_export(args, uow)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_REFUSED


def _years(text: str | None) -> int:
    from services.retention import DEFAULT_YEARS, MAX_YEARS

    if text is None:
        return DEFAULT_YEARS
    value = text.strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_YEARS:
        raise DomainError(f"--years attend un nombre entier d'années de 1 à {MAX_YEARS}, reçu « {text} ».")
    return int(value)


def run_retention(args, uow) -> int:
    from services.formatting import format_date
    from services.permissions import SYSTEM  # the command line: the operator of the machine
    from services.retention import anonymise_expired_families

    years = _years(args.years)
    report = anonymise_expired_families(uow(), SYSTEM, years=years, dry_run=args.dry_run)
    verb = "seraient anonymisées" if report.dry_run else "anonymisées"
    if report.dry_run:
        print("Simulation : rien n'a été modifié.")
    plural = "s" if years > 1 else ""
    print(f"Dernière activité avant le {format_date(report.cutoff)} (conservation : {years} an{plural}) :")
    print(f"  familles {verb} : {report.anonymised_count}")
    print(f"  déjà anonymisées : {report.already_anonymised}")
    print(f"  encore suivies ou actives depuis : {report.kept}")
    if report.to_review:
        print(f"  à vérifier (parcours clos sans date de fin, ou aucune date) : {len(report.to_review)}")
    if report.storage_compacted is False:
        print("Attention : la base n'a pas pu être compactée (fichier occupé). Des fragments des données effacées "
              "peuvent y subsister : relancez la commande quand Parcours est fermé.", file=sys.stderr)
    return EXIT_OK


def run_access_export(args, uow) -> int:
    from services.access_export import export_family, render_family_pdf
    from services.permissions import SYSTEM  # the command line: the operator of the machine

    if not args.family_key or not args.family_key.strip():
        raise DomainError("Indiquez le code de la famille : access-export CODE --json SORTIE.json [--pdf SORTIE.pdf].")
    if not args.json:
        raise DomainError("Indiquez le fichier à écrire avec --json SORTIE.json.")
    outputs: list = []

    def deliver(data: dict) -> None:
        outputs.append((Path(args.json), (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")))
        if args.pdf:
            outputs.append((Path(args.pdf), render_family_pdf(data)))
        # readable by their owner only; all or none (no JSON left without its PDF); a failure is a FileFault naming
        # it, and the export's audit entry is rolled back
        write_all_atomically(outputs)

    data = export_family(uow(), SYSTEM, args.family_key.strip(), deliver=deliver)
    written = " et ".join(f"« {target} »" for target, _ in outputs)
    print(f"Données de la famille {data['family']['code']} écrites dans {written}.")
    return EXIT_OK

