"""A report as a printable A4 PDF, in French: a title block, then each table with its chart.

reportlab platypus with its built-in Helvetica (WinAnsi: user text through pdf_style.drawable). Cells are
Paragraphs, so long labels and headers wrap inside their column; a table with more than seven value columns
(referral source × reasons) is set on a landscape page so that no header is squeezed below a word's width.
Charts are reportlab.graphics drawings: a VerticalBarChart for a distribution (category labels wrapped, turned a
quarter when there are many), a HorizontalLineChart for a year by month (the cap as one of the lines).
"""
from __future__ import annotations

import io
import textwrap
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (BaseDocTemplate, Frame, KeepTogether, NextPageTemplate, PageBreak,
                                PageTemplate, Paragraph, Spacer, Table, TableStyle)

from services.pdf_style import HEAD_BG, INK, MUTED, RULE, drawable
from services.reports.chart_data import ChartData, chart_data
from services.reports.model import Report, ReportTable
from services.reports.tables import TOTAL
from services.reports.values import grouped, is_money, value_text

MARGIN = 16 * mm
PORTRAIT, LANDSCAPE = A4, landscape(A4)
WIDE = 7  # value columns beyond which a table goes on a landscape page
FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
SERIES_COLOURS = (colors.HexColor("#2f6690"), colors.HexColor("#d9822b"), colors.HexColor("#3a7d44"),
                  colors.HexColor("#9c4f96"), colors.HexColor("#b42318"))
EXACT = "Chiffres exacts — usage interne"
SUPPRESSED_NOTE = "Effectifs inférieurs à 5 masqués"

_TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=17, leading=21, textColor=INK, spaceAfter=4)
_SUBTITLE = ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=14, textColor=INK)
_NOTE = ParagraphStyle("note", fontName=ITALIC, fontSize=8.5, leading=11, textColor=MUTED)
_MENTION = ParagraphStyle("mention", fontName=BOLD, fontSize=10, leading=13, textColor=colors.HexColor("#b42318"))
_HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=11, leading=14, textColor=INK, spaceBefore=10,
                          spaceAfter=4)
_HEAD = ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9, textColor=INK)
_HEAD_NUMBER = ParagraphStyle("head_number", parent=_HEAD, alignment=TA_RIGHT)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10, textColor=INK)
_NUMBER = ParagraphStyle("number", parent=_CELL, alignment=TA_RIGHT)
_TOTAL_CELL = ParagraphStyle("total", parent=_CELL, fontName=BOLD)
_TOTAL_NUMBER = ParagraphStyle("total_number", parent=_NUMBER, fontName=BOLD)


def _text(value) -> str:
    return escape(drawable(str(value)))


def mention(report: Report) -> str:
    return EXACT if report.exact else SUPPRESSED_NOTE


def report_pdf(report: Report) -> bytes:
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=PORTRAIT, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                          bottomMargin=MARGIN + 4 * mm, title=drawable(report.title),
                          author=drawable(report.programme_name), invariant=True)
    footer = _footer(report)
    doc.addPageTemplates([
        PageTemplate("portrait", [Frame(MARGIN, MARGIN + 4 * mm, PORTRAIT[0] - 2 * MARGIN,
                                        PORTRAIT[1] - 2 * MARGIN - 4 * mm)], onPage=footer, pagesize=PORTRAIT),
        PageTemplate("landscape", [Frame(MARGIN, MARGIN + 4 * mm, LANDSCAPE[0] - 2 * MARGIN,
                                         LANDSCAPE[1] - 2 * MARGIN - 4 * mm)], onPage=footer, pagesize=LANDSCAPE),
    ])
    story = _title_block(report)
    orientation = "portrait"
    for table in report.tables:
        wanted = "landscape" if len(table.headers) - table.label_columns > WIDE else "portrait"
        if wanted != orientation:
            story += [NextPageTemplate(wanted), PageBreak()]
            orientation = wanted
        width = (LANDSCAPE if wanted == "landscape" else PORTRAIT)[0] - 2 * MARGIN - 12
        story += _section(table, width)
    doc.build(story)
    return out.getvalue()


