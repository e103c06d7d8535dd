"""Tamper evidence: recompute the chains of issued statements and of the audit log, and say where they break.

The triggers (migrations 0001, 0002, 0005) refuse any change to an issued statement, its lines or the audit log;
someone who drops them can still write. What they write then shows here: each issued statement's hash covers its
content, its lines, its PDF's SHA-256 and the previous statement of its convention; each audit entry's hash
covers its content and the previous entry (models.chain). On top of the chains, every stored PDF is checked
against its SHA-256 and every payload (the statement as printed) against the stored lines and total, so a
forgery that also recomputed the hashes still has to agree with what was printed and handed to the partner.

`verify` only reads. Problems are French sentences, in chain order, so the first one names the first statement
or entry that does not match; `check` (services.backup.check_database) prints them.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from models import AuditEntry, Statement as StoredStatement, StatementLine as StoredLine
from models.chain import GENESIS, audit_hash, statement_hash
from services.audit import as_utc, current_anchor

# An entry dated this much before the one it follows was not appended then: it was slipped in, back-dated. Below
# this, a clock set back (a time-server correction, a laptop's battery) is not taken for tampering.
CLOCK_SLACK = timedelta(minutes=10)
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class IntegrityReport:
    problems: tuple[str, ...]
    statements: int  # issued statements checked
    entries: int  # audit entries checked

    @property
    def ok(self) -> bool:
        return not self.problems


def cents(amount: Decimal) -> int:
    """Money as the database stores it (models.base.Cents): amounts on statements are whole cents."""
    return int(amount * 100)


def hash_of_statement(stored: StoredStatement, lines: Iterable[StoredLine], previous: str) -> str:
    """The chain hash of an issued statement and its lines, as issue_statement stores it."""
    return statement_hash(
        previous, convention_id=stored.convention_id, number=stored.number, month=stored.month,
        sequence=stored.sequence, issued_at=stored.issued_at, total_cents=cents(stored.total),
        payload=stored.payload, pdf_sha256=stored.pdf_sha256, line_count=stored.line_count,
        lines=[(l.position, l.kind, l.qualification, l.quantity, cents(l.unit_price), cents(l.amount), l.month)
               for l in sorted(lines, key=lambda l: l.position)])


def hash_of_entry(entry: AuditEntry, previous: str) -> str:
    return audit_hash(previous, seq=entry.seq, id=entry.id, at=entry.at, actor_key=entry.actor_key,
                      action=entry.action, record_type=entry.record_type, record_key=entry.record_key,
                      changed_fields=entry.changed_fields, anchor=entry.anchor)


def verify(bind: Engine | Connection | Session) -> IntegrityReport:
    """Check both chains, the PDFs and the payloads of the store behind `bind` (read only)."""
    if isinstance(bind, Session):
        return _verify(bind)
    with Session(bind) as session:
        return _verify(session)


def _verify(session: Session) -> IntegrityReport:
    problems: list[str] = []
    numbers, statements = _check_statements(session, problems)
    entries = _check_audit_log(session, problems, numbers)
    return IntegrityReport(tuple(problems[:MAX_PROBLEMS]), statements, entries)


# -- statements -------------------------------------------------------------------------------------------

def _check_statements(session: Session, problems: list[str]) -> tuple[set[str], int]:
    lines_of: dict[str, list[StoredLine]] = {}
    for line in session.scalars(select(StoredLine).order_by(StoredLine.statement_id, StoredLine.position)):
        lines_of.setdefault(line.statement_id, []).append(line)
    keys: set[str] = set()
    count = 0
    previous: StoredStatement | None = None
    for stored in session.scalars(select(StoredStatement).order_by(StoredStatement.convention_id,
                                                                   StoredStatement.sequence)):
        count += 1
        keys.update((stored.number, stored.id))
        if previous is not None and previous.convention_id != stored.convention_id:
            previous = None
        problem = _statement_problem(stored, lines_of.get(stored.id, []), previous)
        if problem:
            problems.append(f"L'état {stored.number} (n° {stored.sequence}, mois {stored.month}) : {problem}")
        previous = stored
    return keys, count


def _statement_problem(stored: StoredStatement, lines: list[StoredLine], previous: StoredStatement | None
                       ) -> str | None:
    expected_sequence = previous.sequence + 1 if previous is not None else 1
    if stored.sequence != expected_sequence:
        return (f"l'état n° {expected_sequence} de la convention manque (supprimé ?) : la chaîne des états "
                "est rompue.")
    link = previous.chain_hash or GENESIS if previous is not None else GENESIS
    if stored.chain_hash is None or stored.chain_hash != hash_of_statement(stored, lines, link):
        return ("son contenu, ses lignes ou son PDF ne correspondent plus à son empreinte (ou l'état qui le "
                "précède a changé) : il a été modifié après son émission.")
    if stored.pdf is not None and hashlib.sha256(stored.pdf).hexdigest() != stored.pdf_sha256:
        return "son PDF ne correspond plus à son empreinte SHA-256 : le fichier émis a été remplacé."
    return _payload_problem(stored, lines)


def _payload_problem(stored: StoredStatement, lines: list[StoredLine]) -> str | None:
    """The payload is the statement as printed: its lines and total must be the stored ones."""
    try:
        data = json.loads(stored.payload)
        printed = [(l["kind"], l["qualification"], int(l["quantity"]), Decimal(l["unit_price"]),
                    Decimal(l["amount"]), l["month"]) for l in data["lines"]]
        printed_total = Decimal(data["total"])
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return "son contenu imprimé (payload) est illisible."
    if data.get("number") != stored.number or data.get("month") != stored.month:
        return "son contenu imprimé porte un autre numéro ou un autre mois."
    kept = [(l.kind, l.qualification, l.quantity, l.unit_price, l.amount, l.month) for l in lines]
    if len(lines) != stored.line_count or printed != kept:
        return (f"ses lignes enregistrées ({len(lines)}) ne sont pas celles de l'état imprimé "
                f"({len(printed)}).")
    if printed_total != stored.total or sum((l.amount for l in lines), Decimal("0.00")) != stored.total:
        return f"son total enregistré ({stored.total} €) n'est pas celui de l'état imprimé ({printed_total} €)."
    return None


# -- audit log --------------------------------------------------------------------------------------------

def _check_audit_log(session: Session, problems: list[str], statement_keys: set[str]) -> int:
    previous_hash, previous = current_anchor(session), None
    count = 0
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.is_(None), AuditEntry.seq,
                                                          AuditEntry.at, AuditEntry.id))
    for entry in entries:
        count += 1
        problem = _entry_problem(entry, previous, previous_hash)
        if problem is None and (entry.action, entry.record_type) == ("issue", "statement") \
                and entry.record_key not in statement_keys:
            problem = f"l'état émis « {entry.record_key} » qu'elle enregistre n'existe plus."
        if problem:
            problems.append(f"L'entrée {_entry_name(entry)} du journal d'audit : {problem}")
        if entry.seq is not None:
            # The next entry is judged on its own link: one forged entry is named once, not with all that follow.
            previous, previous_hash = entry, entry.entry_hash or GENESIS
    return count


def _entry_problem(entry: AuditEntry, previous: AuditEntry | None, previous_hash: str) -> str | None:
    if entry.seq is None or entry.entry_hash is None:
        return "elle n'a pas de place dans la chaîne du journal : elle y a été ajoutée hors de Parcours."
    if previous is not None and entry.seq != previous.seq + 1:
        gone = (f"l'entrée n° {previous.seq + 1} a disparu" if entry.seq == previous.seq + 2
                else f"les entrées n° {previous.seq + 1} à {entry.seq - 1} ont disparu")
        return f"{gone} du journal."
    if entry.entry_hash != hash_of_entry(entry, previous_hash):
        if previous is None:
            return ("elle ne suit pas la dernière purge du journal (des entrées plus anciennes ont été supprimées "
                    "hors purge) ou elle a été modifiée.")
        return "son contenu ne correspond plus à son empreinte : elle a été modifiée ou ajoutée hors de Parcours."
    if previous is not None and as_utc(entry.at) < as_utc(previous.at) - CLOCK_SLACK:
        return (f"elle est datée d'avant l'entrée qui la précède ({_moment(previous.at)}) : elle a été "
                "ajoutée après coup, antidatée.")
    return None


def _entry_name(entry: AuditEntry) -> str:
    place = f"n° {entry.seq}" if entry.seq is not None else f"« {entry.id} »"
    key = f" {entry.record_key}" if entry.record_key else ""
    return f"{place} ({entry.action} {entry.record_type}{key}, du {_moment(entry.at)})"


def _moment(moment: datetime) -> str:
    return f"{as_utc(moment):%d/%m/%Y à %H:%M:%S} UTC"
