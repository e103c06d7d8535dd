"""RGPD right of access (article 15): everything Parcours holds on one family, as data and as a printable PDF.

`export_family` gathers the household, guardians, children with their parcours, the EPS situations, orientations,
home sessions (with their notes), what issued statements say about the family (they name it by code only), and the
audit entries about its records (action, date and field names; not who acted). It returns plain JSON-ready data
(dates as ISO text, money as "12.34") and records the export itself in the audit log.

`render_family_pdf` prints that data on A4 in French with reportlab's built-in Helvetica, so the text can be
searched and copied. Every piece of user text is escaped (`xml.sax.saxutils.escape`) before it enters Paragraph
markup. Long texts (notes, objectives) are paragraphs, never table cells: a cell cannot split across pages.
"""
from __future__ import annotations

from collections.abc import Callable

import io
import json
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import (AuditEntry, Child, EpsSituation, Family, HomeSession, Orientation, Parcours,
                    Statement as StoredStatement)
from models.enums import (EXIT_REASON_LABELS, PRIORITY_EDUCATION_LABELS, REFERRAL_REASON_LABELS,
                          REFERRAL_SOURCE_LABELS, SCHOOL_LEVEL_LABELS, SUPPORT_PROFILE_LABELS)
from services import audit
from services.billing.labels import FLAG_REASONS
from services.billing.statement import from_payload
from services.families import family_by_key
from services.formatting import format_date, format_hours, format_money, month_in_words
from services.home_sessions import STATUS_LABELS
from services.orientations import ORIENTATION_LABELS as SCREEN_ORIENTATION_LABELS
from services.parcours import PARCOURS_LABELS as SCREEN_PARCOURS_LABELS
from services.pdf_style import HEAD_BG, INK, MUTED, RULE, drawable
from services.permissions import CurrentUser, require
from services.uow import UnitOfWork

FORMAT = "parcours-access-export/1"

SEX_LABELS = {"F": "fille", "M": "garçon"}
# The screens' words, in lower case: they stand inside sentences of the export.
PARCOURS_LABELS = {k: v.lower() for k, v in SCREEN_PARCOURS_LABELS.items()}
ORIENTATION_LABELS = {k: v.lower() for k, v in SCREEN_ORIENTATION_LABELS.items()}
SESSION_LABELS = {k: v.lower() for k, v in STATUS_LABELS.items()}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def export_family(uow: UnitOfWork, user: CurrentUser, family_key: str, *, today: date | None = None,
                  deliver: Callable[[dict], None] | None = None) -> dict:
    """Everything held on the family of code `family_key`; raises NotFound for an unknown code."""
    with uow:
        require(user, "access_export.run", session=uow.session)
        s = uow.session
        family = family_by_key(s, family_key)
        children = s.scalars(select(Child).where(Child.family_id == family.id).order_by(Child.birth_date, Child.key)
                             ).all()
        parcours = s.scalars(select(Parcours).where(Parcours.child_id.in_([c.id for c in children]))
                             .order_by(Parcours.start_date, Parcours.key)).all() if children else []
        situations = s.scalars(select(EpsSituation).where(EpsSituation.family_id == family.id)
                               .options(selectinload(EpsSituation.meeting))).all()
        orientations = s.scalars(select(Orientation).where(Orientation.family_id == family.id)
                                 .order_by(Orientation.eps_date, Orientation.key)).all()
        sessions = s.scalars(select(HomeSession).where(HomeSession.family_id == family.id)
                             .options(selectinload(HomeSession.intervenant))
                             .order_by(HomeSession.date, HomeSession.start_time, HomeSession.key)).all()
        data = {
            "format": FORMAT,
            "generated_on": (today or date.today()).isoformat(),
            "family": {
                "code": family.key, "name": family.name, "address": family.address, "commune": family.commune,
                "priority_neighbourhood": family.priority_neighbourhood, "qpv_name": family.qpv_name,
                "referent": family.referent.name if family.referent else None,
                "consent_date": _iso(family.consent_date), "consent_scope": family.consent_scope,
                "notes": family.notes,
            },
            "guardians": [{"name": g.name, "relationship": g.relationship_to_child, "phone": g.phone}
                          for g in family.guardians],
            "children": [_child(c, [p for p in parcours if p.child_id == c.id]) for c in children],
            "eps_situations": sorted(({"meeting": x.meeting.key, "date": _iso(x.meeting.date),
                                       "recommendation": x.recommendation} for x in situations),
                                     key=lambda x: (x["date"], x["meeting"])),
            "orientations": [_orientation(o) for o in orientations],
            "sessions": [_session(x) for x in sessions],
            "statements": _statements(s, family.key),
        }
        records = {("family", family.key), *(("child", c.key) for c in children),
                   *(("parcours", p.key) for p in parcours), *(("orientation", o.key) for o in orientations),
                   *(("home_session", x.key) for x in sessions)}
        data["audit"] = _audit(s, records)
        audit.record(s, user.key, "access_export", "family", family.key, ())
        if deliver is not None:  # the files are written before the entry is kept: no entry for an export not made
            deliver(data)
        uow.commit()
        return data


