"""Import of a team's spreadsheet: its rows read into families, children and parcours, reported before anything is
written, then stored all or nothing.

    import_sheet(uow, user, grid, options, today=None, dry_run=False) -> SheetImportReport

The rows become a `parcours-dataset/1` structure (families with their children and guardians, parcours) stored by
the dataset import's own reader (services.dataset.importer), so that every length, key and reference rule is the
one the JSON import applies, with its French refusals. Before that, each row is checked for what only a sheet can
get wrong, and each refusal names the row as the sheet numbers it, the column and the reason: an impossible date,
an age outside 2 to 16 years at the import date (services.rules), a missing required field, the same child twice.

Coded columns (sex, school level, REP/REP+, referral source and reasons, support profile, exit reason, QPV,
partner) go through the value dictionaries (services.sheet_import.values): a value nobody mapped blocks the import,
the report listing it with its column and rows, until the mapping file (or the wizard) says what it is. A row's
partner (one of the programme's, or « autre » as written) goes with its actions into the parcours' actions, one line
« <action> — <partner> » each, or a line « <partner> » when the row names no action.

A row whose child is already in Parcours (same last name, first name and birth date, case and accents aside) is
merged with it (services.sheet_import.merge): what is new is added, a differing value is listed and left as it is.
Any refusal and nothing is written;
`dry_run` builds the same report, runs the same checks and stores nothing. Unmapped columns are dropped, unless
`keep_unmapped_as_notes`: then « En-tête : valeur » lines go into the family's notes (data minimisation: only what
the user asks to keep).
"""
from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select

from models import Child, Family, Partner, Programme, User
from services import audit
from services.dataset import canonical
from services.dataset.importer import records_importer
from services.dataset.rules import programme_rule_warnings
from services.errors import DomainError, ValidationError
from services.family_records import FAMILY_CODE_ALPHABET, new_child_key
from services.formatting import format_date
from services.permissions import CurrentUser, require
from services.rules import MAX_AGE, MIN_AGE, age_on
from services.sheet_import.cell_dates import cell_date
from services.sheet_import.columns import REQUIRED, Column, ColumnMapping, find_header_row, fold, label, map_columns
from services.sheet_import.grid import Grid
from services.sheet_import.merge import Difference, plan_merge
from services.sheet_import.values import (CODED, OTHER_TEXT, PARTNER_PREFIX, QPV_NAMED, QPV_NO, QPV_PREFIX, code_of,
                                          fold_value, partner_name, parts, qpv_name, recognised_code)
from services.uow import UnitOfWork

DATE_FIELDS = ("birth_date", "orientation_date", "end_date")
FAMILY_FIELDS = ("commune", "address", "priority_neighbourhood", "qpv_name", "referent", "guardian", "phone")
CHILD_FIELDS = ("sex", "school", "school_class", "school_level", "priority_education", "orientation_date", "end_date",
                "exit_reason_code", "exit_reason", "objectives", "referral_source", "support_profile")
PARCOURS_FIELDS = ("orientation_date", "end_date", "objectives", "exit_reason_code", "exit_reason", "referral_source",
                   "referral_reasons", "support_profile")
CODE_KEY = {"exit_reason": "exit_reason_code"}  # the values' key of a coded field whose name the precision keeps
# The coded fields of parcours-dataset/1, as the rows' values name them
CHILD_CODES = ("school_level", "priority_education")
PARCOURS_CODES = ("referral_source", "referral_source_other", "referral_reasons", "referral_reason_other",
                  "support_profile", "support_profile_other", "exit_reason_code")


@dataclass(frozen=True)
class SheetOptions:
    header_row: int | None = None  # as the sheet numbers it (1, 2…); None: found, or the mapping file's
    mapping: ColumnMapping | None = None
    keep_unmapped_as_notes: bool = False


@dataclass(frozen=True)
class Refusal:
    row: int | None  # as the sheet numbers it
    column: str | None  # « C (DDN) »
    reason: str

    def text(self) -> str:
        where = ", ".join(part for part in (f"ligne {self.row}" if self.row else None,
                                             f"colonne {self.column}" if self.column else None) if part)
        return f"{where} : {self.reason}" if where else self.reason


