"""The monthly statement PDF: built from Statement objects directly (no database, no Qt).

Text is read back with pypdf (test extra only).
"""
from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

import pypdf  # test extra only: reads the text back
import pytest

from services.billing.labels import FLAG_REASONS, KIND_LABELS
from services.billing.pdf import render_statement_pdf
from services.billing.statement import (FamilyDetail, IntervenantDetail, Statement, StatementFlag, StatementLine,
                                        from_payload, to_payload)

D = Decimal
SPECIAL_FAMILY = 'Famille <b>& "Durand" > Martin'


def line(kind, qualification, quantity, price, month="2025-03"):
    return StatementLine(kind, qualification, quantity, D(price), (D(price) * quantity).quantize(D("0.01")), month)


def make_statement(**overrides) -> Statement:
    lines = (
        line("home_intervention", "AES", 21, "30.00"),
        line("home_intervention", "TISF", 12, "56.13"),
        line("weekly_preparation", "AES", 18, "15.00"),
        line("weekly_preparation", "TISF", 11, "20.07"),
        line("launch_meeting", "TISF", 1, "56.13"),
        line("home_intervention", "AES", 2, "30.00", month="2025-02"),
        line("home_intervention", "TISF", -1, "56.13", month="2025-02"),  # a session cancelled afterwards
        line("weekly_preparation", "AES", 1, "15.00", month="2025-01"),
    )
    flags = tuple(
        StatementFlag(kind, f"2025-03-{day:02d}", f"S{day}" if kind != "duplicate_period_end_meeting" else None,
                      "M7" if kind == "duplicate_period_end_meeting" else None, f"F00{day % 4 + 1}", "I02",
                      approved=(day % 2 == 0), billed=(day % 2 == 0))
        for day, kind in enumerate(FLAG_REASONS, start=3))
    families = (
        FamilyDetail("F001", "Famille Lefèvre", 4, 4, 240, D("180.00")),
        FamilyDetail("F002", SPECIAL_FAMILY, 3, 3, 180, D("228.60")),
        FamilyDetail("F003", "Famille Abdelkader-Rodriguez de la Fontaine Saint-Exupéry " * 3, 5, 5, 300,
                     D("380.65")),
        FamilyDetail("F004", "Famille Şahin", 0, 0, 45, D("0.00")),
    )
    intervenants = (
        IntervenantDetail("I01", "Nadia Benali", "AES", 21, 18, 0, 1290, D("900.00")),
        IntervenantDetail("I02", "Julien Morel-Grandjean de Saint-Maurice <tisf>", "TISF", 12, 11, 1, 780,
                          D("951.46")),
    )
    data = dict(
        convention="AP-2025", month="2025-03", status="draft", number=None, issued_at=None,
        programme="Programme de Réussite Éducative", city="Bourg-en-Bresse", partner="Adom 01",
        action="Atout Plus", budget_imputation="Chapitre 65, article 65748 « Autres personnes de droit privé »",
        period_start="2025-01-01", period_end="2025-12-31", lines=lines, total=sum(l.amount for l in lines),
        flags=flags, families=families, intervenants=intervenants, period_to_date=D("1234.56"),
        budget_cap=D("25000.00"), families_in_period=12, max_families=18, cumulative_since="2025-01-01")
    data.update(overrides)
    return Statement(**data)


def issued(**overrides) -> Statement:
    return make_statement(status="issued", number="AP-2025-003", issued_at="2025-04-02T08:15:00+00:00", **overrides)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return flat(text)  # table cells come out one per line, no-break spaces as they are: compare flattened


def flat(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("\u00a0", " "))


@pytest.fixture(scope="module")
def draft_text():
    return text_of(render_statement_pdf(make_statement()))


@pytest.fixture(scope="module")
def issued_text():
    return text_of(render_statement_pdf(issued()))


def test_pdf_bytes_and_deterministic():
    pdf = render_statement_pdf(make_statement())
    assert pdf.startswith(b"%PDF")
    assert render_statement_pdf(make_statement()) == pdf  # the stored SHA-256 can be checked again
    assert pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width == pytest.approx(595.27, abs=0.1)  # A4


def test_draft_is_marked_on_every_page(draft_text):
    pdf = render_statement_pdf(make_statement())
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert page.extract_text().count("PROJET") == 2  # watermark and footer
    assert "Projet — non émis" in draft_text
    assert "N° " not in draft_text


def test_issued_has_number_and_date_and_no_watermark(issued_text):
    assert "PROJET" not in issued_text
    assert "non émis" not in issued_text
    assert "N° AP-2025-003" in issued_text
    assert "Émis le 02/04/2025" in issued_text
    assert "Certifié exact, à Bourg-en-Bresse, le 02/04/2025" in issued_text


def test_issue_date_is_french_local_date():
    text = text_of(render_statement_pdf(replace(issued(), issued_at="2025-03-31T22:30:00+00:00")))
    assert "Émis le 01/04/2025" in text  # 00:30 in Bourg-en-Bresse


def test_header_and_title(draft_text):
    assert "État mensuel — mars 2025" in draft_text
    for expected in ("Programme de Réussite Éducative Bourg-en-Bresse", "Adom 01", "Atout Plus",
                     "convention AP-2025", "du 01/01/2025 au 31/12/2025", "article 65748"):
        assert expected in draft_text


def test_page_numbers(draft_text):
    pages = len(pypdf.PdfReader(io.BytesIO(render_statement_pdf(make_statement()))).pages)
    for n in range(1, pages + 1):
        assert f"Page {n} / {pages}" in draft_text


