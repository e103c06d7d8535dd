"""A team's spreadsheet (XLSX, ODS or CSV) read into a grid of cells: the rows of one sheet, as typed values.

    read_sheet(path, sheet=None) -> Grid

A merged cell's value is repeated over every cell of its range (a header « Enfant » merged over « Nom » and
« Prénom », a « Commune » merged down over two header rows), so that each column reads its own header. An XLSX is
opened read-only with the values last computed (openpyxl's read_only, data_only); its merged ranges, which a
read-only sheet does not give, are read from the sheet's XML. A CSV is decoded as UTF-8 (with or without its BOM),
else as Windows-1252; its delimiter is `;` or `,`, whichever its first lines use. A file that cannot be read is
refused with an ImportRejected in French.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from services.errors import ImportRejected
from services.sheet_import.cell_dates import EPOCH_1900, EPOCH_1904

MAX_ROWS, MAX_COLUMNS = 100_000, 500  # far above a team's sheet; a repeated empty row of an ODS stops here
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')


@dataclass(frozen=True)
class Grid:
    sheet: str  # the sheet read ("" for a CSV)
    sheet_names: tuple[str, ...]  # every sheet of the file, for a wizard's choice
    rows: tuple[tuple[object, ...], ...]  # rows[0] is the sheet's row 1; None for an empty cell
    epoch: date = EPOCH_1900  # what an Excel date number counts from


def read_sheet(path: str | Path, sheet: str | None = None) -> Grid:
    """The grid of `sheet` (default: the first) of the file at `path`. Raises OSError when it cannot be opened."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix == ".ods":
        return _read_ods(path, sheet)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise ImportRejected(f"Le fichier « {path.name} » n'est ni un classeur XLSX, ni un ODS, ni un CSV : "
                         "enregistrez-le dans l'un de ces formats (un ancien .xls s'enregistre en .xlsx depuis le "
                         "tableur).")


def _choose(names: list[str], sheet: str | None, file: str) -> str:
    if not names:
        raise ImportRejected(f"Le classeur « {file} » ne contient aucune feuille.")
    if sheet is None:
        return names[0]
    if sheet not in names:
        raise ImportRejected(f"Le classeur « {file} » n'a pas de feuille « {sheet} » (feuilles : "
                             f"{', '.join(f'« {n} »' for n in names)}).")
    return sheet


def _filled(rows: list[list[object]], merges: list[tuple[int, int, int, int]]) -> tuple[tuple[object, ...], ...]:
    """`rows` with each merged range's top-left value in all of its cells (0-based first row, first col, last…)."""
    for top, left, bottom, right in merges:
        if top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            row.extend([None] * (right + 1 - len(row)))
            for c in range(left, right + 1):
                if row[c] is None:
                    row[c] = value
    return tuple(tuple(row) for row in rows)


def _trimmed(row: list[object]) -> list[object]:
    """The row without its empty cells at the end (a read-only sheet pads each row to the widest)."""
    while row and row[-1] is None:
        row.pop()
    return row


