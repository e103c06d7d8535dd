"""The monthly statement ("état mensuel") as a printable A4 PDF, in French.

Built with reportlab platypus and its built-in Helvetica (WinAnsi: French accents, "€", "—", "…", "œ").
All text is real text, so the PDF can be searched and copied. Every piece of user data goes through `drawable`,
which replaces characters Helvetica cannot draw, and, in a Paragraph, through `_text`, which also escapes its
markup ("<", "&", ">"). Table cells are plain strings wrapped here to their column (`_fit`), not Paragraphs: a
long table is measured again at every page it splits over, and Paragraph cells made issuing a 1,000-family month
take seconds.

A closing statement (« état complémentaire de clôture », after the period's last month) is titled as such and
lists only its régularisations, each under the month it corrects; it has no detail per family or intervenant.

The stored PDF of an issued statement is rendered without family names; `with_names=True` makes the
partner's nominative copy. Notes and children are never printed. Rendering is deterministic (same
statement, same bytes), so the stored SHA-256 can be checked by rendering again.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import chain, repeat
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table,
                                TableStyle)

from services.billing.labels import FLAG_REASONS, KIND_LABELS, quantity_text
from services.billing.statement import Statement, StatementFlag, StatementLine
from services.formatting import format_date, format_hours, format_money, month_in_words, of_month
from services.pdf_style import HEAD_BG, INK, MUTED, RULE, drawable

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 14 * mm, 17 * mm
FRAME_PADDING = 6  # reportlab's default frame padding, in points, on each side
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X - 2 * FRAME_PADDING  # about 170 mm

FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
SECTION_BG = colors.HexColor("#f5f7fa")
WARNING = colors.HexColor("#b42318")
WATERMARK = colors.Color(0.55, 0.55, 0.55, alpha=0.22)

# ---------------------------------------------------------------------------------------------- text helpers

def _text(value) -> str:
    """User text, safe for Paragraph markup."""
    if value is None:
        return ""
    return escape(drawable(str(value)))


def _quantity(value: int) -> str:
    return f"{value:d}"


def _issued_date(issued_at: str | None) -> str:
    """The statement's issue date, dd/mm/yyyy, in French local time (issued_at is stored in UTC)."""
    if not issued_at:
        return ""
    try:
        moment = datetime.fromisoformat(issued_at)
    except ValueError:
        return format_date(issued_at)
    if moment.tzinfo is not None:
        try:
            from zoneinfo import ZoneInfo

            moment = moment.astimezone(ZoneInfo("Europe/Paris"))
        except Exception:  # no time-zone database (Windows without tzdata): local time of the machine
            moment = moment.astimezone()
    return format_date(moment.date())


def _month_period(month: str) -> tuple[str, str]:
    year, number = int(month[:4]), int(month[5:7])
    first = date(year, number, 1)
    last = date(year + (number == 12), number % 12 + 1, 1).toordinal() - 1
    return format_date(first), format_date(date.fromordinal(last))


# ---------------------------------------------------------------------------------------------- styles

def _style(name: str, **kw) -> ParagraphStyle:
    base = dict(fontName=FONT, fontSize=9, leading=11.5, textColor=INK, splitLongWords=1)
    base.update(kw)
    return ParagraphStyle(name, **base)


STYLES = {
    "programme": _style("programme", fontName=BOLD, fontSize=12, leading=15),
    "meta": _style("meta", fontSize=9, leading=12),
    "meta_right": _style("meta_right", fontSize=9, leading=12, alignment=TA_RIGHT),
    "number": _style("number", fontName=BOLD, fontSize=12, leading=15, alignment=TA_RIGHT),
    "draft": _style("draft", fontName=BOLD, fontSize=11, leading=14, alignment=TA_RIGHT, textColor=WARNING),
    "title": _style("title", fontName=BOLD, fontSize=17, leading=21, spaceBefore=4, spaceAfter=2),
    "subtitle": _style("subtitle", fontSize=9.5, leading=12, textColor=MUTED),
    "h2": _style("h2", fontName=BOLD, fontSize=11.5, leading=14, spaceBefore=10, spaceAfter=4),
    "body": _style("body", fontSize=9.5, leading=13),
    "note": _style("note", fontName=ITALIC, fontSize=8, leading=10, textColor=MUTED, spaceAfter=2),
    "warning": _style("warning", fontName=BOLD, fontSize=9.5, leading=13, textColor=WARNING),
    "notice": _style("notice", fontName=BOLD, fontSize=8.5, leading=11, textColor=WARNING),
}


