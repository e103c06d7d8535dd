"""The dialogs that enter a family (services.family_records): household, guardian, child, a parcours's objectives and
actions, consent, closing the file; and what the reports count (the QPV, the school level and REP/REP+, who referred
the child and why, the support profile, the exit reason), as closed lists (ui.coded_form).

Each is a FormDialog (ui.form_dialog): Tab from field to field, Entrée saves, Échap cancels, the services' French
messages under their fields. An edit carries the `updated_at` of the record it was opened on (`based_on`): saved
after someone else's newer edit, it is refused with the StaleEdit message instead of undoing that edit.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtWidgets import QWidget

from services.consent import record_consent
from services.directory import CurrentUser, list_users
from services.family_records import (ChildInput, ChildRecord, FamilyRecord, GuardianInput, HouseholdInput, ParcoursPlan,
                                     add_child, add_guardian, close_family, correct_closed_parcours, create_family,
                                     update_child, update_family, update_guardian, update_parcours_plan)
from services.formatting import format_date
from services.programme_settings import qpv_names
from services.record_fields import (EXIT_REASON, OTHER_LABELS, PRIORITY, QPV_LABEL, REFERRAL_REASON, REFERRAL_SOURCE,
                                    SCHOOL_LEVEL, SUPPORT_PROFILE, ParcoursDetails)
from ui.background import run_in_background
from ui.coded_form import CodedFormDialog, checks_field, code_field, open_coded_form
from ui.form_dialog import Field, FormDialog, open_form

NO_REFERENT = "(pas encore de référent·e)"
SEXES = (("—", None), ("Fille", "F"), ("Garçon", "M"))
YES_NO = (("Non", False), ("Oui", True))

Then = Callable[[Any], None]


def referent_choices(uow_factory) -> tuple[tuple[str, str | None], ...]:
    """(label, user id) of the accounts that may follow a family; run it off the GUI thread."""
    people = [u for u in list_users(uow_factory()) if u.role in ("referent", "coordinator")]
    return ((NO_REFERENT, None), *((f"{u.name} ({u.role_label})", u.id) for u in people))


def _household_fields(user: CurrentUser, record: FamilyRecord | None,
                      referents: tuple[tuple[str, str | None], ...]) -> list[Field]:
    fields = [Field("name", "Nom du foyer", default=record.name if record else "Famille "),
              Field("address", "Adresse", default=record.address if record else None),
              Field("commune", "Commune", default=record.commune if record else None),
              Field("priority_neighbourhood", "Quartier prioritaire (QPV)", "choice",
                    record.priority_neighbourhood if record else False, YES_NO),
              Field("qpv_name", QPV_LABEL, "suggest", record.qpv_name if record else None)]
    if user.is_coordinator:  # a référent's families are theirs: they neither choose nor change the référent
        fields.append(Field("referent_id", "Référent·e", "choice", record.referent_id if record else None,
                            referents or ((NO_REFERENT, None),)))
    fields.append(Field("notes", "Notes", "multiline", record.notes if record else None))
    return fields


def _household(values: dict) -> HouseholdInput:
    return HouseholdInput(values["name"], values["commune"], values["address"], values["priority_neighbourhood"],
                          values["notes"], values.get("referent_id"), values["qpv_name"])


def _offer_qpv(dialog: CodedFormDialog, uow_factory, user: CurrentUser) -> CodedFormDialog:
    """The programme's QPV names in the household's QPV field, read off the GUI thread; without them (none kept yet,
    or the read failed) the field still takes any name typed."""
    run_in_background(dialog, lambda: qpv_names(uow_factory(), user), dialog.inputs["qpv_name"].add_suggestions,
                      lambda _exc: None)
    return dialog


QPV_INTRO = ("« Nom du QPV » : le quartier prioritaire de la politique de la ville où vit la famille ; le choisir "
             "dans la liste du programme ou l'écrire. Un nom renseigné vaut « Quartier prioritaire : Oui ».")


def ask_new_family(parent: QWidget, uow_factory, user: CurrentUser, referents, then: Then) -> FormDialog:
    return _offer_qpv(open_coded_form(
        parent, "Nouvelle famille", _household_fields(user, None, referents),
        lambda v: create_family(uow_factory(), user, _household(v)), then,
        intro="Le foyer d'abord ; vous ajouterez ensuite ses responsables légaux et ses enfants dans son dossier."
              + ("" if user.is_coordinator else " Vous en serez le ou la référent·e.") + " " + QPV_INTRO,
        ok_label="Créer la famille"), uow_factory, user)


def ask_edit_household(parent: QWidget, uow_factory, user: CurrentUser, record: FamilyRecord, referents,
                       then: Then) -> FormDialog:
    if not user.is_coordinator:
        referents = ()
    based_on, family_id = record.updated_at, record.id
    return _offer_qpv(open_coded_form(
        parent, f"Modifier le foyer — {record.name}", _household_fields(user, record, referents),
        lambda v: update_family(uow_factory(), user, family_id, _household(v), based_on), then, intro=QPV_INTRO),
        uow_factory, user)


def ask_add_guardian(parent: QWidget, uow_factory, user: CurrentUser, record: FamilyRecord, then: Then) -> FormDialog:
    family_id = record.id
    return open_form(parent, f"Ajouter un responsable légal — {record.name}",
                     [Field("name", "Nom et prénom"), Field("relationship", "Lien avec l'enfant (mère, père…)"),
                      Field("phone", "Téléphone")],
                     lambda v: add_guardian(uow_factory(), user, family_id,
                                            GuardianInput(v["name"], v["relationship"], v["phone"])), then)


def ask_edit_guardian(parent: QWidget, uow_factory, user: CurrentUser, record: FamilyRecord, guardian,
                      then: Then) -> FormDialog:
    guardian_id, based_on = guardian.id, guardian.updated_at
    return open_form(parent, f"Modifier le responsable légal — {record.name}",
                     [Field("name", "Nom et prénom", default=guardian.name),
                      Field("relationship", "Lien avec l'enfant (mère, père…)", default=guardian.relationship or ""),
                      Field("phone", "Téléphone", default=guardian.phone or "")],
                     lambda v: update_guardian(uow_factory(), user, guardian_id,
                                               GuardianInput(v["name"], v["relationship"], v["phone"]), based_on),
                     then)


def _child_fields(child: ChildRecord | None, last_name: str) -> list[Field]:
    return [Field("first_name", "Prénom", default=child.first_name if child else None),
            Field("last_name", "Nom", default=child.last_name if child else last_name),
            Field("birth_date", "Date de naissance", "date", child.birth_date if child else None),
            Field("sex", "Sexe", "choice", child.sex if child else None, SEXES),
            Field("school", "École", default=child.school if child else None),
            Field("school_class", "Classe", default=child.school_class if child else None),
            code_field(SCHOOL_LEVEL, child.school_level if child else None),
            code_field(PRIORITY, child.priority_education if child else None, label="Éducation prioritaire (école)")]


def _child(values: dict) -> ChildInput:
    return ChildInput(values["first_name"], values["last_name"], values["birth_date"], values["sex"],
                      values["school"], values["school_class"], values["school_level"], values["priority_education"])


def _family_surname(record: FamilyRecord) -> str:
    return record.name.removeprefix("Famille ").strip()


def ask_add_child(parent: QWidget, uow_factory, user: CurrentUser, record: FamilyRecord, today: Callable[[], date],
                  then: Then) -> FormDialog:
    family_id = record.id
    return open_coded_form(parent, f"Ajouter un enfant — {record.name}", _child_fields(None, _family_surname(record)),
                           lambda v: add_child(uow_factory(), user, family_id, _child(v), today=today()), then,
                           intro="Le programme suit les enfants de 2 à 16 ans.")


def ask_edit_child(parent: QWidget, uow_factory, user: CurrentUser, child: ChildRecord, today: Callable[[], date],
                   then: Then) -> FormDialog:
    child_id, based_on = child.id, child.updated_at
    return open_coded_form(parent, f"Modifier l'enfant — {child.name}", _child_fields(child, child.last_name),
                           lambda v: update_child(uow_factory(), user, child_id, _child(v), based_on, today=today()),
                           then)


# -- a parcours: who referred the child and why, the support profile, the exit reason ----------------------------
DETAILS_OTHERS = {REFERRAL_SOURCE.field: REFERRAL_SOURCE.other_field, REFERRAL_REASON.field: REFERRAL_REASON.other_field,
                  SUPPORT_PROFILE.field: SUPPORT_PROFILE.other_field}


def details_fields(details: ParcoursDetails) -> list[Field]:
    d = details
    return [code_field(REFERRAL_SOURCE, d.referral_source),
            Field(REFERRAL_SOURCE.other_field, "Précision", default=d.referral_source_other),
            checks_field(REFERRAL_REASON, d.referral_reasons),
            Field(REFERRAL_REASON.other_field, "Précision", default=d.referral_reason_other),
            code_field(SUPPORT_PROFILE, d.support_profile),
            Field(SUPPORT_PROFILE.other_field, "Précision", default=d.support_profile_other)]


def details_of(values: dict) -> ParcoursDetails:
    return ParcoursDetails(*(values[name] for name in (
        "referral_source", "referral_source_other", "referral_reasons", "referral_reason_other", "support_profile",
        "support_profile_other")))


def exit_fields(code: str | None = None, text: str | None = None) -> list[Field]:
    return [code_field(EXIT_REASON, code, none_label="— choisir —"),
            Field(EXIT_REASON.other_field, OTHER_LABELS[EXIT_REASON.other_field].removesuffix(" (sortie)"),
                  "multiline", text)]


EXIT_INTRO = ("Le motif de sortie compte dans le bilan annuel : choisissez-le dans la liste ; « Autre (préciser) » "
              "demande une précision, un commentaire peut accompagner tout motif.")


def ask_edit_parcours(parent: QWidget, uow_factory, user: CurrentUser, child_name: str, plan: ParcoursPlan,
                      then: Then) -> FormDialog:
    plan_id, based_on = plan.id, plan.updated_at
    if plan.status == "closed":
        return open_coded_form(
            parent, f"Compléter le parcours clos — {child_name}", [*details_fields(plan.details),
                                                                    *exit_fields(plan.exit_reason_code, plan.exit_reason)],
            lambda v: correct_closed_parcours(uow_factory(), user, plan_id, details_of(v), v["exit_reason_code"],
                                              v["exit_reason"], based_on), then,
            others=DETAILS_OTHERS, intro="Ce parcours est clos : ce qu'en compte le bilan annuel "
                                                            "se complète ou se corrige ici. " + EXIT_INTRO)
    return open_coded_form(parent, f"Modifier le parcours — {child_name}",
                           [Field("objectives", "Objectifs", "multiline", plan.objectives),
                            Field("actions", "Actions", "multiline", plan.actions), *details_fields(plan.details)],
                           lambda v: update_parcours_plan(uow_factory(), user, plan_id, v["objectives"], v["actions"],
                                                          based_on, details=details_of(v)), then,
                           others=DETAILS_OTHERS,
                           intro="Les objectifs du parcours et les actions prévues pour les atteindre, puis qui a "
                                 "orienté l'enfant et pourquoi. Tab passe au champ suivant puis au bouton "
                                 "« Enregistrer ».")


def ask_consent(parent: QWidget, uow_factory, user: CurrentUser, family_key: str, family_name: str,
                consent_date: date | None, consent_scope: str | None, today: Callable[[], date],
                then: Then) -> FormDialog:
    return open_form(parent, f"Consentement de la famille — {family_name}",
                     [Field("consent_date", "Date de l'accord", "date", consent_date or today()),
                      Field("consent_scope", "Objet du consentement",
                            default=consent_scope or "Parcours de réussite éducative")],
                     lambda v: record_consent(uow_factory(), user, family_key, v["consent_date"], v["consent_scope"],
                                              today=today()), then,
                     intro="L'accord préalable des parents : la date à laquelle ils l'ont donné et ce à quoi ils ont "
                           "consenti.")


def ask_close_family(parent: QWidget, uow_factory, user: CurrentUser, record: FamilyRecord, today: Callable[[], date],
                     then: Then) -> FormDialog:
    family_id, based_on = record.id, record.updated_at
    running = [p for p in record.parcours if p.status != "closed"]
    intro = ("Le dossier reste consultable mais quitte la liste des familles suivies. "
             + (f"{len(running)} parcours en cours sera clos à cette date avec ce motif. " if len(running) == 1 else
                f"{len(running)} parcours en cours seront clos à cette date avec ce motif. " if running else "")
             + "Les orientations en cours prennent fin à cette date.")
    fields = [Field("closed_on", "Date de clôture", "date", today()),
              Field("closed_reason", "Motif de clôture", "multiline")]
    if running:  # their exit reason, for the bilan
        fields.append(code_field(EXIT_REASON, None, label="Motif de sortie des parcours", none_label="— choisir —"))
    return open_coded_form(parent, f"Clore le dossier — {record.name}", fields,
                           lambda v: close_family(uow_factory(), user, family_id, v["closed_on"], v["closed_reason"],
                                                  based_on, today=today(),
                                                  exit_reason_code=v.get("exit_reason_code")),
                           then, intro=intro, ok_label="Clore le dossier")


def closed_banner(record: FamilyRecord | None) -> str:
    if record is None or record.closed_on is None:
        return ""
    return f"Dossier clos le {format_date(record.closed_on)} : {record.closed_reason or ''}"
