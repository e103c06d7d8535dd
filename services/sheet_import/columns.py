"""The sheet's columns mapped to Parcours fields: found by the French words teams use in their headers, corrected by
a mapping file (JSON) that is written back so that next year's sheet reuses the choices.

A header is compared folded (case, accents, punctuation and spaces dropped: « Né(e) le » and « NEE LE » are one).
« Action 1 », « Action 2 »… are one field, `actions`, read from each of those columns (a row per child that lists
its actions across); a single « Action » column is `action` (a sheet of one row per action: the child's rows are
gathered and their actions listed). A « Partenaire » column names the partner of the row's actions (each action
line of the parcours is then « <action> — <partner> »).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

from services.errors import ImportRejected

MAPPING_FORMAT = "parcours-sheet-mapping/1"
LAYOUTS = {"per_child": "une ligne par enfant", "per_action": "une ligne par action"}

# field: (its French label, the headers that name it, folded)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "last_name": ("Nom", ("nom", "nomenfant", "nomdelenfant", "nomdefamille", "nomjeune", "nomdujeune")),
    "first_name": ("Prénom", ("prenom", "prenomenfant", "prenomdelenfant", "prenoms")),
    "birth_date": ("Date de naissance", ("ddn", "datedenaissance", "datenaissance", "naissance", "nele", "neele",
                                         "nee", "dn")),
    "sex": ("Sexe", ("sexe", "genre", "garconfille", "sexefm", "sexefg", "sexefmg")),
    "orientation_date": ("Date d'orientation", ("saisine", "datedesaisine", "datesaisine", "datedorientation",
                                                "dateorientation", "orientation", "orientele", "dateentree",
                                                "datedentree", "entree", "entreele", "dateentreedansledispositif")),
    "end_date": ("Date de sortie", ("datedesortie", "datesortie", "sortie", "sortiele", "datedefin", "finparcours")),
    "exit_reason": ("Motif de sortie", ("motifdesortie", "motifsortie", "raisondesortie")),
    "school": ("École", ("ecole", "etablissement", "etablissementscolaire", "ecolefrequentee", "college")),
    "school_class": ("Classe", ("classe", "niveaudeclasse", "classefrequentee")),
    "school_level": ("Niveau scolaire", ("niveau", "niveauscolaire", "cycle", "scolarite", "niveaudetude")),
    "priority_education": ("REP / REP+", ("rep", "repplus", "reprep", "educationprioritaire", "repourep",
                                          "ecolerep", "reseaueducationprioritaire")),
    "commune": ("Commune", ("commune", "ville", "communederesidence", "lieuderesidence")),
    "address": ("Adresse", ("adresse", "adressepostale", "adressedelafamille")),
    "family": ("Famille", ("famille", "foyer", "codefamille", "nfamille", "numerofamille", "nomdufoyer")),
    "priority_neighbourhood": ("Quartier prioritaire", ("qpv", "quartierprioritaire", "quartier", "horsqpv")),
    "referent": ("Référent·e", ("referent", "referente", "referentdeparcours", "referenteparcours", "referentpre",
                                "suivipar")),
    "guardian": ("Responsable légal", ("responsablelegal", "responsable", "parent", "parents", "representantlegal",
                                       "nomduparent", "nomdesparents")),
    "phone": ("Téléphone", ("telephone", "tel", "portable", "telephoneparent")),
    "objectives": ("Objectifs", ("objectifs", "objectif", "objectifsduparcours")),
    "referral_source": ("Orienté par", ("orientepar", "orienteepar", "adressepar", "adresseepar", "origine",
                                        "originedelorientation", "originedelasaisine", "prescripteur", "saisinepar",
                                        "sourcedorientation", "orienteur", "structureorientatrice")),
    "referral_reasons": ("Motifs d'orientation", ("motif", "motifs", "motifdorientation", "motifsdorientation",
                                                  "motifdesaisine", "motifsdesaisine", "problematique",
                                                  "problematiques", "motifsdelorientation")),
    "support_profile": ("Profil d'accompagnement", ("profil", "profildaccompagnement", "typedaccompagnement",
                                                    "typedeparcours", "niveaudaccompagnement", "intensite")),
    "partner": ("Partenaire", ("partenaire", "partenaires", "partenairemobilise", "partenairesmobilises",
                               "structure", "structurepartenaire", "structuremobilisee", "association", "operateur",
                               "organisme", "prestataire", "porteur", "porteurdelaction", "partenairedelaction")),
    "action": ("Action", ("action", "actionproposee", "actionmiseenplace")),
    "actions": ("Actions 1…n", ()),  # « Action 1 », « Action 2 »…: recognised by ACTION_N
}
REQUIRED = ("last_name", "first_name", "birth_date", "commune")
ACTION_N = re.compile(r"actions?(n|no)?([0-9]+)")
_SYNONYMS = {synonym: name for name, (_label, synonyms) in FIELDS.items() for synonym in synonyms}


def fold(text: str) -> str:
    """Lower case, accents and everything but letters and digits dropped (« Né(e) le » -> « neele »)."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def recognised(header: object) -> str | None:
    """The field a header names, or None."""
    if header is None:
        return None
    folded = fold(header)
    if ACTION_N.fullmatch(folded):
        return "actions"
    if 2 <= len(folded) <= 3 and set(folded) <= set("fmg") and "f" in folded or (
            folded.startswith("fille") and "garcon" in folded):  # « F/M », « F/M/G », « fille/garçon »
        return "sex"
    return _SYNONYMS.get(folded)


