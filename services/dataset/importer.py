"""Import of a `parcours-dataset/1` file: one transaction, all or nothing.

Each record is first read into its interchange form (validated, references kept as keys), then either
found identical to the stored record of the same key (nothing to do), found different (refused), or
created. The programme's rules are reported as warnings: history is taken as it happened.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from decimal import Decimal
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from sqlalchemy import insert, null, select
from sqlalchemy.exc import SQLAlchemyError

from models import (Action, Child, Convention, EpsMeeting, EpsSituation, Family, Guardian, HomeSession, Intervenant,
                    IntervenantHistory, Meeting, Orientation, Parcours, ParcoursReason, Partner, Programme, Tariff,
                    TariffAmendment, User)
from models.base import new_id, utcnow
from models.enums import (FLAT_KIND, FLAT_QUALIFICATION, HOLIDAY_ZONES, MEETING_KINDS, ORIENTATION_STATUSES,
                          PARCOURS_STATUSES, PRICED_KINDS, QUALIFICATIONS, ROLES, SESSION_STATUSES, SEXES, TARIFF_KINDS,
                          HOME_UNITS, MAX_PRECISION, MAX_QPV_NAME, OTHER)
from services import audit
from services import text_rules
from services.dataset import canonical, strict_json
from services.dataset.stream import StreamedList, open_dataset
from services.dataset.fields import RECORD_LABELS, RecordReader, _describe, parse_money, printable
from services.dataset.rules import meeting_partner_warnings, programme_rule_warnings, zero_amount_warnings
from services.errors import ImportRejected
from services.record_fields import (EXIT_REASON, PRIORITY, REFERRAL_REASON, REFERRAL_SOURCE, SCHOOL_LEVEL,
                                    SUPPORT_PROFILE, ClosedList, FieldProblem, qpv_flag, read_codes, with_other)
from services.file_faults import describe_json_error
from services.permissions import SYSTEM, CurrentUser, require
from services.uow import UnitOfWork

SECTION_MODELS = {
    "users": User, "partners": Partner, "conventions": Convention, "intervenants": Intervenant,
    "families": Family, "children": Child, "parcours": Parcours, "eps_meetings": EpsMeeting,
    "orientations": Orientation, "sessions": HomeSession, "meetings": Meeting,
}
# Order matters: a record may only refer to sections above it.
SECTIONS = ("users", "partners", "conventions", "intervenants", "families", "parcours", "eps_meetings",
            "orientations", "sessions", "meetings")
KNOWN_TOP_LEVEL = {"format", "programme", *SECTIONS}
# Far above any programme's history (a few thousand families, some hundred thousand sessions); a section is read a
# record at a time, but its keys are all held while they are checked.
MAX_RECORDS = 1_000_000
MAX_GUARDIANS, MAX_CHILDREN = 20, 30
# Sections stored by a multi-row INSERT, BULK_BATCH records at a time (nothing refers to their records by key).
BULK_SECTIONS = frozenset({"sessions"})
BULK_BATCH = 2000
IMPORT_CACHE_KIB = 64 * 1024
MAX_NAME = 200  # the window's limit for a person's, a partner's or a programme's name


@dataclass(frozen=True)
class ImportReport:
    created: dict[str, int]
    unchanged: dict[str, int]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def created_total(self) -> int:
        return sum(self.created.values())


def parse_json(text: str | bytes) -> Any:
    return _parsed(lambda: strict_json.loads(text))


def read_dataset_file(path: str | Path) -> Any:
    """The dataset of the file at `path`, read section by section when it can be (services.dataset.stream), refused
    as `parse_json` refuses the same text. Raises OSError when the file cannot be read."""
    return _parsed(lambda: open_dataset(path))


def _parsed(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except strict_json.DuplicateName as duplicate:
        where = f" (objet commençant ligne {duplicate.line}, colonne {duplicate.column})" if duplicate.line else ""
        raise ImportRejected(printable(
            f"Le fichier donne deux fois le champ « {duplicate.name} » dans un même objet{where}, valeurs "
            f"{_describe(duplicate.first)} puis {_describe(duplicate.second)} : une seule serait gardée, en "
            "silence. Retirez l'une des deux."), field=duplicate.name) from None
    except UnicodeDecodeError:
        raise ImportRejected("Le fichier n'est pas un texte UTF-8 lisible.") from None
    except strict_json.json.JSONDecodeError as exc:
        raise ImportRejected(describe_json_error(exc)) from None  # in French, never json's English words
    except (ValueError, RecursionError):  # a number of more than 4300 digits, or thousands of nested brackets
        raise ImportRejected("Le fichier n'est pas un JSON utilisable : nombre démesuré ou imbrication trop profonde.") from None


def import_dataset(uow: UnitOfWork, data: Any, user: CurrentUser | None = None) -> ImportReport:
    """Import `data` in one transaction. Without `user`, only into a store that holds no account yet (first start:
    the demo programme); otherwise `user` must be allowed "dataset.import" (services.permissions)."""
    with uow:
        require(user, "dataset.import", session=uow.session)
        if not isinstance(data, dict):
            raise ImportRejected("Le fichier doit contenir un objet JSON {…} au format « parcours-dataset/1 ».")
        if data.get("format") != canonical.FORMAT:
            raise ImportRejected(f"Format non reconnu : {_describe(data.get('format'))}. "
                                 f"Ce fichier doit déclarer \"format\": \"{canonical.FORMAT}\".")
        unknown = sorted(set(data) - KNOWN_TOP_LEVEL)
        if unknown:
            raise ImportRejected(printable(f"Rubrique inconnue dans le fichier : {', '.join(unknown)}."))
        importer = _Importer(uow.session)
        with _page_cache(uow.session):
            importer.run(data)
            warnings = [*importer.warnings, *programme_rule_warnings(uow.session, importer.touched_families),
                        *meeting_partner_warnings(uow.session, importer.touched_meetings)]
            if importer.created:  # a file whose records are all stored already writes nothing, not even an entry
                audit.record(uow.session, user.key if user else None, "import", "dataset", None, importer.created)
        uow.commit()
        return ImportReport(dict(importer.created), dict(importer.unchanged), tuple(warnings))


@contextmanager
def _page_cache(session):
    """SQLite's page cache made IMPORT_CACHE_KIB for the import, then put back: with its 2 MB, each row of 300,000
    sessions, inserted into six indexes at random places, read pages back from the file (half the import's time,
    spent in the system)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")  # negative: KiB, not pages
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # a connection the failure has closed keeps nothing to put back
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def records_importer(session) -> "_Importer":
    """The dataset import's record writer, inside the caller's own transaction (the spreadsheet import turns its
    rows into a dataset and stores them with it: one set of rules); `run(data)` validates and writes, `stored(kind)`
    gives the records written by key, `created` and `touched_families` what it did."""
    return _Importer(session)