@dataclass(frozen=True)
class CodedValue:
    """A distinct value of a coded column, with the rows that hold it and its code (None: not mapped yet)."""

    field: str
    column: str  # « D (Classe) »
    value: str  # as first written
    rows: tuple[int, ...]
    code: str | None

    def text(self) -> str:
        rows = ("lignes " if len(self.rows) > 1 else "ligne ") + ", ".join(map(str, self.rows[:12])) + (
            "…" if len(self.rows) > 12 else "")
        return (f"colonne {self.column}, {rows} : valeur « {self.value} » sans correspondance dans la liste "
                f"« {label(self.field)} »")


@dataclass(frozen=True)
class ChildLine:
    rows: tuple[int, ...]
    first_name: str
    last_name: str
    birth_date: date
    family: str  # the household's name
    actions: tuple[str, ...] = ()
    child_key: str | None = None  # the stored child a merged row is
    added: tuple[str, ...] = ()  # merged: what the sheet adds
    differences: tuple[Difference, ...] = ()  # merged: what it says otherwise, left as it is

    def text(self) -> str:
        rows = ("lignes " if len(self.rows) > 1 else "ligne ") + ", ".join(map(str, self.rows))
        what = f"{self.first_name} {self.last_name}, né·e le {format_date(self.birth_date)}"
        if self.child_key:
            added = f" ; ajouté : {', '.join(self.added)}" if self.added else " ; rien de nouveau"
            return f"{rows} : {what} — fusionné avec {self.child_key} (foyer {self.family}){added}"
        actions = f" ; actions : {', '.join(self.actions)}" if self.actions else ""
        return f"{rows} : {what} (foyer {self.family}){actions}"


@dataclass(frozen=True)
class SheetImportReport:
    sheet: str
    header_row: int | None
    columns: tuple[Column, ...]
    created: tuple[ChildLine, ...] = ()
    merged: tuple[ChildLine, ...] = ()
    refused: tuple[Refusal, ...] = ()
    families_created: int = 0
    kept_as_notes: tuple[str, ...] = ()
    written: bool = False
    dry_run: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)
    values: tuple[CodedValue, ...] = ()  # every distinct value of the coded columns
    qpv_names: tuple[str, ...] = ()  # the programme's list, each a choice of the QPV column
    partners: tuple[tuple[str, str], ...] = ()  # the programme's partners (key, name), the partner column's choices
    dictionaries: dict[str, dict[str, str | None]] = field(default_factory=dict)  # to save: earlier and this sheet's
    layout: str | None = None

    @property
    def dropped(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.field is None and c.name not in self.kept_as_notes)

    @property
    def unmapped(self) -> tuple[CodedValue, ...]:
        return tuple(v for v in self.values if v.code is None)

    @property
    def blocked(self) -> bool:
        """Nothing may be written: a refusal, or a value nobody mapped."""
        return bool(self.refused or self.unmapped)

    @property
    def differences(self) -> tuple[Difference, ...]:
        return tuple(d for line in self.merged for d in line.differences)

    @property
    def mapping(self) -> ColumnMapping:
        """What to write back in the mapping file, for next year's sheet."""
        return ColumnMapping(self.sheet or None, self.header_row,
                             {c.header: c.field for c in self.columns if c.header}, self.dictionaries, self.layout)

    def text(self) -> str:
        lines = []
        if self.header_row:
            lines.append(f"Feuille « {self.sheet} », en-têtes ligne {self.header_row}." if self.sheet
                         else f"En-têtes ligne {self.header_row}.")
        mapped = [f"{c.name} → {label(c.field)}" for c in self.columns if c.field]
        if mapped:
            lines.append("Colonnes lues : " + " ; ".join(mapped) + ".")
        if self.kept_as_notes:
            lines.append("Colonnes gardées en notes du foyer : " + ", ".join(self.kept_as_notes) + ".")
        if self.dropped:
            lines.append("Colonnes non reprises (rien n'en est enregistré) : " + ", ".join(self.dropped) + ".")
        lines.append(f"À créer : {len(self.created)} enfant(s) dans {self.families_created} foyer(s).")
        lines.extend(f"  {line.text()}" for line in self.created)
        lines.append(f"Fusionnés avec un enfant déjà dans Parcours (ce qui est nouveau est ajouté, rien n'est "
                     f"remplacé) : {len(self.merged)} enfant(s).")
        lines.extend(f"  {line.text()}" for line in self.merged)
        if self.differences:
            lines.append(f"Valeurs différentes, non modifiées (à voir dans la fenêtre) : {len(self.differences)}.")
            lines.extend(f"  {d.text()}" for d in self.differences)
        if self.unmapped:
            lines.append(f"Valeurs sans correspondance : {len(self.unmapped)} (choisissez-les dans l'assistant ou "
                         "dans « values » du fichier de correspondance).")
            lines.extend(f"  {v.text()}" for v in self.unmapped)
            if any(v.field == "partner" for v in self.unmapped):  # what to write in the file, by hand
                lines.append("  Codes des partenaires : " + ", ".join(
                    [f"{PARTNER_PREFIX}{key} ({name})" for key, name in self.partners]
                    + ["autre (le nom tel qu'écrit)"]) + ".")
        if self.refused:
            lines.append(f"Refus : {len(self.refused)}.")
            lines.extend(f"  {r.text()}" for r in self.refused)
        lines.extend(f"Avertissement : {w}" for w in self.warnings)
        if self.blocked:
            lines.append("Import refusé, rien n'a été enregistré : corrigez ces lignes dans la feuille (ou la "
                         "correspondance des colonnes et des valeurs), puis relancez.")
        elif self.dry_run:
            lines.append("Simulation : rien n'a été enregistré.")
        elif self.written:
            lines.append("Import terminé.")
        else:
            lines.append("Import terminé : rien de nouveau à enregistrer.")
        return "\n".join(lines)