def _child(c: Child, parcours: list[Parcours]) -> dict:
    return {"key": c.key, "first_name": c.first_name, "last_name": c.last_name, "birth_date": _iso(c.birth_date),
            "sex": c.sex, "school": c.school, "class": c.school_class, "school_level": c.school_level,
            "priority_education": c.priority_education,
            "parcours": [{"key": p.key, "status": p.status, "start": _iso(p.start_date), "end": _iso(p.end_date),
                          "referent": p.referent.name if p.referent else None, "objectives": p.objectives,
                          "actions": p.actions, "referral_source": p.referral_source,
                          "referral_source_other": p.referral_source_other,
                          "referral_reasons": [r.reason for r in p.reasons],
                          "referral_reason_other": p.referral_reason_other, "support_profile": p.support_profile,
                          "support_profile_other": p.support_profile_other, "exit_reason_code": p.exit_reason_code,
                          "exit_reason": p.exit_reason} for p in parcours]}


def _coded(labels: dict, code: str | None, other: str | None = None) -> str:
    """The French label of a closed-list code, « Autre (préciser) » replaced by its precision."""
    if not code:
        return "—"
    if code == "autre" and other:
        return f"Autre : {_text(other)}"
    return escape(labels.get(code, code))


def _orientation(o: Orientation) -> dict:
    return {"key": o.key, "convention": o.convention.key, "action": o.convention.action.name,
            "partner": o.convention.partner.name, "eps_date": _iso(o.eps_date), "status": o.status,
            "decided_on": _iso(o.decided_on), "decided_by": o.decided_by.name if o.decided_by else None,
            "end": _iso(o.end_date), "reason": o.reason}


def _session(x: HomeSession) -> dict:
    return {"key": x.key, "date": _iso(x.date), "start_time": x.start_time.strftime("%H:%M") if x.start_time else None,
            "duration_minutes": x.duration_minutes, "status": x.status, "intervenant": x.intervenant.name,
            "qualification": x.intervenant.qualification, "referent_present": x.referent_present,
            "children_present": x.children_present, "approved_exception": x.approved_exception,
            "exception_refused": x.exception_refused, "exception_reason": x.exception_reason, "notes": x.notes}


def _statements(s, code: str) -> list[dict]:
    """What each issued statement says about the family: its detail line and the flags naming its code."""
    found = []
    rows = s.scalars(select(StoredStatement).options(selectinload(StoredStatement.convention))
                     # a cheap filter on the code as the payload's JSON writes it; the exact match is below
                     .where(StoredStatement.payload.contains(json.dumps(code, ensure_ascii=False)[1:-1],
                                                             autoescape=True))
                     .order_by(StoredStatement.month, StoredStatement.number))
    for row in rows:
        statement = from_payload(row.payload)
        detail = next((f for f in statement.families if f.code == code), None)
        flags = [f for f in statement.flags if f.family == code]
        if detail is None and not flags:
            continue
        found.append({
            "convention": statement.convention, "month": statement.month, "number": statement.number,
            "issued_at": statement.issued_at,
            "family": None if detail is None else {
                "sessions_billed": detail.sessions_billed, "preparations_billed": detail.preparations_billed,
                "minutes_delivered": detail.minutes_delivered, "amount": _money(detail.amount)},
            "flags": [{"kind": f.kind, "date": f.date, "session": f.session, "approved": f.approved,
                       "billed": f.billed} for f in flags],
        })
    return found


def _audit(s, records: set[tuple[str, str]]) -> list[dict]:
    """Audit entries about the family's records, by (record type, key): when, what, which fields — not who."""
    keys = sorted({key for _type, key in records})
    rows = s.scalars(select(AuditEntry).where(AuditEntry.record_key.in_(keys)).order_by(AuditEntry.at, AuditEntry.id))
    return [{"at": audit.as_utc(e.at).isoformat(timespec="seconds"), "action": e.action,
             "record_type": e.record_type, "record_key": e.record_key,
             "changed_fields": json.loads(e.changed_fields)}
            for e in rows if (e.record_type, e.record_key) in records]


# ---------------------------------------------------------------------------------------------- PDF

MARGIN = 18 * mm