def _footer(report: Report):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        width = canvas._pagesize[0]
        text = drawable(f"{report.programme_name} — {report.period.label()} — {mention(report)}")
        while stringWidth(text, FONT, 7.5) > width - 2 * MARGIN - 40 and len(text) > 10:
            text = text[:-2].rstrip() + "…"  # a long programme name stops short of the page number
        canvas.drawString(MARGIN, MARGIN - 2 * mm, text)
        canvas.drawRightString(width - MARGIN, MARGIN - 2 * mm, f"Page {doc.page}")
        canvas.restoreState()
    return draw


def _title_block(report: Report) -> list:
    block = [Paragraph(_text(report.title), _TITLE),
             Paragraph(_text(report.programme_name), _SUBTITLE),
             Paragraph(_text(report.period.label()), _SUBTITLE), Spacer(1, 4),
             Paragraph(_text(mention(report)), _MENTION)]
    if not report.exact:
        block.append(Paragraph(_text(
            "Tout effectif de 1 à 4 est remplacé par « < 5 » ; une autre case de la même ligne ou colonne est "
            "« masqué » lorsque le total permettrait de retrouver l'effectif caché."), _NOTE))
    return block + [Spacer(1, 6)]


def _section(table: ReportTable, width: float) -> list:
    heading = Paragraph(_text(table.title), _HEADING)
    grid = _grid(table, width)
    chart = chart_data(table)
    parts = [heading, grid]
    if chart is not None:
        drawing = _chart(chart, width, table)
        if drawing is not None:
            parts += [Spacer(1, 6), drawing]
        if chart.hidden:
            parts.append(Paragraph(_text("Les valeurs masquées ne sont pas dessinées." if drawing is not None else
                                         "Pas de graphique : toutes les valeurs sont masquées ou nulles."), _NOTE))
    return [KeepTogether(parts), Spacer(1, 8)]


def _grid(table: ReportTable, width: float) -> Table:
    labels = table.label_columns
    values = len(table.headers) - labels
    label_width = min(width * (0.45 if values <= 3 else 0.30 if values <= WIDE else 0.19), 75 * mm) / labels
    value_width = (width - label_width * labels) / max(values, 1)
    size = _header_size(table.headers[labels:], value_width - 6)
    numbers = ParagraphStyle("head_fit", parent=_HEAD_NUMBER, fontSize=size, leading=size + 1.5)
    head = [Paragraph(_text(h), _HEAD if i < labels else numbers) for i, h in enumerate(table.headers)]
    body = []
    for row in table.rows:
        total = row[0] == TOTAL
        cells = []
        for i, value in enumerate(row):
            if i < labels:
                cells.append(Paragraph(_text(value), _TOTAL_CELL if total else _CELL))
            else:
                cells.append(Paragraph(_text(value_text(value, is_money(table, i))),
                                       _TOTAL_NUMBER if total else _NUMBER))
        body.append(cells)
    grid = Table([head, *body], colWidths=[label_width] * labels + [value_width] * values, repeatRows=1)
    style = [("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
             ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("TOPPADDING", (0, 0), (-1, -1), 2 if values <= WIDE else 1),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 2 if values <= WIDE else 1),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if table.rows and table.rows[-1][0] == TOTAL:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, INK))
    grid.setStyle(TableStyle(style))
    return grid


def _header_size(headers, width: float) -> float:
    """The largest size, 7.5 points at most, at which every word of the value headers fits its column: a word is
    never cut in two."""
    words = [w for h in headers for w in drawable(h).split()] or [""]
    widest = max(stringWidth(w, BOLD, 7.5) for w in words)
    return max(5.0, min(7.5, 7.5 * width / widest)) if widest else 7.5


