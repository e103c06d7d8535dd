"""Value dictionaries: each distinct value of a coded column (sex, school level, REP/REP+, referral source and
reasons, support profile, exit reason, QPV, partner) mapped once to Parcours' closed list (models.enums).

    code_of(field, text, dictionary) -> code or None      None: nobody said what this value is, the import waits

A value is looked up in the team's dictionary (the mapping file's « values », the wizard's choices) first, then
among the spellings teams write (« CM2 » is élémentaire, « 4ème » collège, « REP + » rep_plus, « AS » the school's
social worker…), each compared folded (case, accents, spaces and punctuation aside; « + » read as « plus »). A
referral-reasons cell may hold several reasons, separated by , ; / or a new line.

The QPV column takes « oui » / « non » or the neighbourhood's name: its codes are QPV_NO, QPV_YES (no name),
QPV_NAMED (the value is the name) and, for each QPV of the programme's list, « qpv:<its name> » (a value written
as the list writes it, case and accents aside, is that QPV by itself).

The partner column's closed list is the programme's partners (table `partner`): a value is « partner:<its key> »
— the key, not the name, so that a mapping file still holds after the partner is renamed (« Adom » become
« Adom 01 »); a key no longer in the programme is as if unmapped — or « autre » (the value kept as written). A value
written as a partner's name or key, case and accents aside, is that partner by itself.
"""
from __future__ import annotations

import re

from models import enums
from services.sheet_import.columns import fold

QPV_NO, QPV_YES, QPV_NAMED = "non", "oui", "nom"
QPV_PREFIX = "qpv:"  # followed by a name of the programme's list
PARTNER_PREFIX = "partner:"  # followed by a partner's key
MULTI = frozenset({"referral_reasons"})
_SEPARATORS = re.compile(r"[,;/\n]+")

# field: its closed list as (code, French label)
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "sex": (("F", "Fille"), ("M", "Garçon")),
    "school_level": tuple(enums.SCHOOL_LEVEL_LABELS.items()),
    "priority_education": tuple(enums.PRIORITY_EDUCATION_LABELS.items()),
    "referral_source": tuple(enums.REFERRAL_SOURCE_LABELS.items()),
    "referral_reasons": tuple(enums.REFERRAL_REASON_LABELS.items()),
    "support_profile": tuple(enums.SUPPORT_PROFILE_LABELS.items()),
    "exit_reason": tuple(enums.EXIT_REASON_LABELS.items()),
    "priority_neighbourhood": ((QPV_NO, "Hors QPV"), (QPV_YES, "En QPV (quartier non précisé)"),
                               (QPV_NAMED, "En QPV : la valeur est le nom du quartier")),
    "partner": (("autre", "Autre (préciser)"),),  # and the programme's partners (choices_for)
}
# The codes named by the programme's lists: their prefix, and what follows it as an error message says
PREFIXED = {"priority_neighbourhood": (QPV_PREFIX, "<nom du QPV>"), "partner": (PARTNER_PREFIX, "<code du partenaire>")}
CODED = tuple(CHOICES)
# The fields whose « autre » keeps the value as written, as its precision.
OTHER_TEXT = {"referral_source": "referral_source_other", "referral_reasons": "referral_reason_other",
              "support_profile": "support_profile_other", "exit_reason": "exit_reason"}