_BASE = dict(fontName="Helvetica", fontSize=9, leading=11.5, textColor=INK, splitLongWords=1)
STYLES = {
    "title": ParagraphStyle("title", **{**_BASE, "fontName": "Helvetica-Bold", "fontSize": 15, "leading": 19}),
    "h2": ParagraphStyle("h2", **{**_BASE, "fontName": "Helvetica-Bold", "fontSize": 11.5, "leading": 14,
                                  "spaceBefore": 10, "spaceAfter": 4}),
    "h3": ParagraphStyle("h3", **{**_BASE, "fontName": "Helvetica-Bold", "fontSize": 9.5, "spaceBefore": 6,
                                  "spaceAfter": 2}),
    "body": ParagraphStyle("body", **_BASE),
    "muted": ParagraphStyle("muted", **{**_BASE, "textColor": MUTED, "fontSize": 8.5}),
    "note": ParagraphStyle("note", **{**_BASE, "leftIndent": 10, "spaceAfter": 3}),
    "cell": ParagraphStyle("cell", **{**_BASE, "fontSize": 8, "leading": 10}),
}


def _text(value) -> str:
    """User text made safe for Paragraph markup; line breaks kept."""
    if value is None or value == "":
        return "—"
    return escape(drawable(str(value))).replace("\n", "<br/>")


def _p(markup: str, style: str = "body") -> Paragraph:
    return Paragraph(markup, STYLES[style])


def _yes_no(value: bool | None) -> str:
    return "oui" if value else "non"


def _fields(pairs: list[tuple[str, str]]) -> list[Paragraph]:
    """« Label : value » lines; `value` is markup already escaped."""
    return [_p(f"<b>{label} :</b> {value}") for label, value in pairs]