def import_sheet(uow: UnitOfWork, user: CurrentUser, grid: Grid, options: SheetOptions = SheetOptions(), *,
                 today: date | None = None, dry_run: bool = False) -> SheetImportReport:
    """Read `grid` into Parcours (see the module's docstring); the report says what was, or would be, written."""
    with uow:
        require(user, "sheet.import", session=uow.session)
        today = today or date.today()
        plan = _Plan(uow.session, grid, options, today)
        report, data = plan.run()
        report = replace(report, dry_run=dry_run)
        if report.blocked:
            return report
        importer = records_importer(uow.session)
        try:
            importer.run(data)
            changed = plan.apply_merges()
            uow.session.flush()
        except DomainError as exc:  # a rule of the dataset import: named by the record, given its rows
            return replace(report, refused=(plan.refusal_of(exc.message),))
        report = replace(report, warnings=tuple(programme_rule_warnings(uow.session, importer.touched_families)))
        if dry_run or not (importer.created or changed):
            return report
        if importer.created:
            audit.record(uow.session, user.key, "import", "sheet", None, importer.created)
        for record, attributes in changed.items():
            audit.record(uow.session, user.key, "update", type(record).__tablename__, record.key, attributes)
        uow.commit()
        return replace(report, written=True)


# « Total », « TOTAL », « Sous-total », « Totaux », « Total général : 3 enfants » (not a family called Totalis)
_TOTALS = re.compile(r"\s*(?:sous[- ]?)?(?:total|totaux)(?:\s+g[ée]n[ée]ral)?(?![^\W\d_])", re.IGNORECASE)
_FIELD_IN_MESSAGE = re.compile(r"champ « (\w+) »")
_DATASET_FIELDS = {"class": "school_class", "name": "family", "start": "orientation_date", "end": "end_date",
                   "qpv_name": "priority_neighbourhood", "exit_reason_code": "exit_reason",
                   "referral_source_other": "referral_source", "referral_reason_other": "referral_reasons",
                   "support_profile_other": "support_profile"}


def _line(entry: "_Entry", members: list["_Entry"]) -> ChildLine:
    v, head = entry.values, members[0].values
    return ChildLine(tuple(entry.rows), v["first_name"], v["last_name"], v["birth_date"],
                     head.get("family") or f"Famille {head['last_name']}", tuple(entry.actions))


class _Entry:
    """One child of the sheet: its first row's values, the rows that name it, its actions."""

    def __init__(self, row: int, values: dict, notes: list[str]):
        self.rows, self.values, self.notes = [row], values, notes
        self.actions: list[str] = list(values.pop("actions", ()))