def _widths(*parts: float) -> list[float]:
    """Column widths in proportion to `parts`, filling the text width exactly."""
    return [CONTENT_WIDTH * part / sum(parts) for part in parts]


def _p(markup: str, style: str) -> Paragraph:
    return Paragraph(markup, STYLES[style])


# ---------------------------------------------------------------------------------------------- table cells

PADDING, VERTICAL_PADDING = 4, 3  # points between a cell's text and its left and right, top and bottom edges
# Cell fonts: (name, size, leading), as TableStyle's FONT command takes them.
CELL, HEAD = (FONT, 8.5, 10.5), (BOLD, 8, 10)
SMALL, SMALL_HEAD = (FONT, 7.5, 9.5), (BOLD, 7.5, 9.5)
SECTION, SUBSECTION, TOTAL = (BOLD, 8.5, 10.5), (ITALIC, 8.5, 10.5), (BOLD, 10, 12.5)
ALIGNMENTS = {"L": "LEFT", "R": "RIGHT", "C": "CENTER"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")  # what a Paragraph collapses; a no-break space (in amounts) holds
_BREAKS = (" ", "\u00a0", "")  # where a line may break, in order of preference: "" is between two letters
_WIDEST: dict[str, float] = {}  # font name -> width of its widest glyph, per point of size


@lru_cache(maxsize=4096)  # a month repeats its reasons, names and counts thousands of times
def _fit(value, font: tuple, width: float) -> str:
    """`value` as a plain table cell: whitespace collapsed as in a Paragraph, then lines no wider than `width`
    joined by newlines, so nothing is cut off."""
    text = _SPACES.sub(" ", drawable(str(value))).strip(" ") if value is not None else ""
    name, size = font[0], font[1]
    if name not in _WIDEST:
        _WIDEST[name] = max(getFont(name).widths) / 1000
    if len(text) * size * _WIDEST[name] <= width:  # fits whatever its letters: most cells are never measured
        return text

    def fits(line: str) -> bool:
        return stringWidth(line, name, size) <= width

    return text if fits(text) else "\n".join(_broken(text, _BREAKS, fits))


def _broken(text: str, breaks: tuple[str, ...], fits) -> list[str]:
    """Greedy lines of `text` broken at breaks[0]; a piece too wide for a line alone is broken at the next breaks
    (words at no-break spaces, then between letters, as Paragraph's splitLongWords did)."""
    mark, last = breaks[0], len(breaks) == 1
    lines: list[str] = []
    line = ""
    for piece in (text.split(mark) if mark else text):
        joined = f"{line}{mark}{piece}" if line else piece
        if fits(joined) or (last and not line):  # a letter alone always takes its line
            line = joined
            continue
        if line:
            lines.append(line)
        if last or fits(piece):
            line = piece
        else:
            *whole, line = _broken(piece, breaks[1:], fits)
            lines.extend(whole)
    return [*lines, line]


def _row(values, widths: list[float], font: tuple) -> list[str]:
    return [_fit(value, font, width - 2 * PADDING) for value, width in zip(values, widths)]


def _grid(rows: list[list[str]], widths: list[float], align: str, body: tuple = CELL, head: tuple = HEAD,
          extra: list | None = None) -> Table:
    """A table of plain cells under a header row repeated on each page; `align` is L, R or C for each column."""
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), VERTICAL_PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), VERTICAL_PADDING),
        ("FONT", (0, 0), (-1, -1), *body),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONT", (0, 0), (-1, 0), *head),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
    commands += [("ALIGN", (column, 0), (column, -1), ALIGNMENTS[a]) for column, a in enumerate(align) if a != "L"]
    heights = None
    if not extra:  # rows in the body and head fonts only: their heights are known without measuring every cell
        heights = [font[2] * (1 + max(cell.count("\n") for cell in row)) + 2 * VERTICAL_PADDING
                   for font, row in zip(chain([head], repeat(body)), rows)]
    table = Table(rows, colWidths=widths, rowHeights=heights, repeatRows=1)
    table.setStyle(TableStyle(commands + (extra or [])))
    return table