def _axis_text(value: float, money: bool) -> str:
    text = grouped(str(int(round(value))))
    return drawable(text + ("\u00a0€" if money else ""))


def _chart(data: ChartData, width: float, table: ReportTable) -> Drawing | None:
    # Drawing only: reportlab places shapes with floats; the figures themselves stay Decimal in the table.
    values = [[float(v) for v in numbers] for _, numbers in data.series]
    if not any(v for numbers in values for v in numbers):
        return None
    money = all(is_money(table, table.headers.index(name)) for name, _ in data.series)
    return (_bars if data.kind == "bars" else _lines)(data, values, width, money)


def _wrapped(label: str, chars: int, lines: int) -> str:
    parts = textwrap.wrap(drawable(label), chars) or [""]
    if len(parts) > lines:
        parts = parts[:lines - 1] + [textwrap.shorten(" ".join(parts[lines - 1:]), chars, placeholder="…")]
    return "\n".join(parts)


def _bars(data: ChartData, values, width: float, money: bool) -> Drawing:
    count = len(data.categories)
    turned = count > 6  # many categories: labels read bottom-up, each under its bar
    label_space = 85 if turned else 36
    legend_space = 16 if len(values) > 1 else 0
    bar_height = 80 if turned else 120
    height = bar_height + 10 + label_space + legend_space
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, label_space + legend_space
    chart.width, chart.height = width - 50, bar_height
    chart.data = values
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    chart.valueAxis.labelTextFormat = lambda v: _axis_text(v, money)
    chart.categoryAxis.categoryNames = [
        _wrapped(c, 24, 3) if turned else _wrapped(c, max(8, int(chart.width / count / 4.2)), 3)
        for c in data.categories]
    labels = chart.categoryAxis.labels
    labels.fontName, labels.fontSize, labels.leading = FONT, 7, 8
    if turned:
        labels.angle, labels.boxAnchor, labels.dx, labels.dy = 90, "e", 0, -4
    else:
        labels.boxAnchor, labels.dy = "n", -3
    chart.barSpacing, chart.groupSpacing = 1, 6
    for index in range(len(values)):
        chart.bars[index].fillColor = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    if len(values) > 1:
        drawing.add(_legend(data, 40, 8))
    return drawing


def _lines(data: ChartData, values, width: float, money: bool) -> Drawing:
    height = 200
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 55, 50
    chart.width, chart.height = width - 65, 140
    chart.data = values
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    chart.valueAxis.labelTextFormat = lambda v: _axis_text(v, money)
    chart.categoryAxis.categoryNames = [_short_month(c) for c in data.categories]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = FONT, 7
    chart.categoryAxis.labels.boxAnchor, chart.categoryAxis.labels.dy = "n", -3
    chart.joinedLines = 1
    for index in range(len(values)):
        chart.lines[index].strokeColor = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        chart.lines[index].strokeWidth = 1.6
    drawing.add(chart)
    drawing.add(_legend(data, 55, 12))
    return drawing


def _short_month(label: str) -> str:
    """« septembre 2025 » -> « sept. 25 »: twelve months fit under the axis."""
    words = label.split()
    if len(words) != 2 or not words[1].isdigit():
        return drawable(label)
    month = words[0] if len(words[0]) <= 4 else {"juillet": "juil.", "février": "févr.", "septembre": "sept."}.get(
        words[0], words[0][:4] + ".")
    return drawable(f"{month} {words[1][2:]}")


def _legend(data: ChartData, x: float, y: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.alignment = "right"
    legend.fontName, legend.fontSize = FONT, 7.5
    legend.columnMaximum = 1
    legend.deltax = max(stringWidth(drawable(name), FONT, 7.5) for name, _ in data.series) + 24
    legend.dxTextSpace = 4
    legend.boxAnchor = "sw"
    legend.colorNamePairs = [(SERIES_COLOURS[i % len(SERIES_COLOURS)], drawable(name))
                             for i, (name, _) in enumerate(data.series)]
    return legend