class _Plan:
    def __init__(self, session, grid: Grid, options: SheetOptions, today: date):
        self.session, self.grid, self.options, self.today = session, grid, options, today
        self.refused: list[Refusal] = []
        self.key_rows: dict[str, list[int]] = {}  # a key made for a record of the dataset: the rows it comes from
        mapping = options.mapping
        self.dictionaries = {name: dict(d) for name, d in (mapping.values if mapping else {}).items()}
        self.layout = mapping.layout if mapping else None
        self.coded: dict[tuple[str, str], list] = {}  # (field, value folded): [column, value, rows, code]
        self.merges = []  # services.sheet_import.merge.Merge of each merged child
        programme = session.scalars(select(Programme)).first()
        self.qpv_names = tuple(programme.qpv_names or ()) if programme else ()
        self.partners = tuple((key, name) for key, name in session.execute(
            select(Partner.key, Partner.name).order_by(Partner.name, Partner.key)))

    def refuse(self, row: int | None, column: Column | None, reason: str) -> None:
        self.refused.append(Refusal(row, column.name if column else None, reason))

    def run(self):
        header = self._header_index()
        if header is None:
            self.refuse(None, None, "ligne des en-têtes introuvable : indiquez-la (--header-row N) ou donnez un "
                                    "fichier de correspondance des colonnes")
            return SheetImportReport(self.grid.sheet, None, (), refused=tuple(self.refused)), {}
        columns = map_columns(self.grid.rows[header], self.options.mapping)
        self.by_field: dict[str, list[Column]] = {}
        for column in columns:
            if column.field:
                self.by_field.setdefault(column.field, []).append(column)
        for name in REQUIRED:
            if name not in self.by_field:
                self.refuse(header + 1, None, f"aucune colonne « {label(name)} » (colonne obligatoire) : nommez-la "
                                              "dans le fichier de correspondance")
        notes_columns = tuple(c for c in columns if c.field is None and c.header) \
            if self.options.keep_unmapped_as_notes else ()
        if self.layout is None:
            self.layout = "per_action" if "action" in self.by_field else "per_child"
        base = SheetImportReport(self.grid.sheet, header + 1, columns,
                                 kept_as_notes=tuple(c.name for c in notes_columns), layout=self.layout)
        if self.refused:
            return replace(base, refused=tuple(self.refused)), {}
        entries = self._entries(header, notes_columns)
        values = tuple(CodedValue(name, column, value, tuple(rows), code)
                       for (name, _), (column, value, rows, code) in self.coded.items())
        for value in values:  # an unmapped value is written null in the mapping file, for a person to choose
            dictionary = self.dictionaries.setdefault(value.field, {})
            if dictionary.get(value.value) is None:
                dictionary[value.value] = value.code
        base = replace(base, values=values, dictionaries=self.dictionaries, qpv_names=self.qpv_names,
                       partners=self.partners)
        stored = self._stored_children()
        created = [e for e in entries if self._identity(e) not in stored]
        merged = [self._merged(e, *stored[self._identity(e)]) for e in entries if self._identity(e) in stored]
        families = self._families(created)
        lines = [_line(e, members) for members in families for e in members]
        blocked = self.refused or any(v.code is None for v in values)
        data = {} if blocked else self._dataset(families)
        if not blocked:
            self._merged_parcours(data)
        report = replace(base, created=tuple(lines), merged=tuple(merged), refused=tuple(self.refused),
                         families_created=len(families))
        return report, data

    def _merged(self, entry: _Entry, key: str, family: str) -> ChildLine:
        child = self.session.scalars(select(Child).where(Child.key == key)).one()
        merge = plan_merge(self.session, child, entry.values, entry.actions, entry.rows[0], self._column_name)
        self.merges.append((merge, entry, child))
        added = tuple(dict.fromkeys(merge.added))
        return ChildLine(tuple(entry.rows), entry.values["first_name"], entry.values["last_name"],
                         entry.values["birth_date"], family, tuple(entry.actions), key, added,
                         tuple(merge.differences))

    def _merged_parcours(self, data: dict) -> None:
        """The parcours a merged row brings that Parcours does not have: made like a new child's."""
        for merge, entry, child in self.merges:
            if merge.new_parcours:
                self._parcours(data, entry, child.key)

    def apply_merges(self) -> dict:
        changed: dict = {}
        for merge, _entry, _child in self.merges:
            for record, attributes in merge.apply().items():
                changed.setdefault(record, set()).update(attributes)
        return changed

    def _column_name(self, name: str) -> str | None:
        columns = self.by_field.get(name)
        return columns[0].name if columns else None

    def refusal_of(self, message: str) -> Refusal:
        """A refusal of the dataset import's reader, which names a record by the key made for it: its row instead,
        and the column of its field."""
        row = next((rows[0] for key, rows in self.key_rows.items() if f"« {key} »" in message), None)
        found = _FIELD_IN_MESSAGE.search(message)
        name = _DATASET_FIELDS.get(found[1], found[1]) if found else None
        column = self.by_field[name][0] if name in self.by_field else None
        reason = message[found.end():].lstrip(" :") if found and row else message
        return Refusal(row, column.name if column else None, reason)

    def _header_index(self) -> int | None:
        row = self.options.header_row or (self.options.mapping.header_row if self.options.mapping else None)
        if row is not None:
            return row - 1 if row <= len(self.grid.rows) else None
        return find_header_row(self.grid.rows)

    # -- the rows -----------------------------------------------------------------------------------------------
    def _entries(self, header: int, notes_columns: tuple[Column, ...]) -> list[_Entry]:
        entries: dict[tuple, _Entry] = {}
        per_action = self.layout == "per_action"
        for index in range(header + 1, len(self.grid.rows)):
            cells, number = self.grid.rows[index], index + 1
            if all(v is None for v in cells):
                continue
            first = next(v for v in cells if v is not None)
            if isinstance(first, str) and _TOTALS.match(first):
                break  # the totals at the bottom of the sheet
            values = self._values(cells, number)
            if any(values.get(name) is None for name in ("last_name", "first_name", "birth_date")):
                continue  # refused already; a row refused for another reason still counts for the duplicates
            notes = [f"{c.header} : {_text(cells[c.index])}" for c in notes_columns
                     if c.index < len(cells) and cells[c.index] is not None]
            identity = (fold(values["last_name"]), fold(values["first_name"]), values["birth_date"])
            known = entries.get(identity)
            if known is None:
                entries[identity] = _Entry(number, values, notes)
            elif per_action:
                self._same_child(known, values, number)
                known.rows.append(number)
                known.actions.extend(a for a in values.get("actions", ()) if a not in known.actions)
            else:
                self.refuse(number, None, f"doublon dans la feuille : {values['first_name']} {values['last_name']}, "
                                          f"né·e le {format_date(values['birth_date'])}, est déjà ligne "
                                          f"{known.rows[0]}")
        return list(entries.values())

    def _same_child(self, known: _Entry, values: dict, number: int) -> None:
        for name in (*FAMILY_FIELDS, *CHILD_FIELDS, "family"):
            theirs, ours = known.values.get(name), values.get(name)
            if theirs is not None and ours is not None and theirs != ours:
                column = self._column(name)
                self.refuse(number, column, f"même enfant que ligne {known.rows[0]}, mais « {label(column.field)} » "
                                            "y est différent")
        for reason in values.get("referral_reasons", ()):  # one row per action: each may name more reasons
            if reason not in known.values.setdefault("referral_reasons", []):
                known.values["referral_reasons"].append(reason)

    def _column(self, name: str) -> Column:
        """The column a value of the row comes from (a precision or a QPV name: its coded column)."""
        source = {"qpv_name": "priority_neighbourhood", "exit_reason_code": "exit_reason",
                  "referral_source_other": "referral_source", "referral_reason_other": "referral_reasons",
                  "support_profile_other": "support_profile"}.get(name, name)
        return self.by_field[source][0]

    def _values(self, cells: tuple, number: int) -> dict:
        """The row's values by field, each checked (a value refused is left out, its refusal recorded)."""
        before = len(self.refused)
        values: dict = {}
        for name, columns in self.by_field.items():
            if name in ("actions", "action"):
                values["actions"] = [_text(cells[c.index]) for c in columns
                                     if c.index < len(cells) and cells[c.index] is not None]
                continue
            column = columns[0]
            raw = cells[column.index] if column.index < len(cells) else None
            if raw is None:
                continue
            try:
                if name in CODED:
                    self._coded(name, column, _text(raw), number, values)
                else:
                    values[name] = self._value(name, raw)
            except ValidationError as exc:
                self.refuse(number, column, exc.message)
        partner = values.pop("partner", None)
        if partner:  # the partner of each of the row's actions, or an action line by itself
            values["actions"] = [f"{a} — {partner}" for a in values.get("actions") or ()] or [partner]
        if "school_level" not in self.by_field and values.get("school_class"):  # « CM2 » says élémentaire
            level = recognised_code("school_level", values["school_class"])
            if level:
                values["school_level"], values["level_from_class"] = level, True
        for name in REQUIRED:
            if values.get(name) is None and not any(r.row == number and r.column == self.by_field[name][0].name
                                                    for r in self.refused[before:]):
                self.refuse(number, self.by_field[name][0], f"champ obligatoire manquant ({label(name)})")
        birth = values.get("birth_date")
        if birth is not None and birth > self.today:
            self.refuse(number, self.by_field["birth_date"][0],
                        f"date de naissance à venir ({format_date(birth)}), après le {format_date(self.today)}")
        elif birth is not None:
            age = age_on(birth, self.today)
            if not MIN_AGE <= age <= MAX_AGE:
                self.refuse(number, self.by_field["birth_date"][0],
                            f"âge hors du programme : {age} an{'s' if abs(age) > 1 else ''} au "
                            f"{format_date(self.today)} (de {MIN_AGE} à {MAX_AGE} ans)")
        start, end = values.get("orientation_date"), values.get("end_date")
        if start and end and end < start:
            self.refuse(number, self.by_field["end_date"][0], "la sortie précède la date d'orientation")
        return values

    def _value(self, name: str, raw: object):
        if name in DATE_FIELDS:
            try:
                return cell_date(raw, self.grid.epoch)
            except ValidationError as exc:
                raise ValidationError(f"date impossible ({_text(raw)}) : {exc.message}") from None
        text = _text(raw)
        if name == "referent":
            return self._referent(text)
        return text

    def _coded(self, name: str, column: Column, text: str, number: int, values: dict) -> None:
        """The row's value of a coded column through the dictionaries; a value not mapped is noted (it blocks)."""
        codes = []
        for part in parts(name, text):
            key = (name, fold_value(part))
            entry = self.coded.get(key)
            if entry is None:  # looked up once per distinct value: the dictionary's values are folded at each look-up
                entry = self.coded[key] = [column.name, part, [], code_of(name, part, self.dictionaries.get(name),
                                                                          self.qpv_names, self.partners)]
            entry[2].append(number)
            code = entry[3]
            if code is not None:
                codes.append((code, part))
        if not codes:
            return
        others = [part for code, part in codes if code == "autre"]
        if name == "referral_reasons":
            values[name] = list(dict.fromkeys(code for code, _ in codes))
        elif name == "priority_neighbourhood":
            code, part = codes[0]
            values[name] = code != QPV_NO
            if code == QPV_NAMED:
                values["qpv_name"] = qpv_name(part)
            elif code.startswith(QPV_PREFIX):
                values["qpv_name"] = code[len(QPV_PREFIX):]
        elif name == "partner":
            values[name] = partner_name(*codes[0], self.partners)
        else:
            values[CODE_KEY.get(name, name)] = codes[0][0]
        if others and name in OTHER_TEXT:
            values[OTHER_TEXT[name]] = " ; ".join(others)

    def _referent(self, text: str) -> str:
        if not hasattr(self, "_users"):
            self._users = list(self.session.scalars(select(User)))
        wanted = fold(text)
        found = [u for u in self._users if wanted in (fold(u.key), fold(u.name))]
        if not found:
            raise ValidationError(f"référent·e inconnu·e « {text} » : aucun compte de ce nom ni de cet "
                                  "identifiant")
        if found[0].role not in ("referent", "coordinator"):
            raise ValidationError(f"« {text} » n'est ni référent·e ni coordination")
        return found[0].key

    # -- families and the dataset -------------------------------------------------------------------------------
    @staticmethod
    def _identity(entry: _Entry) -> tuple:
        v = entry.values
        return fold(v["last_name"]), fold(v["first_name"]), v["birth_date"]

    def _stored_children(self) -> dict[tuple, tuple[str, str]]:
        rows = self.session.execute(select(Child.key, Child.first_name, Child.last_name, Child.birth_date, Family.name)
                                    .join(Family, Child.family_id == Family.id))
        return {(fold(last), fold(first), born): (key, family) for key, first, last, born, family in rows}

    def _families(self, entries: list[_Entry]) -> list[list[_Entry]]:
        """Children of one household: the same « Famille » value, else the same last name at the same address."""
        groups: dict[tuple, list[_Entry]] = {}
        for position, entry in enumerate(entries):
            v = entry.values
            if v.get("family"):
                group = ("family", fold(v["family"]))
            elif v.get("address"):
                group = ("address", fold(v["last_name"]), fold(v["address"]), fold(v["commune"]))
            else:
                group = ("row", position)
            members = groups.setdefault(group, [])
            if members:
                for name in FAMILY_FIELDS:
                    theirs, ours = members[0].values.get(name), v.get(name)
                    if theirs is not None and ours is not None and theirs != ours:
                        column = self._column(name)
                        self.refuse(entry.rows[0], column, f"même foyer que ligne {members[0].rows[0]}, mais "
                                                           f"« {label(column.field)} » y est différent")
            members.append(entry)
        return list(groups.values())

    def _dataset(self, families: list[list[_Entry]]):
        data = {"format": canonical.FORMAT, "families": [], "parcours": []}
        keys = set(self.session.scalars(select(Family.key)))  # read once: a query per new household is slow
        for members in families:
            head = members[0].values
            key = new_family_key(keys)
            keys.add(key)
            self.key_rows[key] = [row for m in members for row in m.rows]
            name = head.get("family") or f"Famille {head['last_name']}"
            guardian = next((m.values for m in members if m.values.get("guardian")), None)
            notes = [n for m in members for n in m.notes]
            family = {"key": key, "name": name, "commune": head["commune"], "address": _first(members, "address"),
                      "priority_neighbourhood": bool(_first(members, "priority_neighbourhood")),
                      "referent": _first(members, "referent"), "notes": "\n".join(notes) or None,
                      "guardians": [{"name": guardian["guardian"], "phone": guardian.get("phone")}] if guardian else [],
                      "children": []}
            for member in members:
                v = member.values
                child_key = new_child_key()
                self.key_rows[child_key] = member.rows
                family["children"].append({"key": child_key, "first_name": v["first_name"], "last_name": v["last_name"],
                                           "birth_date": v["birth_date"].isoformat(), "sex": v.get("sex"),
                                           "school": v.get("school"), "class": v.get("school_class"),
                                           **{n: v[n] for n in CHILD_CODES if v.get(n)}})
                if member.actions or any(v.get(n) for n in PARCOURS_FIELDS):
                    self._parcours(data, member, child_key)
            if _first(members, "qpv_name"):
                family["qpv_name"] = _first(members, "qpv_name")
            data["families"].append(family)
        return data

    def _parcours(self, data: dict, member: _Entry, child_key: str) -> None:
        v = member.values
        parcours_key = "P-" + uuid.uuid4().hex[:10]
        self.key_rows[parcours_key] = member.rows
        data["parcours"].append({
            "key": parcours_key, "child": child_key, "referent": v.get("referent"),
            "status": "closed" if v.get("end_date") else "open",
            "start": canonical.iso(v.get("orientation_date")), "end": canonical.iso(v.get("end_date")),
            "objectives": v.get("objectives"), "exit_reason": v.get("exit_reason"),
            "actions": "\n".join(member.actions) or None, **{n: v[n] for n in PARCOURS_CODES if v.get(n)}})


def new_family_key(taken: set[str]) -> str:
    """A household's code as services.family_records makes it (« F-7KQ2MX »), none of `taken`."""
    while True:
        key = "F-" + "".join(secrets.choice(FAMILY_CODE_ALPHABET) for _ in range(6))
        if key not in taken:
            return key


def _first(members: list[_Entry], name: str):
    return next((m.values[name] for m in members if m.values.get(name) is not None), None)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, date):
        return format_date(value)
    return " ".join(str(value).split())