_COLLEGE = ("6", "5", "4", "3")
_SPELLINGS: dict[str, dict[str, tuple[str, ...]]] = {  # field: code: spellings, folded
    "sex": {"F": ("f", "fille", "feminin", "femme", "fem"), "M": ("m", "g", "garcon", "masculin", "homme", "masc")},
    "school_level": {
        "maternelle": ("maternelle", "tps", "ps", "ms", "gs", "petitesection", "moyennesection", "grandesection",
                       "toutepetitesection", "mat"),
        "elementaire": ("elementaire", "primaire", "cp", "ce1", "ce2", "cm1", "cm2", "ecoleelementaire"),
        "college": ("college", "segpa", *(f"{n}{s}" for n in _COLLEGE for s in ("", "e", "eme", "em")),
                    "sixieme", "cinquieme", "quatrieme", "troisieme"),
        "lycee": ("lycee", "seconde", "2nde", "2de", "premiere", "1ere", "1re", "terminale", "tle", "term", "cap",
                  "bacpro", "lyceeprofessionnel"),
        "non_scolarise": ("nonscolarise", "nonscolarisee", "descolarise", "descolarisee", "aucun", "creche"),
    },
    "priority_education": {"hors_rep": ("horsrep", "non", "n", "aucun", "horseducationprioritaire", "0", "sansrep"),
                           "rep": ("rep", "oui"), "rep_plus": ("repplus", "repp")},
    "referral_source": {
        "en_enseignant": ("enseignant", "enseignante", "enseignants", "instituteur", "institutrice", "maitresse",
                          "maitre", "professeur", "professeure", "professeurdesecoles", "ecole", "enenseignant"),
        "en_direction": ("direction", "directeur", "directrice", "directeurdecole", "directricedecole",
                         "chefdetablissement", "principal", "principale", "endirection"),
        "en_cpe": ("cpe", "encpe"),
        "en_infirmiere": ("infirmiere", "infirmier", "infirmierescolaire", "infirmiereen", "eninfirmiere"),
        "en_assistante_sociale": ("assistantesociale", "assistantsocial", "as", "assistantesocialescolaire",
                                  "asscolaire", "enassistantesociale"),
        "pmi": ("pmi",),
        "ase_departement": ("ase", "aidesocialealenfance", "departement", "conseildepartemental", "servicessociaux",
                            "mds", "maisondessolidarites", "cd", "asedepartement"),
        "ccas": ("ccas",),
        "cmp_cmpp": ("cmp", "cmpp", "cmpcmpp"),
        "famille": ("famille", "parent", "parents", "mere", "pere", "lafamille", "demandedelafamille"),
        "association": ("association", "asso"),
        "autre": ("autre",),
    },
    "referral_reasons": {
        "scolarite": ("scolarite", "scolaire", "difficultesscolaires", "apprentissages", "difficultescolaire"),
        "comportement": ("comportement", "troublesducomportement"),
        "sante": ("sante", "soins", "accesauxsoins"),
        "langage": ("langage", "parole", "troublesdulangage"),
        "absenteisme": ("absenteisme", "absences", "absenteismescolaire"),
        "soutien_parentalite": ("parentalite", "soutienparentalite", "soutienalaparentalite"),
        "vie_familiale": ("viefamiliale", "familial", "relationsfamiliales"),
        "acces_loisirs_culture": ("loisirs", "culture", "loisirsculture", "accesauxloisirs",
                                  "accesauxloisirsetalaculture", "accesloisirsculture"),
        "isolement_social": ("isolement", "isolementsocial"),
        "autre": ("autre",),
    },
    "support_profile": {"veille": ("veille",), "individualise": ("individualise", "individuel", "parcoursindividualise"),
                        "renforce": ("renforce", "parcoursrenforce"), "autre": ("autre",)},
    "exit_reason": {
        "objectifs_atteints": ("objectifsatteints", "objectifatteint", "findesobjectifs"),
        "relais_droit_commun": ("relais", "relaisdroitcommun", "droitcommun", "relaisversledroitcommun",
                                "orientationdroitcommun"),
        "demenagement": ("demenagement", "demenage", "demenagee"),
        "refus_abandon": ("refus", "abandon", "refusouabandon", "refusdelafamille", "abandondelafamille",
                          "refusabandon"),
        "limite_age": ("limitedage", "agelimite", "limiteage", "limitedageatteinte", "16ans"),
        "autre": ("autre",),
    },
    "priority_neighbourhood": {QPV_NO: ("non", "n", "0", "faux", "false", "no", "horsqpv", "nonqpv"),
                               QPV_YES: ("oui", "o", "x", "1", "vrai", "true", "yes", "qpv")},
    "partner": {"autre": ("autre", "autrepartenaire")},
}
def fold_value(text: str) -> str:
    """A value compared as teams vary it: « REP + », « REP+ » and « rep plus » are one."""
    return fold(str(text).replace("+", "plus"))


_RECOGNISED: dict[str, dict[str, str]] = {}  # field: folded spelling: code
for _name, _by_code in _SPELLINGS.items():
    _RECOGNISED[_name] = {**{fold_value(label): code for code, label in CHOICES[_name]},
                          **{fold_value(code): code for code, _ in CHOICES[_name]},
                          **{spelling: code for code, spellings in _by_code.items() for spelling in spellings}}


