"""The read-only table models of the administrator's pages, on the shared `ui.table_model.RowsModel`.

Each list has its column constants (`StatementLinesModel.AMOUNT`), French headers and native sort values
(int cents for money, ISO text for dates and months, numbers for counts), behind `sorting_proxy()`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont

from services.billing.labels import FLAG_REASONS, KIND_LABELS, quantity_text
from services.billing.statement import Statement, StatementFlag, StatementLine
from services.conventions_admin import ConventionSummary
from services.formatting import format_date, format_money, month_in_words, of_month
from ui.table_model import (CENTER, RIGHT, ROW_ROLE, SORT_ROLE, WARNING, Column, ListModel, RowsModel, collate,
                            count_column, hours_column, sorting_proxy, text_column)

__all__ = ["ROW_ROLE", "SORT_ROLE", "RowsModel", "sorting_proxy"]

REGULARISATION_BACKGROUND = QColor("#fff4e5")


def cents(value: Decimal | None) -> int:
    """Money as a native sort value (never float); no amount sorts first."""
    return -(10 ** 15) if value is None else int((value * 100).to_integral_value())


def money_column(title: str, get: Callable[[Any], Decimal | None]) -> Column:
    return Column(title, lambda r: format_money(get(r)), lambda r: cents(get(r)), RIGHT)


def month_column(title: str, get: Callable[[Any], str]) -> Column:
    return Column(title, lambda r: month_in_words(get(r)), get)


def local_datetime(iso: str | None) -> datetime | None:
    return None if not iso else datetime.fromisoformat(iso).astimezone()


def kind_label(kind: str) -> str:
    """'home_intervention' -> 'Intervention à domicile', the PDF's words."""
    return KIND_LABELS.get(kind, kind)


def flag_reason(kind: str) -> str:
    return FLAG_REASONS.get(kind, kind)


# --------------------------------------------------------------------------------------------- statement


def line_period(line: StatementLine, statement_month: str) -> str:
    if line.month == statement_month:
        return month_in_words(line.month)
    return f"Régularisation {of_month(line.month)}"


class StatementLinesModel(RowsModel):
    """The summary of the statement, in the statement's order; regularisation lines are tinted and italic."""

    SERVICE, PERIOD, QUALIFICATION, QUANTITY, UNIT_PRICE, AMOUNT = range(6)

    def __init__(self, parent: QObject | None = None):
        super().__init__((
            Column("Prestation", lambda r: kind_label(r[1].kind), lambda r: r[0]),
            Column("Mois", lambda r: line_period(r[1], self._month),
                   lambda r: f"{int(r[1].month != self._month)} {r[1].month} {r[0]:05d}"),
            text_column("Qualification", lambda r: r[1].qualification),
            Column("Quantité", lambda r: quantity_text(r[1].kind, r[1].quantity), lambda r: r[1].quantity, RIGHT),
            money_column("Prix unitaire", lambda r: r[1].unit_price),
            money_column("Montant", lambda r: r[1].amount),
        ), parent, background=self._tint, foreground=self._negative)
        self._month = ""

    def set_statement(self, statement: Statement | None) -> None:
        """Rows are (position in the statement, line): sorting on Prestation restores the statement's order."""
        self._month = statement.month if statement else ""
        self.set_rows(tuple(enumerate(statement.lines)) if statement else ())

    def line_at(self, row: int) -> StatementLine:
        return self.row_at(row)[1]

    def is_regularisation(self, row: int) -> bool:
        return self.line_at(row).month != self._month

    def _tint(self, row, _column: int) -> QColor | None:
        return REGULARISATION_BACKGROUND if row[1].month != self._month else None

    def _negative(self, row, column: int) -> QColor | None:
        return WARNING if column in (self.QUANTITY, self.AMOUNT) and row[1].amount < 0 else None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.FontRole and index.isValid() and 0 <= index.row() < self.rowCount():
            if self.is_regularisation(index.row()):
                font = QFont()
                font.setItalic(True)
                return font
            return None
        return super().data(index, role)


def _subject(flag: StatementFlag) -> str:
    return flag.session or flag.meeting or ""