class _Importer:
    def __init__(self, session):
        self.session = session
        self.created: dict[str, int] = {}
        self.unchanged: dict[str, int] = {}
        self._stored: dict[str, dict[str, Any]] = {}
        self._bulk_keys: dict[str, set[str]] = {}  # BULK_SECTIONS: stored keys only, not records
        self._resolved: dict[tuple[str, str], Any] = {}  # (section, reference as written): the record it names
        self.touched_families: set[str] = set()
        self.touched_meetings: set[str] = set()
        self.warnings: list[str] = []  # found while reading (amounts of 0,00 €); the programme's rules come after

    # -- references ---------------------------------------------------------------------------------
    def stored(self, section: str) -> dict[str, Any]:
        """Every stored record of a section by key, loaded once (new records are added as they are made)."""
        if section not in self._stored:
            model = SECTION_MODELS[section]
            self._stored[section] = {r.key: r for r in self.session.scalars(select(model))}
        return self._stored[section]

    def ref(self, reader: RecordReader, field_name: str, section: str, required: bool = True):
        # A text already read as a reference to a record of this section names it again: 300,000 sessions name a
        # few thousand families and intervenants, each checked once (a record once found stays found).
        raw = reader.raw.get(field_name)
        known = self._resolved.get((section, raw)) if isinstance(raw, str) else None
        if known is not None:
            return known
        key = reader.reference(field_name)
        if key is None:
            if required:
                raise reader.fail(field_name, "référence obligatoire manquante")
            return None
        target = self.stored(section).get(key)
        if target is None:
            raise reader.fail(
                field_name,
                f"référence inconnue : aucun(e) {RECORD_LABELS[section].lower()} de clé « {key} » dans le fichier "
                "ni dans la base",
            )
        self._resolved[(section, raw)] = target
        return target

    def check_role(self, reader: RecordReader, field_name: str, user: User | None, roles: tuple[str, ...]) -> None:
        if user is not None and user.role not in roles:
            raise reader.fail(field_name, f"« {user.key} » est {user.role}, attendu : {' ou '.join(roles)}")

    # -- the run ------------------------------------------------------------------------------------
    def run(self, data: dict) -> None:
        if data.get("programme") is not None:
            self.import_programme(RecordReader("programme", data["programme"]))
        for section in SECTIONS:
            raw_list = data.get(section)
            if raw_list is None:
                continue
            if not isinstance(raw_list, (list, StreamedList)):
                raise ImportRejected(f"La rubrique « {section} » doit être une liste […].")
            if len(raw_list) > MAX_RECORDS:
                raise ImportRejected(f"La rubrique « {section} » dépasse {MAX_RECORDS} enregistrements.")
            # Every key of the section is checked before any record is read: the records are then read again, one
            # at a time, so that a section of 300,000 sessions is never held whole (a streamed file reads it anew).
            keys = self._check_keys(section, raw_list)
            if section == "families":
                self._check_child_keys(raw_list)
            build = getattr(self, f"build_{section}")
            readers = (RecordReader.checked(section, raw, key) for raw, key in zip(raw_list, keys))
            if section in BULK_SECTIONS:
                self._import_bulk(section, readers, build)
            else:
                for reader in readers:
                    self._import_one(section, reader, build)
            self.session.flush()

    def _check_keys(self, section: str, raw_list) -> list[str]:
        """The section's keys, in order, each checked (well formed, once in the section, like no other)."""
        seen: set[str] = set()
        keys: list[str] = []
        index = _KeyIndex(self._stored_keys(section))
        # a streamed section gives its keys as the scan kept them: no second parse of its records for them
        items = raw_list.key_items() if isinstance(raw_list, StreamedList) else raw_list
        for position, raw in enumerate(items):
            reader = RecordReader(section, raw, position)
            if reader.key in seen:
                raise ImportRejected(
                    f"{RECORD_LABELS[section]} « {reader.key} », champ « key » : clé en double dans la rubrique "
                    f"« {section} ».",
                    field="key",
                )
            self._refuse_look_alike(reader, index)
            seen.add(reader.key)
            keys.append(reader.key)
        return keys

    def _stored_keys(self, section: str):
        """The keys stored for a section; for a bulk section, only them (its records are fetched when needed)."""
        if section not in BULK_SECTIONS:
            return self.stored(section)
        if section not in self._bulk_keys:
            model = SECTION_MODELS[section]
            self._bulk_keys[section] = set(self.session.scalars(select(model.key)))
        return self._bulk_keys[section]

    def _import_bulk(self, section: str, readers: Iterable[RecordReader], build: Callable) -> None:
        """Records read as `_import_one` reads them, stored by one multi-row INSERT per batch instead of an ORM
        object each (the flush of 300,000 objects was most of the import's time and memory). The statement goes
        through the session as an ORM insert: what listens to the session's writes (models.billing_marks) sees it."""
        batch: list[RecordReader] = []
        for reader in readers:
            batch.append(reader)
            if len(batch) == BULK_BATCH:
                self._import_batch(section, batch, build)
                batch = []
        if batch:
            self._import_batch(section, batch, build)

    def _import_batch(self, section: str, readers: list[RecordReader], build: Callable) -> None:
        model, stored_keys = SECTION_MODELS[section], self._stored_keys(section)
        known = [r.key for r in readers if r.key in stored_keys]
        stored = {record.key: record for record in self.session.scalars(
            select(model).where(model.key.in_(known)))} if known else {}
        rows = []
        for reader in readers:
            spec, row = build(reader)
            reader.reject_unknown_fields(spec)
            if reader.key in stored:
                self._same_as_stored(section, reader, spec, stored[reader.key])
                continue
            rows.append(row())
            stored_keys.add(reader.key)
        if rows:
            # The columns the ORM would fill, given: Core's per-row defaults were a tenth of the insert's time.
            stamp = utcnow()
            for row in rows:
                row.update(id=new_id(), created_at=stamp, updated_at=stamp)
            # render_nulls: one executemany for the batch; without it the ORM splits the rows wherever another
            # column is null (a note or not), down to a dozen rows a statement
            self.session.execute(insert(model).execution_options(render_nulls=True), rows)
            self.created[section] = self.created.get(section, 0) + len(rows)

    @staticmethod
    def _refuse_look_alike(reader: RecordReader, keys: "_KeyIndex") -> None:
        """A key that only differs by case or look-alike letters from one in the file or the base would be two
        records a person reads as one (`ѕystem` in Cyrillic and `system`)."""
        twin = keys.add_or_twin(reader.key)
        if twin is not None:
            raise reader.fail("key", text_rules.look_alike_reason(reader.key, twin))

    def _import_one(self, section: str, reader: RecordReader, build: Callable) -> None:
        spec, make = build(reader)
        reader.reject_unknown_fields(spec)
        existing = self.stored(section).get(reader.key)
        if existing is not None:
            self._same_as_stored(section, reader, spec, existing)
            return
        record = make()
        if isinstance(record, dict):  # the row of a bulk section, stored one object at a time
            record = SECTION_MODELS[section](**record)
        self.session.add(record)
        self.stored(section)[reader.key] = record
        self.created[section] = self.created.get(section, 0) + 1

    def _same_as_stored(self, section: str, reader: RecordReader, spec: dict, existing) -> None:
        """A record of a stored key: counted unchanged when the file says what is stored, else refused."""
        stored_form = getattr(canonical, _CANONICAL[section])(existing)
        differing = [k for k in spec if _normalise(spec[k]) != _normalise(
            stored_form.get(k, canonical.OMITTED_DEFAULTS.get(k)))]
        if differing:
            raise ImportRejected(
                f"{RECORD_LABELS[section]} « {reader.key} » : cette clé existe déjà dans la base avec un contenu "
                f"différent (champ(s) : {', '.join(differing)}). Corrigez le fichier ou changez la clé.",
                field=differing[0],
            )
        self.unchanged[section] = self.unchanged.get(section, 0) + 1

    # -- sections -----------------------------------------------------------------------------------
    def import_programme(self, r: RecordReader) -> None:
        spec = {
            "name": r.text("name", max_length=MAX_NAME), "holiday_zone": r.choice("holiday_zone", HOLIDAY_ZONES),
            "eligible_communes": r.text_list("eligible_communes", max_length=120),
            "city": r.text("city", required=False, max_length=120),
        }
        qpv_names = r.text_list("qpv_names", max_length=MAX_QPV_NAME)
        if qpv_names:  # optional (migration 0012): compared only when given, as canonical.programme writes it
            spec["qpv_names"] = list(dict.fromkeys(qpv_names))
        r.reject_unknown_fields({*spec, "qpv_names"})
        existing = self.session.scalars(select(Programme)).first()
        if existing is None:
            self.session.add(Programme(**spec))
            self.created["programme"] = 1
        elif {k: v for k, v in canonical.programme(existing).items() if k in spec or k != "qpv_names"} != spec:
            raise ImportRejected(
                f"Programme : la base contient déjà le programme « {existing.name} », différent de celui du fichier."
            )
        else:
            self.unchanged["programme"] = 1

    def build_users(self, r: RecordReader):
        if text_rules.is_reserved(r.key):  # SYSTEM.key in any case or look-alike spelling
            raise r.fail("key", f"l'identifiant « {SYSTEM.key} » (et tout ce qui s'y confond) est réservé à la ligne "
                                "de commande")
        spec = {"key": r.key, "name": r.text("name", max_length=MAX_NAME), "role": r.choice("role", ROLES),
                "active": r.boolean("active", default=True)}
        return spec, lambda: User(**spec)

    def build_partners(self, r: RecordReader):
        spec = {"key": r.key, "name": r.text("name", max_length=MAX_NAME)}
        return spec, lambda: Partner(**spec)

    def build_conventions(self, r: RecordReader):
        partner = self.ref(r, "partner", "partners")
        start, end = r.date("start"), r.date("end", required=False)
        if end is not None and end < start:
            raise r.fail("end", "la fin de la convention précède son début")
        months = r.list("period_end_months", max_items=12)
        for m in months:
            if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 12:
                raise r.fail("period_end_months", f"mois de fin de période invalide : {m!r} (de 1 à 12)")
        if len(set(months)) != len(months):
            raise r.fail("period_end_months", "un mois apparaît deux fois")
        qualifications = self._read_qualifications(r)
        tariffs = self._read_tariffs(r, qualifications)
        amendments = self._read_amendments(r, start, end, qualifications)
        spec = {
            "key": r.key, "partner": partner.key, "action": r.text("action", max_length=200), "start": canonical.iso(start),
            "end": canonical.iso(end), "max_families": r.integer("max_families", required=False, minimum=0, maximum=100_000),
            "budget_cap": canonical.money(r.money("budget_cap", required=False)),
            "period_end_months": sorted(months), "tariffs": tariffs,
            "budget_imputation": r.text("budget_imputation", required=False, max_length=2000),
            # optional, written only when the convention has avenants (None: the first table alone)
            "amendments": [{"start": canonical.iso(day), "tariffs": table} for day, table in amendments] or None,
            # optional, written only when not AES, TISF (migration 0008)
            "qualifications": list(qualifications),
        }
        spec.update(self._read_rules(r))
        self.warnings.extend(zero_amount_warnings(r.key, spec["budget_cap"], tariffs, amendments))

        def make():
            convention = Convention(
                key=r.key, partner=partner, action=self._action(spec["action"]), start_date=start, end_date=end,
                max_families=spec["max_families"], budget_cap=r.money("budget_cap", required=False),
                period_end_months=spec["period_end_months"], budget_imputation=spec["budget_imputation"],
                qualifications=list(qualifications),
                # null(): None would let the ORM leave the column out, and the server default (1) would fill it
                **{field: null() if spec[field] is None else spec[field] for field in canonical.RULE_DEFAULTS},
            )
            convention.tariffs = [
                Tariff(qualification=q, kind=k, unit_price=Decimal(v))  # already checked by _read_tariffs
                for q, kinds in tariffs.items() for k, v in kinds.items()
            ]
            convention.amendments = [
                TariffAmendment(starts_on=day, qualification=q, kind=k, unit_price=Decimal(v))
                for day, table in amendments for q, kinds in table.items() for k, v in kinds.items()
            ]
            return convention

        return spec, make

    @staticmethod
    def _read_rules(r: RecordReader) -> dict:
        """The convention's billing model, each field optional (absent: Atout Plus's, canonical.RULE_DEFAULTS)."""
        defaults = canonical.RULE_DEFAULTS
        rules = {
            # null: no weekly limit; absent: the default
            "sessions_per_week": (r.integer("sessions_per_week", required=False, minimum=1, maximum=7)
                                  if "sessions_per_week" in r.raw else defaults["sessions_per_week"]),
            "holidays_need_exception": r.boolean("holidays_need_exception", default=True),
            "referent_at_first_session": r.boolean("referent_at_first_session", default=True),
            "home_unit": r.choice("home_unit", HOME_UNITS, required=False) or defaults["home_unit"],
            "hour_rounding_minutes": r.integer("hour_rounding_minutes", required=False, minimum=1, maximum=60)
                                     or defaults["hour_rounding_minutes"],
        }
        return rules

    @staticmethod
    def _read_qualifications(r: RecordReader) -> tuple[str, ...]:
        """The convention's qualifications (the columns of its table): the file's `qualifications`, or, when it has
        none, AES and TISF — or the labels its tables price, in their order, when they name others."""
        from services.conventions_admin import qualification_problem

        raw = r.raw.get("qualifications")
        if raw is None:
            tables = [r.raw.get("tariffs")] + [a.get("tariffs") for a in (r.raw.get("amendments") or [])
                                               if isinstance(a, dict)]
            labels = []
            for table in tables:
                for q in (table if isinstance(table, dict) else {}):
                    if q != FLAT_QUALIFICATION and q not in labels:
                        labels.append(q)
            if set(labels) <= set(QUALIFICATIONS):
                return QUALIFICATIONS
            raw = labels
        if not isinstance(raw, list) or not raw or len(raw) > 50:
            raise r.fail("qualifications", "une liste de qualifications est attendue, par exemple [\"AES\", \"TISF\"]")
        for q in raw:
            problem = qualification_problem(q) if isinstance(q, str) else "La qualification est un texte."
            if problem is None and q != q.strip():
                problem = "La qualification commence ou finit par une espace."
            if problem:
                raise r.fail("qualifications", f"{_describe_label(q)} : {problem[0].lower()}{problem[1:]}")
        if len({q.casefold() for q in raw}) != len(raw):
            raise r.fail("qualifications", "une qualification apparaît deux fois")
        return tuple(raw)

    def _read_tariffs(self, r: RecordReader, qualifications: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """A tariff table (the convention's `tariffs`, or an avenant's), in its canonical form: amounts "30.00",
        qualifications and kinds in the order of the window's table, at least one amount."""
        raw = r.raw.get("tariffs")
        if not isinstance(raw, dict) or not raw:
            raise r.fail("tariffs", "la grille des tarifs est obligatoire : {\"AES\": {…}, \"TISF\": {…}}")
        tariffs: dict[str, dict[str, str]] = {}
        for qualification, kinds in raw.items():
            if qualification not in (*qualifications, FLAT_QUALIFICATION):
                raise r.fail("tariffs", f"qualification inconnue « {qualification} » (valeurs possibles : "
                                        f"{', '.join((*qualifications, FLAT_QUALIFICATION))})")
            if not isinstance(kinds, dict):
                raise r.fail("tariffs", f"les tarifs {qualification} doivent être un objet {{…}}")
            tariffs[qualification] = {}
            for kind, value in kinds.items():
                if (kind != FLAT_KIND) if qualification == FLAT_QUALIFICATION else (kind not in TARIFF_KINDS):
                    if qualification == FLAT_QUALIFICATION:
                        raise r.fail("tariffs", f"« {FLAT_QUALIFICATION} » ne porte que « {FLAT_KIND} »")
                    raise r.fail("tariffs", f"type de tarif inconnu « {kind} » (valeurs possibles : {', '.join(TARIFF_KINDS)})")
                amount = parse_money(value, lambda reason: r.fail(f"tariffs.{qualification}.{kind}", reason))
                tariffs[qualification][kind] = canonical.money(amount)
        # An empty {"AES": {}} holds no line: stored as nothing, it must not be compared as something.
        tariffs = {q: {k: tariffs[q][k] for k in PRICED_KINDS if k in tariffs[q]}
                   for q in (*qualifications, FLAT_QUALIFICATION) if tariffs.get(q)}
        if not tariffs:
            raise r.fail("tariffs", "la grille des tarifs donne au moins un tarif")
        return tariffs

    def _read_amendments(self, r: RecordReader, start: date, end: date | None,
                         qualifications: tuple[str, ...]) -> list[tuple[date, dict]]:
        """The avenants, by start: each a whole table in force from a day after the convention's start and inside its
        period, as services.conventions_admin.add_amendment accepts them."""
        amendments: dict[date, dict] = {}
        for position in range(len(r.list("amendments"))):
            a = r.nested("amendments", position)
            day = a.date("start")
            if day <= start:
                raise a.fail("start", f"l'avenant commence le {day:%d/%m/%Y}, pas après le début de la convention "
                                      f"({start:%d/%m/%Y}) : ses premiers tarifs sont ceux de la convention "
                                      "elle-même (« tariffs »)")
            if end is not None and day > end:
                raise a.fail("start", f"l'avenant commence le {day:%d/%m/%Y}, après la fin de la convention "
                                      f"({end:%d/%m/%Y})")
            if day in amendments:
                raise a.fail("start", f"un autre avenant commence déjà le {day:%d/%m/%Y}")
            amendments[day] = self._read_tariffs(a, qualifications)
            a.reject_unknown_fields({"start", "tariffs"})
        return sorted(amendments.items())

    def _action(self, name: str) -> Action:
        action = self.session.scalars(select(Action).where(Action.name == name)).first()
        if action is None:
            action = Action(name=name)
            self.session.add(action)
            self.session.flush()
        return action

    @staticmethod
    def _qualification(r: RecordReader) -> str:
        """Any label of 1 to 20 characters (migration 0008), as the intervenant form accepts it."""
        from services.conventions_admin import qualification_problem

        value = r.text("qualification", max_length=200)
        problem = qualification_problem(value)
        if problem is None and value != value.strip():
            problem = "La qualification commence ou finit par une espace."
        if problem:
            raise r.fail("qualification", problem[0].lower() + problem[1:])
        return value

    def build_intervenants(self, r: RecordReader):
        partner = self.ref(r, "partner", "partners")
        qualification = self._qualification(r)
        rows = self._read_history(r)
        if rows:  # the intervenant's qualification and partner are those of the latest row, as the window keeps them
            last_start, last_qualification, last_partner = rows[-1]
            since = "depuis le début" if last_start is None else f"à partir du {last_start:%d/%m/%Y}"
            if last_qualification != qualification:
                raise r.fail("qualification", f"la qualification {qualification} contredit l'historique, dont la "
                                              f"dernière ligne dit {last_qualification} {since} : la qualification "
                                              "actuelle est celle de la dernière ligne")
            if last_partner is not partner:
                raise r.fail("partner", f"le partenaire « {partner.key} » contredit l'historique, dont la dernière "
                                        f"ligne dit « {last_partner.key} » {since} : le partenaire actuel est celui "
                                        "de la dernière ligne")
        history = canonical.intervenant_history(
            [{"from": canonical.iso(day), "qualification": q, "partner": p.key} for day, q, p in rows],
            qualification, partner.key)
        spec = {"key": r.key, "partner": partner.key, "name": r.text("name", max_length=MAX_NAME),
                "qualification": qualification,
                # optional, written only when it says more than « these, from the beginning »
                "history": history}

        def make():
            intervenant = Intervenant(key=r.key, partner=partner, name=spec["name"], qualification=qualification)
            # Without a history in the file: its qualification and partner from the beginning (as migration 0006).
            intervenant.history = [IntervenantHistory(starts_on=day, qualification=q, partner=p)
                                   for day, q, p in rows or [(None, qualification, partner)]]
            return intervenant

        return spec, make

    def _read_history(self, r: RecordReader) -> list[tuple[date | None, str, Partner]]:
        """The rows of an intervenant's history, by start: the first from the beginning (`from` null), each later one
        from its own day, at most one a day."""
        rows: dict[date | None, tuple] = {}
        for position in range(len(r.list("history"))):
            h = r.nested("history", position)
            day = h.date("from", required=False)
            qualification = self._qualification(h)
            partner = self.ref(h, "partner", "partners")
            h.reject_unknown_fields({"from", "qualification", "partner"})
            if day in rows:
                raise h.fail("from", "une autre ligne de l'historique commence déjà "
                                     + ("au début (null)" if day is None else f"le {day:%d/%m/%Y}"))
            rows[day] = (day, qualification, partner)
        ordered = [rows[day] for day in sorted(rows, key=canonical.history_order)]
        if ordered and ordered[0][0] is not None:
            raise r.fail("history", "la première ligne de l'historique vaut depuis le début : son « from » est null "
                                    "(les lignes suivantes donnent la date de chaque changement)")
        return ordered

    def _check_child_keys(self, raw_families) -> None:
        seen: set[str] = set()
        keys = _KeyIndex(self.stored("children"))
        for position, raw_family in enumerate(raw_families):
            for raw in RecordReader("families", raw_family, position).list("children", max_items=MAX_CHILDREN):
                child = RecordReader("children", raw)
                if child.key in seen:
                    raise ImportRejected(f"Enfant « {child.key} », champ « key » : clé en double dans le fichier.", field="key")
                self._refuse_look_alike(child, keys)
                seen.add(child.key)

    def build_families(self, r: RecordReader):
        referent = self.ref(r, "referent", "users", required=False)
        self.check_role(r, "referent", referent, ("referent", "coordinator"))
        children = []
        for raw in r.list("children", max_items=MAX_CHILDREN):
            c = RecordReader("children", raw)
            school_level = c.choice("school_level", SCHOOL_LEVEL.codes, required=False)
            priority_education = c.choice("priority_education", PRIORITY.codes, required=False)
            children.append(canonical.with_set({
                "key": c.key, "first_name": c.text("first_name", max_length=120),
                "last_name": c.text("last_name", max_length=120), "birth_date": canonical.iso(c.date("birth_date")),
                "sex": c.choice("sex", SEXES, required=False), "school": c.text("school", required=False, max_length=200),
                "class": c.text("class", required=False, max_length=40),
            }, {"school_level": school_level, "priority_education": priority_education}))  # optional (0012)
            c.reject_unknown_fields({*children[-1], "school_level", "priority_education"})
            if c.key in self.stored("children") and r.key not in self.stored("families"):
                raise c.fail("key", "un enfant de cette clé existe déjà dans une autre famille")
        guardians = []
        for raw in r.list("guardians", max_items=MAX_GUARDIANS):
            if not isinstance(raw, dict):
                raise r.fail("guardians", "chaque responsable légal doit être un objet {…}")
            g = RecordReader("families", {**raw, "key": r.key})
            guardians.append({"name": g.text("name", max_length=MAX_NAME), "relationship": g.text("relationship", required=False, max_length=60),
                              "phone": g.text("phone", required=False, max_length=40)})
            g.reject_unknown_fields({"key", *guardians[-1]})
        qpv_name = r.text("qpv_name", required=False, max_length=MAX_QPV_NAME)  # optional (migration 0012)
        spec = {
            "key": r.key, "name": r.text("name", max_length=MAX_NAME), "address": r.text("address", required=False, max_length=300),
            "commune": r.text("commune", max_length=120),
            # a family named in a QPV lives in a priority neighbourhood, whatever the flag says
            "priority_neighbourhood": qpv_flag(r.boolean("priority_neighbourhood"), qpv_name), "qpv_name": qpv_name,
            "referent": canonical.key_of(referent), "consent_date": canonical.iso(r.date("consent_date", required=False)),
            "consent_scope": r.text("consent_scope", required=False, max_length=300), "notes": r.text("notes", required=False),
            "guardians": guardians, "children": sorted(children, key=lambda c: c["key"]),
        }
        self.touched_families.add(r.key)

        def make():
            family = Family(
                key=r.key, name=spec["name"], address=spec["address"], commune=spec["commune"],
                priority_neighbourhood=spec["priority_neighbourhood"], qpv_name=qpv_name, referent=referent,
                consent_date=r.date("consent_date", required=False), consent_scope=spec["consent_scope"],
                notes=spec["notes"],
            )
            family.guardians = [Guardian(position=i, name=g["name"], relationship_to_child=g["relationship"],
                                         phone=g["phone"]) for i, g in enumerate(guardians)]
            family.children = [
                Child(key=c["key"], first_name=c["first_name"], last_name=c["last_name"],
                      birth_date=_date(c["birth_date"]), sex=c["sex"], school=c["school"], school_class=c["class"],
                      school_level=c.get("school_level"), priority_education=c.get("priority_education"))
                for c in children
            ]
            for child in family.children:
                self.stored("children")[child.key] = child
            return family

        return spec, make

    def build_parcours(self, r: RecordReader):
        child = self.ref(r, "child", "children")
        referent = self.ref(r, "referent", "users", required=False)
        self.check_role(r, "referent", referent, ("referent", "coordinator"))
        start, end = r.date("start", required=False), r.date("end", required=False)
        if start and end and end < start:
            raise r.fail("end", "la fin du parcours précède son début")
        spec = {"key": r.key, "child": child.key, "referent": canonical.key_of(referent),
                "status": r.choice("status", PARCOURS_STATUSES), "start": canonical.iso(start), "end": canonical.iso(end),
                "objectives": r.text("objectives", required=False), "exit_reason": r.text("exit_reason", required=False),
                "actions": r.text("actions", required=False)}
        spec.update(_record_fields(r, spec["exit_reason"]))
        columns = {name: spec[name] for name in _PARCOURS_CODED if name != "referral_reasons"}

        def make():
            p = Parcours(key=r.key, child=child, referent=referent, status=spec["status"], start_date=start,
                         end_date=end, objectives=spec["objectives"], actions=spec["actions"],
                         exit_reason=spec["exit_reason"], **columns)
            p.reasons = [ParcoursReason(reason=reason) for reason in spec["referral_reasons"]]
            return p

        return spec, make

    def build_eps_meetings(self, r: RecordReader):
        situations = []
        for raw in r.list("situations"):
            if not isinstance(raw, dict):
                raise r.fail("situations", "chaque situation doit être un objet {…}")
            s = RecordReader("eps_meetings", {**raw, "key": r.key})
            family = self.ref(s, "family", "families")
            situations.append((family, s.text("recommendation", required=False)))
            s.reject_unknown_fields({"key", "family", "recommendation"})
        spec = {"key": r.key, "date": canonical.iso(r.date("date")), "notes": r.text("notes", required=False),
                "situations": sorted(({"family": f.key, "recommendation": rec} for f, rec in situations),
                                     key=lambda s: (s["family"], s["recommendation"] or ""))}

        def make():
            meeting = EpsMeeting(key=r.key, date=r.date("date"), notes=spec["notes"])
            meeting.situations = [EpsSituation(family=f, recommendation=rec) for f, rec in situations]
            return meeting

        return spec, make

    def build_orientations(self, r: RecordReader):
        family = self.ref(r, "family", "families")
        convention = self.ref(r, "convention", "conventions")
        decided_by = self.ref(r, "decided_by", "users", required=False)
        self.check_role(r, "decided_by", decided_by, ("coordinator",))
        eps_date, decided_on, end = r.date("eps_date"), r.date("decided_on", required=False), r.date("end", required=False)
        status = r.choice("status", ORIENTATION_STATUSES)
        if decided_on and decided_on < eps_date:
            raise r.fail("decided_on", "la décision précède la séance d'EPS")
        if end and decided_on and end < decided_on:
            raise r.fail("end", "la fin de l'orientation précède la décision")
        if status in ("validated", "ended") and decided_on is None:
            raise r.fail("decided_on", "une orientation validée ou terminée doit avoir une date de décision")
        spec = {"key": r.key, "family": family.key, "convention": convention.key, "eps_date": canonical.iso(eps_date),
                "status": status, "decided_on": canonical.iso(decided_on), "decided_by": canonical.key_of(decided_by),
                "end": canonical.iso(end), "reason": r.text("reason", required=False)}
        self.touched_families.add(family.key)
        return spec, lambda: Orientation(key=r.key, family=family, convention=convention, eps_date=eps_date,
                                         status=status, decided_on=decided_on, decided_by=decided_by, end_date=end,
                                         reason=spec["reason"])

    def build_sessions(self, r: RecordReader):
        family = self.ref(r, "family", "families")
        intervenant = self.ref(r, "intervenant", "intervenants")
        approved_by = self.ref(r, "approved_by", "users", required=False)
        self.check_role(r, "approved_by", approved_by, ("coordinator",))
        decided_by = self.ref(r, "exception_decided_by", "users", required=False)
        self.check_role(r, "exception_decided_by", decided_by, ("coordinator",))
        refused = r.boolean("exception_refused")
        day, start = r.date("date"), r.time("start_time")
        spec = {
            "key": r.key, "family": family.key, "intervenant": intervenant.key, "date": canonical.iso(day),
            "start_time": canonical.hhmm(start), "duration_minutes": r.integer("duration_minutes", minimum=1, maximum=1440),
            "status": r.choice("status", SESSION_STATUSES), "referent_present": r.boolean("referent_present"),
            "children_present": r.integer("children_present", required=False, minimum=0, maximum=30),
            "approved_exception": r.boolean("approved_exception"), "approved_by": canonical.key_of(approved_by),
            "notes": r.text("notes", required=False),
            # optional, written only when a dérogation was refused (None stands for false: absent compares equal)
            "exception_refused": True if refused else None, "exception_decided_by": canonical.key_of(decided_by),
            "exception_reason": r.text("exception_reason", required=False, max_length=2000),
        }
        if approved_by is not None and not spec["approved_exception"]:
            raise r.fail("approved_by", "une personne a approuvé une dérogation qui n'est pas marquée approuvée")
        if refused and spec["approved_exception"]:
            raise r.fail("exception_refused", "une dérogation ne peut pas être à la fois approuvée et refusée")
        for name in ("exception_decided_by", "exception_reason"):
            if spec[name] is not None and not refused:
                raise r.fail(name, "décision de refus sur une dérogation qui n'est pas marquée refusée")
        self.touched_families.add(family.key)
        # the row of a bulk insert (BULK_SECTIONS): the columns, references by id
        return spec, lambda: {
            "key": r.key, "family_id": family.id, "intervenant_id": intervenant.id, "date": day, "start_time": start,
            "duration_minutes": spec["duration_minutes"], "status": spec["status"],
            "referent_present": spec["referent_present"], "children_present": spec["children_present"],
            "approved_exception": spec["approved_exception"], "approved_by_id": _id(approved_by),
            "notes": spec["notes"], "exception_refused": refused, "exception_decided_by_id": _id(decided_by),
            "exception_reason": spec["exception_reason"]}

    def build_meetings(self, r: RecordReader):
        convention = self.ref(r, "convention", "conventions")
        keys = r.key_list("intervenants")
        if len(set(keys)) != len(keys):
            raise r.fail("intervenants", "un intervenant apparaît deux fois")
        intervenants = [self.ref(RecordReader("meetings", {"key": r.key, "intervenants": k}), "intervenants",
                                 "intervenants") for k in keys]
        self.touched_meetings.add(r.key)
        spec = {"key": r.key, "convention": convention.key, "kind": r.choice("kind", MEETING_KINDS),
                "date": canonical.iso(r.date("date")), "intervenants": sorted(keys), "notes": r.text("notes", required=False)}
        return spec, lambda: Meeting(key=r.key, convention=convention, kind=spec["kind"], date=_date(spec["date"]),
                                     intervenants=intervenants, notes=spec["notes"])


class _KeyIndex(text_rules.KeyIndex):
    def add_or_twin(self, key: str) -> str | None:
        """`look_alike(key)`, then `add(key)`: one skeleton per key (the most of checking 300,000
        keys was computing each twice)."""
        same = self._by_skeleton.setdefault(text_rules.skeleton(key), set())
        twin = None if key in same else min(same, default=None)
        same.add(key)
        return twin


# The optional fields of a parcours since migration 0012 (besides `actions` and the old `exit_reason`).
_PARCOURS_CODED = ("referral_source", "referral_source_other", "referral_reasons", "referral_reason_other",
                   "support_profile", "support_profile_other", "exit_reason_code")


def _record_fields(r: RecordReader, exit_text: str | None) -> dict[str, Any]:
    """A parcours's closed lists (services.record_fields): each code of its list, « autre » with its precision, a
    precision without « autre » dropped (the exit reason's text stays: it is also a comment)."""
    def code(closed: ClosedList) -> str | None:
        return r.choice(closed.field, closed.codes, required=False)

    def precision(closed: ClosedList, chosen: bool) -> str | None:
        try:
            return with_other(closed, chosen, r.text(closed.other_field, required=False, max_length=MAX_PRECISION))
        except FieldProblem as problem:
            raise r.fail(problem.field, problem.reason) from None

    try:
        reasons = list(read_codes(REFERRAL_REASON, r.list(REFERRAL_REASON.field, max_items=len(REFERRAL_REASON.codes) * 2)))
    except FieldProblem as problem:
        raise r.fail(problem.field, problem.reason) from None
    source, profile, exit_code = code(REFERRAL_SOURCE), code(SUPPORT_PROFILE), code(EXIT_REASON)
    if exit_code == OTHER and not exit_text:
        raise r.fail(EXIT_REASON.other_field, f"la précision est obligatoire quand « {EXIT_REASON.field} » contient "
                                              f"« {OTHER} »")
    return {"referral_source": source, "referral_source_other": precision(REFERRAL_SOURCE, source == OTHER),
            "referral_reasons": reasons, "referral_reason_other": precision(REFERRAL_REASON, OTHER in reasons),
            "support_profile": profile, "support_profile_other": precision(SUPPORT_PROFILE, profile == OTHER),
            "exit_reason_code": exit_code}


_CANONICAL = {
    "users": "user", "partners": "partner", "conventions": "convention", "intervenants": "intervenant",
    "families": "family", "parcours": "parcours", "eps_meetings": "eps_meeting", "orientations": "orientation",
    "sessions": "session", "meetings": "meeting",
}


def _id(record) -> str | None:
    return record.id if record is not None else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _normalise(value: Any) -> Any:
    """Absent, null and empty lists compare equal: a file need not repeat optional fields."""
    if value in (None, [], {}):
        return None
    return value


def _describe_label(value) -> str:
    return f"« {value} »" if isinstance(value, str) else repr(value)