def choice_label(field: str, code: str) -> str:
    return dict(CHOICES[field])[code]


def parts(field: str, text: str) -> list[str]:
    """The values a cell holds: several for a multi-valued field, one otherwise."""
    if field in MULTI:
        return [" ".join(p.split()) for p in _SEPARATORS.split(text) if p.strip()]
    return [text]


def recognised_code(field: str, text: str) -> str | None:
    folded = fold_value(text)
    code = _RECOGNISED[field].get(folded)
    if code is None and field == "priority_neighbourhood" and folded.startswith("qpv") and len(folded) > 3:
        return QPV_NAMED  # « QPV Croix-Blanche »
    return code


def code_of(field: str, text: str, dictionary: dict[str, str] | None, qpv_names: tuple[str, ...] = (),
            partners: tuple[tuple[str, str], ...] = ()) -> str | None:
    """The code of one value: the team's choice, else a recognised spelling (or a QPV or a partner of the
    programme's lists, `partners` as (key, name)), else None."""
    if dictionary:
        folded = fold_value(text)
        for value, code in dictionary.items():
            if code is not None and fold_value(value) == folded and (
                    field != "partner" or not code.startswith(PARTNER_PREFIX)
                    or any(PARTNER_PREFIX + key == code for key, _ in partners)):  # a partner since removed: ask
                return code
    if field == "priority_neighbourhood" and qpv_names:
        wanted = {fold_value(text), fold_value(qpv_name(text))}
        named = next((n for n in qpv_names if fold_value(n) in wanted), None)
        if named is not None:
            return QPV_PREFIX + named
    if field == "partner":
        folded = fold_value(text)
        found = next((key for key, name in partners if folded in (fold_value(name), fold_value(key))), None)
        if found is not None:
            return PARTNER_PREFIX + found
    return recognised_code(field, text)


def choices_for(field: str, qpv_names: tuple[str, ...] = (),
                partners: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    """The closed list of a field as the wizard offers it: the programme's QPVs by name for the QPV column, its
    partners for the partner column."""
    if field == "priority_neighbourhood":
        return (*CHOICES[field], *((QPV_PREFIX + n, f"En QPV : {n}") for n in qpv_names))
    if field == "partner":
        return (*((PARTNER_PREFIX + key, name) for key, name in partners), *CHOICES[field])
    return CHOICES[field]


def partner_name(code: str, text: str, partners: tuple[tuple[str, str], ...]) -> str:
    """The name an action line gives the partner of a value: the programme's for « partner:<key> », the value as
    written for « autre »."""
    return next((name for key, name in partners if PARTNER_PREFIX + key == code), text)


def qpv_name(text: str) -> str:
    """The neighbourhood's name a QPV_NAMED value gives (« QPV Croix-Blanche » -> « Croix-Blanche »)."""
    stripped = re.sub(r"^\s*qpv\b[\s:–—-]*", "", text, flags=re.IGNORECASE)
    return stripped or text


def check_dictionaries(values: object) -> dict[str, dict[str, str]]:
    """The « values » of a mapping file, checked (a null code is a value left to choose); raises ValueError with a
    French message."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError("« values » doit être un objet {champ: {valeur: code}}.")
    checked = {}
    for name, dictionary in values.items():
        if name not in CHOICES:
            raise ValueError(f"« values » : le champ « {name} » n'a pas de liste fermée (champs : "
                             f"{', '.join(CODED)}).")
        if not isinstance(dictionary, dict):
            raise ValueError(f"« values » : « {name} » doit être un objet {{valeur: code}}.")
        codes = [code for code, _ in CHOICES[name]]
        for value, code in dictionary.items():
            prefix, named = PREFIXED.get(name, (None, None))
            if code is not None and code not in codes and not (  # null: written for a person to choose
                    prefix and isinstance(code, str) and code.startswith(prefix) and code[len(prefix):].strip()):
                raise ValueError(f"« values » : la valeur « {value} » de « {name} » a le code inconnu « {code} » "
                                 f"(codes : {', '.join(codes + ([prefix + named] if prefix else []))}).")
        checked[name] = dict(dictionary)
    return checked