class FlagsModel(RowsModel):
    """What the statement signals: sessions or meetings left out, or billed with a warning."""

    DATE, REASON, SUBJECT, FAMILY, INTERVENANT, EXCEPTION, BILLED = range(7)

    def __init__(self, parent: QObject | None = None):
        super().__init__((
            Column("Date", lambda f: format_date(f.date), lambda f: f.date),
            text_column("Motif", lambda f: flag_reason(f.kind), tooltip=True),
            text_column("Séance / réunion", _subject),
            text_column("Famille", lambda f: f.family),
            text_column("Intervenant", lambda f: self._names.get(f.intervenant or "", f.intervenant)),
            Column("Dérogation", lambda f: "Accordée" if f.approved else "—", lambda f: int(f.approved), CENTER),
            Column("Facturé", lambda f: "Oui" if f.billed else "Non", lambda f: int(f.billed), CENTER),
        ), parent, foreground=lambda f, column: WARNING if column == self.BILLED and not f.billed else None)
        self._names: dict[str, str] = {}

    def set_statement(self, statement: Statement | None) -> None:
        self._names = {i.code: i.name for i in statement.intervenants} if statement else {}
        self.set_rows(statement.flags if statement else ())


class FamilyDetailsModel(ListModel):
    """Per family; the page shows the NAME column only for the partner's nominative copy."""

    CODE, NAME, SESSIONS, PREPARATIONS, HOURS, AMOUNT = range(6)
    COLUMNS = (
        text_column("Code famille", lambda f: f.code),
        text_column("Nom", lambda f: f.name),
        count_column("Séances facturées", lambda f: f.sessions_billed),
        count_column("Préparations facturées", lambda f: f.preparations_billed),
        hours_column("Heures réalisées", lambda f: f.minutes_delivered),
        money_column("Montant", lambda f: f.amount),
    )


class IntervenantDetailsModel(ListModel):
    NAME, QUALIFICATION, SESSIONS, PREPARATIONS, MEETINGS, HOURS, AMOUNT = range(7)
    COLUMNS = (
        text_column("Intervenant", lambda i: i.name),
        text_column("Qualification", lambda i: i.qualification),
        count_column("Séances facturées", lambda i: i.sessions_billed),
        count_column("Préparations facturées", lambda i: i.preparations_billed),
        count_column("Réunions facturées", lambda i: i.meetings_billed),
        hours_column("Heures réalisées", lambda i: i.minutes_delivered),
        money_column("Montant", lambda i: i.amount),
    )


def issued_on(statement: Statement) -> str:
    moment = local_datetime(statement.issued_at)
    return format_date(moment.date()) if moment else ""


class IssuedStatementsModel(ListModel):
    NUMBER, MONTH, TOTAL, ISSUED_ON, SHA256 = range(5)
    COLUMNS = (
        text_column("N°", lambda s: s.number),
        Column("Mois", lambda s: "État de clôture" if s.closing else month_in_words(s.month), lambda s: s.month),
        money_column("Total TTC", lambda s: s.total),
        Column("Émis le", issued_on, lambda s: s.issued_at or ""),
        Column("SHA-256 du PDF", lambda s: f"{s.pdf_sha256[:12]}…" if s.pdf_sha256 else "—",
               lambda s: s.pdf_sha256 or "", tooltip=lambda s: s.pdf_sha256),
    )


# ------------------------------------------------------------------------------------------- conventions


class PartnersModel(ListModel):
    NAME, INTERVENANTS, CONVENTIONS = range(3)
    COLUMNS = (
        Column("Partenaire", lambda p: p.name, lambda p: collate(p.name), tooltip=lambda p: f"Clé : {p.key}"),
        count_column("Intervenants", lambda p: p.intervenants),
        count_column("Conventions", lambda p: p.conventions),
    )


class IntervenantsModel(ListModel):
    NAME, QUALIFICATION, PARTNER = range(3)
    COLUMNS = (
        Column("Intervenant", lambda i: i.name, lambda i: collate(i.name), tooltip=lambda i: f"Clé : {i.key}"),
        text_column("Qualification", lambda i: i.qualification),
        text_column("Partenaire", lambda i: i.partner_name),
    )


def convention_period(c: ConventionSummary) -> str:
    return f"{format_date(c.start)} – {format_date(c.end)}" if c.end else f"depuis le {format_date(c.start)}"


def convention_tooltip(c: ConventionSummary) -> str:
    return f"{c.action}, {convention_period(c)}"


class ConventionsModel(ListModel):
    """Short enough for the side of the editor; the action and the period are in the tooltip and the form."""

    KEY, PARTNER, ISSUED = range(3)
    COLUMNS = (
        Column("Convention", lambda c: c.key, lambda c: collate(c.key), tooltip=convention_tooltip),
        Column("Partenaire", lambda c: c.partner_name, lambda c: collate(c.partner_name), tooltip=convention_tooltip),
        Column("États émis", lambda c: str(len(c.issued_months)) if c.issued_months else "aucun",
               lambda c: len(c.issued_months), RIGHT),
    )