def _clean(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# -- XLSX -----------------------------------------------------------------------------------------------------------

def _read_xlsx(path: Path, sheet: str | None) -> Grid:
    from openpyxl import load_workbook
    from openpyxl.utils import column_index_from_string

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ImportRejected(f"Le fichier « {path.name} » n'est pas un classeur XLSX lisible.") from exc
    try:
        name = _choose(list(book.sheetnames), sheet, path.name)
        ws = book[name]
        rows = []
        # Each row as written, not padded: padded to MAX_COLUMNS (or to a wrong dimension the file declares), 3,000
        # rows were 1.5 million cells to clean, most of the reading's time
        ws.reset_dimensions()
        for row in ws.iter_rows(values_only=True):
            rows.append(_trimmed([_clean(v) for v in row[:MAX_COLUMNS]]))
            if len(rows) >= MAX_ROWS:
                break
        epoch = EPOCH_1904 if book.epoch.year == 1904 else EPOCH_1900
        worksheet_path = getattr(ws, "_worksheet_path", None)
    finally:
        book.close()
    merges = []
    if worksheet_path:
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(worksheet_path.lstrip("/"))
        for a, top, b, bottom in _MERGE.findall(xml):
            merges.append((int(top) - 1, column_index_from_string(a.decode()) - 1,
                           int(bottom) - 1, column_index_from_string(b.decode()) - 1))
    return Grid(name, tuple(book.sheetnames), _filled(rows, merges), epoch)


# -- ODS ------------------------------------------------------------------------------------------------------------

def _read_ods(path: Path, sheet: str | None) -> Grid:
    from odf.namespaces import OFFICENS, TABLENS
    from odf.opendocument import load
    from odf.table import Table
    from odf import teletype

    try:
        document = load(str(path))
    except OSError:
        raise  # missing, unreadable: the caller names the file (services.file_faults)
    except Exception as exc:  # odfpy raises whatever its zip or XML parser raised
        raise ImportRejected(f"Le fichier « {path.name} » n'est pas un classeur ODS lisible.") from exc
    tables = document.spreadsheet.getElementsByType(Table)
    names = [t.getAttrNS(TABLENS, "name") for t in tables]
    name = _choose(names, sheet, path.name)
    table = tables[names.index(name)]
    rows: list[list[object]] = []
    merges: list[tuple[int, int, int, int]] = []
    for row in _ods_rows(table):
        repeat = int(row.getAttrNS(TABLENS, "number-rows-repeated") or 1)
        cells: list[object] = []
        for cell in row.childNodes:
            if cell.qname[1] not in ("table-cell", "covered-table-cell"):
                continue
            times = min(int(cell.getAttrNS(TABLENS, "number-columns-repeated") or 1), MAX_COLUMNS - len(cells))
            value = _ods_value(cell, OFFICENS, teletype) if cell.qname[1] == "table-cell" else None
            across = int(cell.getAttrNS(TABLENS, "number-columns-spanned") or 1)
            down = int(cell.getAttrNS(TABLENS, "number-rows-spanned") or 1)
            if across > 1 or down > 1:
                merges.append((len(rows), len(cells), len(rows) + down - 1, len(cells) + across - 1))
            cells.extend([value] * times)
            if len(cells) >= MAX_COLUMNS:
                break
        _trimmed(cells)
        for _ in range(min(repeat, MAX_ROWS - len(rows)) if cells else min(repeat, 1)):
            rows.append(list(cells))
        if len(rows) >= MAX_ROWS:
            break
    return Grid(name, tuple(names), _filled(rows, merges))


def _ods_rows(table):
    for child in table.childNodes:
        if child.qname[1] == "table-row":
            yield child
        elif child.qname[1] in ("table-header-rows", "table-rows", "table-row-group"):
            yield from _ods_rows(child)


def _ods_value(cell, office, teletype) -> object:
    kind = cell.getAttrNS(office, "value-type")
    try:
        if kind in ("float", "percentage", "currency"):
            number = float(cell.getAttrNS(office, "value"))
            return int(number) if number.is_integer() else number
        if kind == "date":
            text = cell.getAttrNS(office, "date-value")
            return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        if kind == "boolean":
            return cell.getAttrNS(office, "boolean-value") == "true"
    except (TypeError, ValueError):
        pass  # a value the file misstates: its shown text is read instead
    text = "\n".join(teletype.extractText(p) for p in cell.childNodes if p.qname[1] == "p")
    return _clean(text)


# -- CSV ------------------------------------------------------------------------------------------------------------

def _read_csv(path: Path) -> Grid:
    raw = path.read_bytes()
    text = _decode(raw)
    sample = "\n".join(text.splitlines()[:20])
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    rows = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        rows.append(_trimmed([_clean(v) for v in row[:MAX_COLUMNS]]))
        if len(rows) >= MAX_ROWS:
            break
    return Grid("", (), tuple(tuple(r) for r in rows))


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # Windows-1252: a French Excel's « CSV (séparateur : point-virgule) »
        return raw.decode("cp1252")
    except UnicodeDecodeError:  # one of its five unassigned bytes: Latin-1 reads every byte
        return raw.decode("latin-1")