# ---------------------------------------------------------------------------------------------- sections

def _header(statement: Statement, with_names: bool) -> list:
    programme = _text(statement.programme)
    if statement.city:  # the city on its own line rather than a dash left hanging at a line end
        programme += f"<br/><font name='{FONT}' size='10'>{_text(statement.city)}</font>"
    period = f"du {format_date(statement.period_start)}"
    period += f" au {format_date(statement.period_end)}" if statement.period_end else " (sans date de fin)"
    left = [
        _p(programme, "programme"),
        _p(f"Partenaire : <b>{_text(statement.partner)}</b>", "meta"),
        _p(f"Action : <b>{_text(statement.action)}</b> — convention {_text(statement.convention)}", "meta"),
        _p(f"Période de la convention : {period}", "meta"),
    ]
    if statement.budget_imputation:
        left.append(_p(f"Imputation budgétaire : {_text(statement.budget_imputation)}", "meta"))
    if statement.status == "draft":
        right = [_p("Projet — non émis", "draft"),
                 _p("Document de travail, sans valeur de facture", "meta_right")]
    else:
        right = [_p(f"N° {_text(statement.number)}", "number")]
        if statement.issued_at:
            right.append(_p(f"Émis le {_issued_date(statement.issued_at)}", "meta_right"))
    top = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.64, CONTENT_WIDTH * 0.36])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                             ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    if statement.closing:
        title = "État complémentaire de clôture"
        subtitle = ("Régularisations des mois de la convention, tous déjà émis, constatées après l'émission de leur "
                    "état : aucune prestation nouvelle. Montants TTC.")
    else:
        first, last = _month_period(statement.month)
        title = f"État mensuel — {month_in_words(statement.month)}"
        subtitle = f"Prestations réalisées du {first} au {last}. Montants TTC."
    flowables = [
        top, Spacer(1, 8),
        Table([[""]], colWidths=[CONTENT_WIDTH], rowHeights=[1],
              style=[("LINEABOVE", (0, 0), (-1, 0), 1.2, INK)]),
        _p(title, "title"),
        _p(subtitle, "subtitle"),
    ]
    if with_names:
        flowables.append(Spacer(1, 3))
        flowables.append(_p("Exemplaire nominatif : contient des données personnelles, ne pas diffuser.", "notice"))
    return flowables


LINE_WIDTHS = _widths(70, 24, 20, 28, 32)


def _line_row(line: StatementLine) -> list[str]:
    return _row([KIND_LABELS.get(line.kind, line.kind), line.qualification, quantity_text(line.kind, line.quantity),
                 format_money(line.unit_price), format_money(line.amount)], LINE_WIDTHS, CELL)