def _table(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    body = [[_p(f"<b>{h}</b>", "cell") for h in header]] + [[_p(v, "cell") for v in row] for row in rows]
    table = Table(body, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return table


def _date(value: str | None) -> str:
    return format_date(value) if value else "—"


def render_family_pdf(data: dict) -> bytes:
    """The right-of-access document for `export_family`'s data: A4 portrait, French, real (extractable) text."""
    family = data["family"]
    code = drawable(family["code"])
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=15 * mm,
                            bottomMargin=17 * mm, invariant=1, creator="Parcours",
                            title=f"Droit d'accès — données de la famille {code}")
    width = A4[0] - 2 * MARGIN - 12

    story: list = [
        _p("Droit d'accès aux données personnelles", "title"),
        _p(f"Données détenues sur la famille {escape(code)}, éditées le {_date(data['generated_on'])} "
           "(article 15 du Règlement général sur la protection des données).", "muted"),
        _p("Foyer", "h2"),
        *_fields([("Nom", _text(family["name"])), ("Adresse", _text(family["address"])),
                  ("Commune", _text(family["commune"])),
                  ("Quartier prioritaire (QPV)", _yes_no(family["priority_neighbourhood"])
                   + (f" — {_text(family['qpv_name'])}" if family.get("qpv_name") else "")),
                  ("Référent·e de parcours", _text(family["referent"])),
                  ("Consentement recueilli le", _date(family["consent_date"])),
                  ("Objet du consentement", _text(family["consent_scope"])),
                  ("Notes", _text(family["notes"]))]),
        _p("Responsables légaux", "h2"),
    ]
    if data["guardians"]:
        story.append(_table(["Nom", "Lien", "Téléphone"],
                            [[_text(g["name"]), _text(g["relationship"]), _text(g["phone"])] for g in data["guardians"]],
                            [width * 0.5, width * 0.25, width * 0.25]))
    else:
        story.append(_p("Aucun responsable légal enregistré."))

    story.append(_p("Enfants et parcours", "h2"))
    if not data["children"]:
        story.append(_p("Aucun enfant enregistré."))
    for child in data["children"]:
        story.append(_p(f"{_text(child['first_name'])} {_text(child['last_name'])} ({_text(child['key'])})", "h3"))
        story += _fields([("Né(e) le", _date(child["birth_date"])),
                          ("Sexe", SEX_LABELS.get(child["sex"], "—") if child["sex"] else "—"),
                          ("École", _text(child["school"])), ("Classe", _text(child["class"])),
                          ("Niveau scolaire", _coded(SCHOOL_LEVEL_LABELS, child["school_level"])),
                          ("Éducation prioritaire", _coded(PRIORITY_EDUCATION_LABELS, child["priority_education"]))])
        for p in child["parcours"]:
            period = f"du {_date(p['start'])}" + (f" au {_date(p['end'])}" if p["end"] else "")
            story.append(_p(f"<b>Parcours {_text(p['key'])}</b> : {PARCOURS_LABELS.get(p['status'], p['status'])}, "
                            f"{period} ; référent·e : {_text(p['referent'])}", "note"))
            reasons = ", ".join(_coded(REFERRAL_REASON_LABELS, r, p["referral_reason_other"])
                                for r in p["referral_reasons"]) or "—"
            story.append(_p(f"Orienté par : {_coded(REFERRAL_SOURCE_LABELS, p['referral_source'], p['referral_source_other'])}"
                            f" ; motifs : {reasons}", "note"))
            story.append(_p("Profil d'accompagnement : "
                            f"{_coded(SUPPORT_PROFILE_LABELS, p['support_profile'], p['support_profile_other'])}", "note"))
            story.append(_p(f"Objectifs : {_text(p['objectives'])}", "note"))
            story.append(_p(f"Actions prévues : {_text(p['actions'])}", "note"))
            exit_code = _coded(EXIT_REASON_LABELS, p["exit_reason_code"]) if p["exit_reason_code"] else None
            exit_text = " — ".join(x for x in (exit_code, _text(p["exit_reason"]) if p["exit_reason"] else None) if x)
            story.append(_p(f"Motif de sortie : {exit_text or '—'}", "note"))

    story.append(_p("Situations étudiées en équipe pluridisciplinaire de soutien (EPS)", "h2"))
    if not data["eps_situations"]:
        story.append(_p("Aucune."))
    for x in data["eps_situations"]:
        story.append(_p(f"<b>Séance du {_date(x['date'])}</b> : {_text(x['recommendation'])}", "note"))

    story.append(_p("Orientations", "h2"))
    if not data["orientations"]:
        story.append(_p("Aucune."))
    for o in data["orientations"]:
        decided = f", décidée le {_date(o['decided_on'])} par {_text(o['decided_by'])}" if o["decided_on"] else ""
        end = f", fin le {_date(o['end'])}" if o["end"] else ""
        story.append(_p(f"<b>{_text(o['action'])} — {_text(o['partner'])}</b> ({_text(o['convention'])}) : "
                        f"{ORIENTATION_LABELS.get(o['status'], o['status'])}, proposée en EPS le "
                        f"{_date(o['eps_date'])}{decided}{end}. Motif : {_text(o['reason'])}", "note"))

    story.append(_p(f"Séances à domicile ({len(data['sessions'])})", "h2"))
    if data["sessions"]:
        story.append(_table(
            ["Date", "Heure", "Durée", "Statut", "Intervenant·e", "Référent·e présent·e", "Enfants présents"],
            [[_date(x["date"]), _text(x["start_time"]), format_hours(x["duration_minutes"]),
              SESSION_LABELS.get(x["status"], x["status"]), f"{_text(x['intervenant'])} ({_text(x['qualification'])})",
              _yes_no(x["referent_present"]), _text(x["children_present"])] for x in data["sessions"]],
            [width * w for w in (0.13, 0.08, 0.08, 0.16, 0.29, 0.13, 0.13)]))
        noted = [x for x in data["sessions"] if x["notes"] or x.get("exception_reason")]
        if noted:
            story.append(_p("Notes des séances", "h3"))
            for x in noted:
                if x["notes"]:
                    story.append(_p(f"<b>{_date(x['date'])}</b> : {_text(x['notes'])}", "note"))
                if x.get("exception_reason"):
                    story.append(_p(f"<b>{_date(x['date'])}</b> : dérogation refusée — "
                                    f"{_text(x['exception_reason'])}", "note"))
    else:
        story.append(_p("Aucune."))

    story.append(_p("États mensuels émis qui mentionnent la famille (par son code)", "h2"))
    if not data["statements"]:
        story.append(_p("Aucun."))
    for st in data["statements"]:
        lines = [f"<b>État n° {_text(st['number'])}</b> — {month_in_words(st['month'])} ({_text(st['convention'])})"]
        if st["family"]:
            f = st["family"]
            lines.append(f"{f['sessions_billed']} séance(s) et {f['preparations_billed']} temps de préparation "
                         f"facturés ; {format_hours(f['minutes_delivered'])} d'intervention ; "
                         f"{format_money(Decimal(f['amount']))}")
        lines += [f"Signalé le {_date(flag['date'])} : {_text(FLAG_REASONS.get(flag['kind'], flag['kind']))}"
                  f" ({'facturé' if flag['billed'] else 'non facturé'})" for flag in st["flags"]]
        story.append(KeepTogether([_p(line, "note") for line in lines]))

    story.append(_p("Journal des opérations sur ces données", "h2"))
    if data["audit"]:
        story.append(_table(["Date (UTC)", "Opération", "Enregistrement", "Champs modifiés"],
                            [[_text(a["at"].replace("T", " ")), _text(a["action"]),
                              f"{_text(a['record_type'])} {_text(a['record_key'])}",
                              _text(", ".join(a["changed_fields"]))] for a in data["audit"]],
                            [width * w for w in (0.22, 0.18, 0.25, 0.35)]))
    else:
        story.append(_p("Aucune opération enregistrée."))
    story += [Spacer(1, 8), _p("Pour faire rectifier ou effacer ces données, adressez-vous au Programme de "
                               "Réussite Éducative.", "muted")]

    def footer(canvas, doc_) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, f"Droit d'accès — famille {code}")
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
