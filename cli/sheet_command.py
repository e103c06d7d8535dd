"""The `import-sheet` verb: a team's spreadsheet (XLSX, ODS, CSV) into Parcours, all or nothing.

  import-sheet FICHIER [--sheet NOM] [--header-row N] [--layout par-enfant|par-action] [--mapping M.json] [--dry-run]
               [--keep-unmapped-as-notes]

Prints the report (services.sheet_import: rows created, merged with a stored child, refused with their row, column
and reason) before and whatever is decided; exit 0 when the sheet is (or, with --dry-run, would be) imported, 2 when
anything is refused — then nothing is written. With --mapping, the columns' mapping is read from the file when it
exists and written back to it after each run that found the header row (refused or not: it is then the file to
correct), so that the next run, and next year's sheet, reuse the choices. It holds headers and fields, the value
dictionaries (value as written -> code of the closed list) and the layout; no row.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from services.errors import DomainError
from services.file_faults import READ, WRITE, describe_os_error, write_atomically
from services.permissions import SYSTEM

EXIT_OK, EXIT_REFUSED = 0, 2
LAYOUT_NAMES = {"par-enfant": "per_child", "par-action": "per_action"}
COMMAND = "import-sheet"


def add_parser(sub) -> None:
    """Add `import-sheet` to the sub-commands of main.build_parser()."""
    p = sub.add_parser(COMMAND, help="importe un tableur de l'équipe (XLSX, ODS, CSV) : familles et enfants")
    p.add_argument("file", metavar="FICHIER")
    p.add_argument("--sheet", metavar="NOM", help="feuille à lire (défaut : la première)")
    p.add_argument("--header-row", metavar="N", default=None,
                   help="numéro de la ligne des en-têtes (défaut : trouvée)")
    p.add_argument("--layout", choices=tuple(LAYOUT_NAMES), default=None,
                   help="une ligne par enfant ou par action (défaut : celle du fichier de correspondance, sinon "
                        "par action si une colonne « Action » existe)")
    p.add_argument("--mapping", metavar="M.json", help="correspondance des colonnes : lue si elle existe, réécrite")
    p.add_argument("--dry-run", action="store_true", help="affiche le rapport sans rien enregistrer")
    p.add_argument("--keep-unmapped-as-notes", action="store_true",
                   help="garde les colonnes non reconnues dans les notes du foyer (sinon elles ne sont pas reprises)")


def run(args, uow) -> int:
    from services.sheet_import import ColumnMapping, SheetOptions, import_sheet, read_sheet

    header_row = None
    if args.header_row is not None:
        if not args.header_row.isdigit() or int(args.header_row) < 1:
            print(f"--header-row attend un numéro de ligne (1, 2…), pas « {args.header_row} ».", file=sys.stderr)
            return EXIT_REFUSED
        header_row = int(args.header_row)
    mapping = None
    try:
        if args.mapping and Path(args.mapping).exists():
            mapping = ColumnMapping.from_json(Path(args.mapping).read_text(encoding="utf-8"))
    except OSError as exc:
        print(describe_os_error(exc, args.mapping, READ), file=sys.stderr)
        return EXIT_REFUSED
    except (DomainError, UnicodeDecodeError) as exc:
        print(getattr(exc, "message", "Le fichier de correspondance n'est pas un texte UTF-8."), file=sys.stderr)
        return EXIT_REFUSED
    if args.layout:
        mapping = replace(mapping or ColumnMapping(), layout=LAYOUT_NAMES[args.layout])
    try:
        grid = read_sheet(args.file, args.sheet or (mapping.sheet if mapping else None))
        report = import_sheet(uow(), SYSTEM, grid, SheetOptions(header_row, mapping, args.keep_unmapped_as_notes),
                              dry_run=args.dry_run)
    except OSError as exc:
        print(describe_os_error(exc, args.file, READ), file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as exc:
        print(f"Import refusé, rien n'a été enregistré.\n{exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    print(report.text(), file=sys.stderr if report.blocked else sys.stdout)
    if args.mapping and report.columns:  # written even when refused: it is the file to correct
        try:
            write_atomically(args.mapping, report.mapping.to_json().encode("utf-8"))
        except OSError as exc:
            print(describe_os_error(exc, args.mapping, WRITE), file=sys.stderr)
            return EXIT_REFUSED
        print(f"Correspondance des colonnes enregistrée dans {args.mapping} : corrigez-la au besoin, elle sera "
              "relue à l'import suivant.", file=sys.stderr if report.blocked else sys.stdout)
    return EXIT_REFUSED if report.blocked else EXIT_OK