def _summary(statement: Statement) -> list:
    rows = [_row(["Prestation", "Qualification", "Quantité", "Prix unitaire", "Montant"], LINE_WIDTHS, HEAD)]
    extra: list = []
    current, regularisations = statement.current_lines, statement.regularisation_lines

    def section(text: str, font: tuple = SECTION, background=SECTION_BG) -> None:
        row = len(rows)
        rows.append([_fit(text, font, CONTENT_WIDTH - 2 * PADDING), "", "", "", ""])
        extra.extend([("SPAN", (0, row), (-1, row)), ("FONT", (0, row), (-1, row), *font)])
        if background:
            extra.append(("BACKGROUND", (0, row), (-1, row), background))

    if statement.closing:  # régularisations only, each under the month it corrects
        if not regularisations:
            section("Aucune régularisation à reporter.", SUBSECTION, None)
        for month in sorted({line.month for line in regularisations}):
            section(f"Régularisation {of_month(month)} (mois corrigé)")
            rows.extend(_line_row(line) for line in regularisations if line.month == month)
            _subtotal(rows, extra, f"Sous-total de la régularisation {of_month(month)}",
                      sum((l.amount for l in regularisations if l.month == month), Decimal("0.00")))
    else:
        if regularisations:
            section(f"Prestations {of_month(statement.month)}")
        if current:
            rows.extend(_line_row(line) for line in current)
        else:
            section("Aucune prestation facturée ce mois-ci.", SUBSECTION, None)
        if regularisations:
            _subtotal(rows, extra, f"Sous-total {month_in_words(statement.month)}",
                     sum((l.amount for l in current), Decimal("0.00")))
            section("Régularisations")
            months = sorted({line.month for line in regularisations})
            for month in months:
                section(f"Régularisation {of_month(month)}", SUBSECTION, None)
                rows.extend(_line_row(line) for line in regularisations if line.month == month)
            _subtotal(rows, extra, "Sous-total des régularisations",
                     sum((l.amount for l in regularisations), Decimal("0.00")))
    total_row = _sum_row(rows, extra, "Total TTC", statement.total, TOTAL)
    extra.extend([("LINEABOVE", (0, total_row), (-1, total_row), 1, INK),
                  ("LINEBELOW", (0, total_row), (-1, total_row), 1, INK),
                  ("BACKGROUND", (0, total_row), (-1, total_row), HEAD_BG),
                  ("TOPPADDING", (0, total_row), (-1, total_row), 5),
                  ("BOTTOMPADDING", (0, total_row), (-1, total_row), 5)])
    return [_p("Récapitulatif", "h2"), _grid(rows, LINE_WIDTHS, "LLRRR", extra=extra)]


def _sum_row(rows: list, extra: list, label: str, amount: Decimal, font: tuple) -> int:
    """A label over the first three columns and its amount over the last two; returns the row's index."""
    row = len(rows)
    # the amount spans the last two columns: a total of twelve digits stays on one line
    rows.append([_fit(label, font, sum(LINE_WIDTHS[:3]) - 2 * PADDING), "", "",
                 _fit(format_money(amount), font, sum(LINE_WIDTHS[3:]) - 2 * PADDING), ""])
    extra.extend([("SPAN", (0, row), (2, row)), ("SPAN", (3, row), (4, row)), ("FONT", (0, row), (-1, row), *font)])
    return row


def _subtotal(rows: list, extra: list, label: str, amount: Decimal) -> None:
    row = _sum_row(rows, extra, label, amount, CELL)
    extra.append(("LINEABOVE", (0, row), (-1, row), 0.6, MUTED))


def _closing_note(statement: Statement) -> list:
    period = f"du {format_date(statement.period_start)}" + (
        f" au {format_date(statement.period_end)}" if statement.period_end else "")
    return [Spacer(1, 3), _p(
        f"La période de la convention ({period}) est close et tous ses états mensuels sont émis : une correction "
        "d'un de ses mois ne peut plus venir sur un état mensuel. Chaque ligne est la différence entre ce que le "
        "mois donne aujourd'hui et ce que ses états émis (état du mois, régularisations et états de clôture "
        "précédents) ont déjà porté. Le détail des prestations figure sur l'état de chaque mois.", "note")]