def test_summary_lines_regularisations_and_total(draft_text):
    for label in {KIND_LABELS[line.kind] for line in make_statement().lines}:  # every kind the sample bills
        assert label in draft_text
    assert "Régularisations" in draft_text
    assert "Régularisation de février 2025" in draft_text
    assert "Régularisation de janvier 2025" in draft_text
    assert draft_text.index("Régularisation de janvier 2025") < draft_text.index("Régularisation de février 2025")
    assert "-56,13 €" in draft_text  # negative quantity, negative amount
    assert "Sous-total mars 2025 1 850,46 €" in draft_text
    assert "Sous-total des régularisations 18,87 €" in draft_text
    assert make_statement().total == D("1869.33")
    assert "Total TTC 1 869,33 €" in draft_text


def test_budget_block(draft_text):
    assert ("Cumul depuis le début de la convention (du 01/01/2025 au 31/12/2025) : 1 234,56 € sur un plafond de "
            "25 000,00 €, reste 23 765,44 €") in draft_text
    assert ("Familles orientées depuis le début de la convention (du 01/01/2025 au 31/12/2025) : 12 (maximum "
            "indicatif : 18)") in draft_text
    assert "Attention" not in draft_text


def test_a_statement_issued_before_the_period_rule_keeps_its_calendar_year_words():
    text = text_of(render_statement_pdf(make_statement(cumulative_since=None)))
    assert "Cumul de l'année 2025 : 1 234,56 € sur un plafond de 25 000,00 €" in text
    assert "Familles accompagnées cette année : 12 (maximum indicatif : 18)" in text


def test_budget_warnings_and_no_cap():
    text = text_of(render_statement_pdf(make_statement(period_to_date=D("25010.00"), families_in_period=19)))
    assert "plafond budgétaire dépassé de 10,00 €" in text
    assert "maximum indicatif de 18 familles est dépassé" in text
    text = text_of(render_statement_pdf(make_statement(budget_cap=None, max_families=None)))
    assert "Cumul depuis le début de la convention (du 01/01/2025 au 31/12/2025) : 1 234,56 € (sans plafond)" in text
    assert "Familles orientées depuis le début de la convention (du 01/01/2025 au 31/12/2025) : 12" in text
    assert "maximum indicatif" not in text


def test_family_names_only_on_request(draft_text):
    assert "F001" in draft_text and "F004" in draft_text
    assert "Lefèvre" not in draft_text
    assert "Durand" not in draft_text
    assert "Code Séances facturées" in draft_text  # no "Famille" column without names
    text = text_of(render_statement_pdf(make_statement(), with_names=True))
    assert "Famille Lefèvre" in text
    assert SPECIAL_FAMILY in text  # escaped markup comes out literally, nothing swallowed
    assert "Famille Sahin" in text  # no black box for a letter Helvetica cannot draw
    long_name = flat(make_statement().families[2].name.strip())
    assert long_name in text  # wrapped in its cell, nothing cut off
    assert "Code Famille Séances facturées" in text
    assert "Exemplaire nominatif" in text
    assert "Exemplaire nominatif" not in draft_text


def test_family_and_intervenant_details(draft_text):
    assert "F002 3 3 3 h 228,60 €" in draft_text
    assert "F004 0 0 0 h45 0,00 €" in draft_text
    assert "Nadia Benali AES 21 18 0 21 h30 900,00 €" in draft_text
    assert "Julien Morel-Grandjean de Saint-Maurice <tisf>" in draft_text


def test_flags_annex(draft_text):
    assert "Éléments signalés" in draft_text
    for reason in FLAG_REASONS.values():
        assert reason in draft_text
    assert "03/03/2025" in draft_text and "S3" in draft_text and "M7" in draft_text
    assert "Accordée" in draft_text and "Oui" in draft_text and "Non" in draft_text
    assert "Aucun élément signalé" not in draft_text
    text = text_of(render_statement_pdf(make_statement(flags=())))
    assert "Aucun élément signalé." in text


def test_draft_signature_is_blank(draft_text):
    assert "Certifié exact, à Bourg-en-Bresse, le …" in draft_text
    assert "L'administrateur — nom, qualité et signature" in draft_text
    text = text_of(render_statement_pdf(make_statement(city=None)))
    assert "Certifié exact, à …, le" in text


def test_empty_month_and_payload_round_trip():
    empty = make_statement(lines=(), total=D("0.00"), flags=(), families=(), intervenants=(), period_to_date=D("0"))
    text = text_of(render_statement_pdf(empty))
    assert "Aucune prestation facturée ce mois-ci." in text
    assert "Total TTC 0,00 €" in text
    again = from_payload(to_payload(issued()))
    assert render_statement_pdf(again) == render_statement_pdf(issued())


def test_a_total_of_twelve_digits_stays_on_one_line():
    lines = (StatementLine("home_intervention", "AES", 33333333, D("30.00"), D("999999990.00"), "2025-03"),
             StatementLine("weekly_preparation", "TISF", 3, D("999999.99"), D("2999999.97"), "2025-03"))
    pdf = render_statement_pdf(make_statement(lines=lines, total=D("1002999989.97")))
    raw = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).replace("\u00a0", " ")
    # each cell comes out as one line: a wrapped cell would give « 1 002 999 989,97 » and « € » apart
    assert "1 002 999 989,97 €" in [line.strip() for line in raw.splitlines()]
