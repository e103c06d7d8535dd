"""The spreadsheet wizard's read-only table models: the first rows of the sheet (the header row shown in bold), and
the report before anything is written (one line per child to create, child merged, differing value, value without
correspondence and refusal)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from services.formatting import format_date
from ui.table_model import INDEX

PREVIEW_ROWS = 12
REFUSED, WARNED = QColor("#fde8e7"), QColor("#fdf1d6")


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_date(value.date())
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


class GridPreviewModel(QAbstractTableModel):
    """The first rows of a grid, numbered as the sheet numbers them; columns lettered A, B, C…"""

    def __init__(self, rows=(), header_row: int | None = None, parent=None):
        super().__init__(parent)
        self._rows: tuple = ()
        self._width = 0
        self._header = header_row
        self.set_rows(rows, header_row)

    def set_rows(self, rows, header_row: int | None) -> None:
        self.beginResetModel()
        self._rows = tuple(rows[:PREVIEW_ROWS + (header_row or 0)])
        self._width = max((len(r) for r in self._rows), default=0)
        self._header = header_row
        self.endResetModel()

    def rowCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._width

    def data(self, index: INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return cell_text(row[index.column()]) if index.column() < len(row) else ""
        if role == Qt.ItemDataRole.FontRole and index.row() + 1 == self._header:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            from openpyxl.utils import get_column_letter

            return get_column_letter(section + 1) if 0 <= section < self._width else None
        return str(section + 1) if 0 <= section < len(self._rows) else None


@dataclass(frozen=True)
class ReportLine:
    outcome: str  # « À créer », « Fusionné », « Valeur différente », « Sans correspondance », « Refusé »
    rows: str
    column: str
    detail: str
    blocking: bool = False


def report_lines(report) -> tuple[ReportLine, ...]:
    """The lines of a SheetImportReport, in the order a coordinator reads them."""
    def rows(numbers) -> str:
        return ", ".join(map(str, numbers[:12])) + ("…" if len(numbers) > 12 else "")

    lines = []
    for r in report.refused:
        lines.append(ReportLine("Refusé", str(r.row or ""), r.column or "", r.reason, True))
    for v in report.unmapped:
        lines.append(ReportLine("Sans correspondance", rows(v.rows), v.column,
                                f"« {v.value} » : à choisir à l'étape des valeurs", True))
    for c in report.created:
        actions = f" ; actions : {', '.join(c.actions)}" if c.actions else ""
        lines.append(ReportLine("À créer", rows(c.rows), "", f"{c.first_name} {c.last_name}, né·e le "
                                f"{format_date(c.birth_date)} (foyer {c.family}){actions}"))
    for m in report.merged:
        added = f"ajouté : {', '.join(m.added)}" if m.added else "rien de nouveau"
        lines.append(ReportLine("Fusionné", rows(m.rows), "", f"{m.first_name} {m.last_name}, né·e le "
                                f"{format_date(m.birth_date)} — {added}"))
        for d in m.differences:
            lines.append(ReportLine("Valeur différente", str(d.row), d.column or "",
                                    f"non modifiée : « {d.stored} » dans Parcours, « {d.sheet} » dans la feuille"))
    return tuple(lines)


class ReportModel(QAbstractTableModel):
    HEADERS = ("Résultat", "Ligne(s)", "Colonne", "Détail")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lines: tuple[ReportLine, ...] = ()

    def set_report(self, report) -> None:
        self.beginResetModel()
        self._lines = report_lines(report) if report is not None else ()
        self.endResetModel()

    def rowCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        line = self._lines[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (line.outcome, line.rows, line.column, line.detail)[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and (line.blocking or line.outcome == "Valeur différente"):
            return QBrush(REFUSED if line.blocking else WARNED)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None