def _budget(statement: Statement) -> list:
    cumul = f"Cumul {statement.cumulative_label} : <b>{format_money(statement.period_to_date)}</b>"
    if statement.budget_cap is not None:
        cumul += f" sur un plafond de {format_money(statement.budget_cap)}"
        if not statement.over_budget:
            cumul += f", reste {format_money(statement.budget_left)}"
    else:
        cumul += " (sans plafond)"
    flowables = [_p("Suivi budgétaire", "h2"), _p(cumul, "body"),
                 _p("Cumul des états de la convention jusqu'à celui-ci compris." if statement.cumulative_since
                    else f"Cumul des états de {statement.month[:4]} jusqu'à celui-ci compris.", "note")]
    if statement.over_budget:
        excess = statement.period_to_date - statement.budget_cap
        flowables.append(_p(f"Attention : plafond budgétaire dépassé de {format_money(excess)}.", "warning"))
    families = (f"Familles orientées {statement.cumulative_label} : <b>{statement.families_in_period}</b>"
                if statement.cumulative_since else
                f"Familles accompagnées cette année : <b>{statement.families_in_period}</b>")
    if statement.max_families is not None:
        families += f" (maximum indicatif : {statement.max_families})"
    flowables.extend([Spacer(1, 4), _p(families, "body")])
    if statement.over_capacity:
        flowables.append(_p(f"Attention : le maximum indicatif de {statement.max_families} familles est dépassé.",
                            "warning"))
    return [KeepTogether(flowables)]


def _families(statement: Statement, with_names: bool) -> list:
    heading = _p("Détail par famille", "h2")
    if not statement.families:
        return [heading, _p("Aucune famille accompagnée ce mois-ci.", "body")]
    head = ["Code", *(["Famille"] if with_names else []), "Séances facturées", "Préparations facturées",
            "Heures réalisées", "Montant"]
    widths = [20, *([54] if with_names else []), 26, 28, 24, 30]
    widths[0] += 174 - sum(widths)  # without names the code column takes the spare width
    widths = _widths(*widths)
    rows = [_row(head, widths, HEAD)]
    rows.extend(_row([family.code, *([family.name] if with_names else []), _quantity(family.sessions_billed),
                      _quantity(family.preparations_billed), format_hours(family.minutes_delivered),
                      format_money(family.amount)], widths, CELL)
                for family in statement.families)
    note = _p(f"Prestations {of_month(statement.month)} rattachées à chaque famille (séances et "
              "préparations), hors réunions et régularisations.", "note")
    table = _grid(rows, widths, "LLRRRR" if with_names else "LRRRR")
    return [CondPageBreak(25 * mm), heading, note, Spacer(1, 3), table]  # a note after would be orphaned


INTERVENANT_WIDTHS = _widths(50, 22, 17, 22, 18, 17, 28)


def _intervenants(statement: Statement) -> list:
    heading = _p("Détail par intervenant", "h2")
    if not statement.intervenants:
        return [heading, _p("Aucun intervenant ce mois-ci.", "body")]
    widths = INTERVENANT_WIDTHS
    rows = [_row(["Intervenant", "Qualification", "Séances", "Préparations", "Réunions", "Heures", "Montant"],
                 widths, HEAD)]
    rows.extend(_row([person.name, person.qualification, _quantity(person.sessions_billed),
                      _quantity(person.preparations_billed), _quantity(person.meetings_billed),
                      format_hours(person.minutes_delivered), format_money(person.amount)], widths, CELL)
                for person in statement.intervenants)
    note = _p(f"Prestations {of_month(statement.month)}, hors régularisations.", "note")
    return [CondPageBreak(25 * mm), heading, note, Spacer(1, 3), _grid(rows, widths, "LLRRRRR")]


ANNEX_WIDTHS = _widths(18, 50, 22, 14, 35, 19, 14)


def _flag_row(flag: StatementFlag, names: dict[str, str]) -> list[str]:
    reference = flag.session or flag.meeting or "—"
    intervenant = names.get(flag.intervenant, flag.intervenant) if flag.intervenant else "—"
    return _row([format_date(flag.date), FLAG_REASONS.get(flag.kind, flag.kind), reference, flag.family or "—",
                 intervenant, "Accordée" if flag.approved else "—", "Oui" if flag.billed else "Non"],
                ANNEX_WIDTHS, SMALL)