def label(field_name: str) -> str:
    return FIELDS[field_name][0]


@dataclass(frozen=True)
class Column:
    index: int  # 0-based
    letter: str  # « C »
    header: str  # as the sheet writes it (« » for a column without a header)
    field: str | None  # None: not mapped (dropped, or kept as notes when asked)

    @property
    def name(self) -> str:
        """The column as a message names it: « C (DDN) »."""
        return f"{self.letter} ({self.header})" if self.header else self.letter


@dataclass(frozen=True)
class ColumnMapping:
    """What a mapping file holds: the header row and, for each header, its field (None: ignored on purpose)."""

    sheet: str | None = None
    header_row: int | None = None
    fields: dict[str, str | None] = field(default_factory=dict)  # header as written -> field
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)  # field -> value as written -> code
    layout: str | None = None  # a key of LAYOUTS; None: guessed (an « Action » column is one row per action)

    def to_json(self) -> str:
        return json.dumps({"format": MAPPING_FORMAT, "sheet": self.sheet, "header_row": self.header_row,
                           "layout": self.layout, "columns": self.fields, "values": self.values},
                          ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ColumnMapping":
        try:
            data = json.loads(text)
        except ValueError:
            raise ImportRejected("Le fichier de correspondance n'est pas un JSON lisible.") from None
        if not isinstance(data, dict) or data.get("format") != MAPPING_FORMAT:
            raise ImportRejected(f"Le fichier de correspondance doit déclarer \"format\": \"{MAPPING_FORMAT}\".")
        columns = data.get("columns") or {}
        if not isinstance(columns, dict):
            raise ImportRejected("Le fichier de correspondance : « columns » doit être un objet {en-tête: champ}.")
        for header, name in columns.items():
            if name is not None and name not in FIELDS:
                raise ImportRejected(f"Le fichier de correspondance associe la colonne « {header} » à un champ "
                                     f"inconnu « {name} » (champs : {', '.join(FIELDS)}).")
        row = data.get("header_row")
        if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 1):
            raise ImportRejected("Le fichier de correspondance : « header_row » doit être un numéro de ligne "
                                 "(1, 2…).")
        layout = data.get("layout")
        if layout is not None and layout not in LAYOUTS:
            raise ImportRejected(f"Le fichier de correspondance : « layout » vaut {', '.join(LAYOUTS)} ou null.")
        from services.sheet_import.values import check_dictionaries

        try:
            values = check_dictionaries(data.get("values"))
        except ValueError as exc:
            raise ImportRejected(f"Le fichier de correspondance : {exc}") from None
        sheet = data.get("sheet")
        return cls(sheet if isinstance(sheet, str) else None, row, dict(columns), values, layout)


def header_text(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def find_header_row(rows, scan: int = 30) -> int | None:
    """The 0-based index of the row whose cells name the most fields (at least two), among the first `scan`."""
    best, best_score = None, 1
    for index, row in enumerate(rows[:scan]):
        score = len({recognised(v) for v in row if isinstance(v, str)} - {None})
        if score > best_score:
            best, best_score = index, score
    return best


def map_columns(header: tuple[object, ...], saved: ColumnMapping | None = None) -> tuple[Column, ...]:
    """Each column of the header row with its field: the mapping file's choice for its header, else the synonym
    recognised. A field other than `actions` is given to its first column only."""
    from openpyxl.utils import get_column_letter

    columns, taken = [], set()
    overrides = saved.fields if saved else {}
    for index, value in enumerate(header):
        text = header_text(value)
        name = overrides[text] if text in overrides else recognised(text)
        if name in taken and name != "actions":
            name = None
        if name is not None:
            taken.add(name)
        columns.append(Column(index, get_column_letter(index + 1), text, name))
    return tuple(columns)