def _annex(statement: Statement) -> list:
    heading = _p("Annexe — Éléments signalés", "h2")
    if not statement.flags:
        return [heading, _p("Aucun élément signalé.", "body")]
    names = {person.code: person.name for person in statement.intervenants}
    rows = [_row(["Date", "Motif", "Séance / Réunion", "Famille", "Intervenant", "Dérogation", "Facturé"],
                 ANNEX_WIDTHS, SMALL_HEAD)]
    flags = sorted(statement.flags, key=lambda f: (f.date, f.session or f.meeting or "", f.kind))
    rows.extend(_flag_row(flag, names) for flag in flags)
    table = _grid(rows, ANNEX_WIDTHS, "LLLLLCC", body=SMALL, head=SMALL_HEAD)
    note = _p("Une séance ou réunion signalée n'est facturée qu'avec une dérogation accordée ; "
              "l'absence du référent à la première séance est un simple avertissement.", "note")
    return [CondPageBreak(25 * mm), heading, note, Spacer(1, 3), table]  # a note after would be orphaned


def _signature(statement: Statement) -> list:
    place = _text(statement.city) if statement.city else "…"
    when = _issued_date(statement.issued_at) if statement.status != "draft" and statement.issued_at else "……/……/…………"
    block = Table(
        [[_p(f"Certifié exact, à {place}, le {when}", "body"),
          _p("L'administrateur — nom, qualité et signature :", "body")],
         ["", ""]],
        colWidths=_widths(1, 1), rowHeights=[None, 16 * mm])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("LEFTPADDING", (1, 0), (1, -1), 12),
                               ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                               ("LINEBELOW", (1, 1), (1, 1), 0.6, INK)]))
    return [Spacer(1, 10), KeepTogether([block])]


# ---------------------------------------------------------------------------------------------- pages

def _numbered_canvas(statement: Statement):
    """A canvas that knows the page count when it draws the footers ("Page n / N")."""
    draft = statement.status == "draft"
    label = (f"État complémentaire de clôture {statement.convention}" if statement.closing else
             f"État mensuel {statement.convention} — {month_in_words(statement.month)}")
    label = drawable(label + (" — PROJET" if draft else f" — N° {statement.number or ''}"))

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(MARGIN_X, 13 * mm, PAGE_WIDTH - MARGIN_X, 13 * mm)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN_X, 9 * mm, label)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, 9 * mm, f"Page {self._pageNumber} / {total}")
            self.restoreState()

    return NumberedCanvas


def _watermark(canvas: Canvas, _doc) -> None:
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    canvas.setFont(BOLD, 130)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(52)
    canvas.drawCentredString(0, -45, "PROJET")
    canvas.restoreState()


def _nothing(_canvas: Canvas, _doc) -> None:
    pass


def render_statement_pdf(statement: Statement, with_names: bool = False) -> bytes:
    """The statement as PDF bytes (A4 portrait). Family names only when `with_names` is true."""
    buffer = io.BytesIO()
    what = ("État complémentaire de clôture" if statement.closing
            else f"État mensuel — {month_in_words(statement.month)}")
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, invariant=1,
        title=drawable(f"{what} — {statement.convention}"
                        + (" (projet)" if statement.status == "draft" else f" — N° {statement.number}")),
        author=drawable(statement.programme), subject=drawable(f"{statement.action} — {statement.partner}"),
        creator="Parcours")
    if statement.closing:  # corrections of months whose details are on their own statements
        story = [*_header(statement, with_names), *_summary(statement), *_closing_note(statement),
                 *_budget(statement), *_signature(statement)]
    else:
        story = [*_header(statement, with_names), *_summary(statement), *_budget(statement),
                 *_families(statement, with_names), *_intervenants(statement), *_signature(statement),
                 *_annex(statement)]  # the annex after the signature: never a page holding only the signature
    on_page = _watermark if statement.status == "draft" else _nothing
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=_numbered_canvas(statement))
    return buffer.getvalue()
