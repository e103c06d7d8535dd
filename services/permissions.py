"""Who may do what: the one permission table of Parcours, and the check every service runs first.

Deny by default. Each public service function starts with `require(user, "<operation>", session=uow.session)`
inside its unit of work, before it reads or writes anything; an operation missing from `PERMISSIONS` is refused,
and so is a user whose account is disabled or whose role changed since they logged in.

Roles (CASF L226-2-2, shared professional secrecy; the PRE team gives no nominative information to the board):
  * a référent reads and writes only the families they follow: `family.referent_id` is theirs, or they are the
    référent of a parcours of one of its children (`follows`). Lists are filtered to those families
    (`followed_family_ids`); a call naming a family checks it (`require(..., family_id=...)`).
  * the coordination sees every family, validates orientations, approves or refuses dérogations, runs the EPS,
    changes parcours, reads the audit log and answers the families' RGPD requests;
  * the administration manages conventions, users and monthly statements; it sees families only as codes and
    names on statements, hours and session lists: never a family file, never a note, never a child's details.
  * session notes are for the family's référent and the coordination: everyone else gets `notes=None`.

`SYSTEM` is the operator of the machine at the command line (cli/*): whoever can run it can read the database
file anyway, so the CLI does not log in. It holds the administrator role but is recognised by identity (`is`),
never by its key, and may run only the operations whose rule says `system=True` — the verbs the CLI offers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Boolean, column, exists, or_, select, table
from sqlalchemy.orm import Session

from services.errors import PermissionDenied

# The few columns of `app_user` the start reads, as a Core table: the window reaches its login without importing
# the mapped classes (models is loaded on first use, at the first check of a logged-in user).
APP_USERS = table("app_user", column("id"), column("active", Boolean), column("password_hash"))

ROLE_LABELS = {"referent": "Référent·e de parcours", "coordinator": "Coordination",
               "administrator": "Administration"}
R, C, A = "referent", "coordinator", "administrator"


@dataclass(frozen=True)
class CurrentUser:
    """Who is at the keyboard: built at login and passed to every page and service."""

    id: str
    key: str
    name: str
    role: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def is_referent(self) -> bool:
        return self.role == "referent"

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    @property
    def is_administrator(self) -> bool:
        return self.role == "administrator"


# The operator of the machine, for the command line only (see the module's docstring). Its key is reserved:
# services.users refuses to create an account called "system".
SYSTEM = CurrentUser(id="system", key="system", name="Opérateur de la machine (ligne de commande)",
                     role="administrator")


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    doing: str  # completes « Votre rôle ne permet pas de … »
    followed: bool = False  # a référent only for the families they follow
    system: bool = False  # the command line (SYSTEM) may run it
    bootstrap: bool = False  # with no user at all, allowed while nobody can log in (first start)


def _rule(roles: tuple[str, ...], doing: str, **flags) -> Rule:
    return Rule(frozenset(roles), doing, **flags)


PERMISSIONS: Mapping[str, Rule] = {
    # families and their files
    "family.list": _rule((R, C), "consulter la liste des familles", followed=True),
    "family.read": _rule((R, C), "ouvrir le dossier d'une famille", followed=True),
    "consent.record": _rule((R, C), "enregistrer le consentement d'une famille", followed=True),
    "family.create": _rule((R, C), "créer le dossier d'une famille"),
    "family.edit": _rule((R, C), "modifier le dossier d'une famille", followed=True),
    "family.close": _rule((R, C), "clore le dossier d'une famille", followed=True),
    "family.remove": _rule((C,), "supprimer le dossier d'une famille"),
    # home sessions
    "session.read": _rule((R, C, A), "consulter les séances", followed=True),
    "session.read_notes": _rule((R, C), "lire les notes des séances", followed=True),
    "session.record": _rule((R, C), "saisir une séance", followed=True),
    "session.update": _rule((R, C), "corriger une séance", followed=True),
    "session.delete": _rule((C,), "supprimer une séance"),
    "exception.read": _rule((R, C), "consulter les séances à valider", followed=True),
    "exception.approve": _rule((C,), "approuver ou refuser une dérogation"),
    # EPS, orientations, parcours
    "eps.read": _rule((C,), "consulter les séances d'EPS"),
    "eps.manage": _rule((C,), "préparer une séance d'EPS ou proposer une orientation"),
    "orientation.read": _rule((C,), "consulter les orientations à décider"),
    "orientation.validate": _rule((C,), "valider ou refuser une orientation"),
    "orientation.end": _rule((C,), "terminer une orientation"),
    "parcours.read": _rule((C,), "consulter les enfants qui quittent le programme"),
    "parcours.change": _rule((C,), "ouvrir, suspendre ou clore un parcours"),
    "parcours.edit": _rule((R, C), "modifier les objectifs et les actions d'un parcours", followed=True),
    # hours, conventions, statements
    "activity.read": _rule((R, C, A), "consulter les heures réalisées", followed=True),
    "programme.read": _rule((R, C, A), "consulter les réglages du programme"),
    "programme.manage": _rule((A,), "modifier le nom et la zone de vacances du programme"),
    "convention.read": _rule((R, C, A), "consulter les conventions et les intervenants"),
    "convention.manage": _rule((A,), "modifier les partenaires, les intervenants et les conventions"),
    "statement.read": _rule((C, A), "consulter les états mensuels", system=True),
    "statement.issue": _rule((A,), "émettre un état mensuel", system=True),
    "dashboard.read": _rule((C, A), "consulter le tableau de bord de la coordination"),
    # aggregated reports (« Bilans »): counts only, never a name
    "report.read": _rule((C, A), "produire les bilans du programme", system=True),
    # accounts, audit, RGPD, interchange
    "user.self": _rule((R, C, A), "gérer son propre compte"),
    "user.manage": _rule((A,), "gérer les comptes des utilisateurs", system=True),
    "user.first_administrator": _rule((), "créer le premier compte administrateur", bootstrap=True),
    "audit.read": _rule((C,), "consulter le journal d'audit", system=True),
    "audit.purge": _rule((A,), "purger le journal d'audit", system=True),
    "retention.run": _rule((C,), "anonymiser les dossiers dont la conservation est échue", system=True),
    "access_export.run": _rule((C,), "exporter les données d'une famille (droit d'accès)", system=True),
    "dataset.import": _rule((C,), "importer un fichier de données", system=True, bootstrap=True),
    # the team's spreadsheet on day one: brought in by whoever sets the programme up, coordination or administration
    "sheet.import": _rule((C, A), "importer un tableur de l'équipe", system=True),
    "dataset.export": _rule((C,), "exporter toute la base", system=True),
    # the team server's enrolled computers (services.devices)
    "device.enrol": _rule((R, C, A), "enregistrer un poste auprès du serveur"),
    "device.manage": _rule((A,), "gérer les postes enregistrés auprès du serveur"),
    # the team server's side of the sync (services.sync.server): every role with a device pushes its own work and
    # pulls what it may read
    "sync.push": _rule((R, C, A), "envoyer au serveur les modifications faites sur ce poste"),
    "sync.pull": _rule((R, C, A), "recevoir du serveur les modifications du programme"),
    # a laptop's own sync (services.sync.client): its state, its conflicts and refusals, all its user's own work
    "sync.status": _rule((R, C, A), "consulter l'état de la synchronisation", system=True),
    "sync.conflicts": _rule((R, C, A), "consulter les conflits de synchronisation", system=True),
    "sync.resolve": _rule((R, C, A), "résoudre un conflit de synchronisation"),
}

# Public functions of services/ that take a unit of work but check no permission, and why. tests/test_permissions.py
# fails when a function taking `uow` is neither checked nor listed here.
PRE_LOGIN = {
    "services.directory.store_is_empty": "first start: decides whether to offer the demo, before any account",
    "services.directory.list_users": "names and roles of the staff, for the identity picker before anyone is "
                                     "logged in and for putting names on audit entries",
    "services.users.needs_first_administrator": "first start: whether the window asks for a first administrator",
    "services.users.authenticate": "the login itself",
    "services.demo.load_demo": "delegates to dataset.import_dataset, which runs the check",
    "services.devices.enrol_with_password": "the login itself (users.authenticate), then devices.enrol_device, "
                                            "which runs the check",
    "services.devices.device_user": "the device's own authentication: its token is how the user is known",
}
# Helpers that run inside a unit of work their caller already opened and checked (they never open one).
INSIDE_CHECKED_WORK = {
    "services.activity.family_hours_in", "services.home_sessions.fetch_rows", "services.home_sessions.holiday_zone",
    "services.home_sessions.list_sessions_in", "services.home_sessions.usual_intervenant_in",
    "services.orientations.list_orientations_in", "services.home_sessions.awaiting_decision_ids",
    "services.home_sessions.session_rules",
}


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def allowed(user: CurrentUser | None, operation: str) -> bool:
    """Whether the role may run `operation` at all (no account or family check): for showing or hiding a field."""
    rule = PERMISSIONS.get(operation)
    if rule is None or user is None:
        return False
    if user is SYSTEM:
        return rule.system
    return isinstance(user, CurrentUser) and user.role in rule.roles


def notes_visible(user: CurrentUser) -> bool:
    """Session notes: for the coordination, and for référents on the families they follow (the only ones their
    lists ever hold)."""
    return allowed(user, "session.read_notes")


def require(user: CurrentUser | None, operation: str, family_id: str | None = None,
            session: Session | None = None) -> None:
    """Raise PermissionDenied (French message) unless `user` may run `operation` (on `family_id` if given).

    `session` is the unit of work's database session: with it the account is checked (it must exist, be active
    and still hold the role it logged in with) and so is the family's scope. Services always pass it."""
    rule = PERMISSIONS.get(operation)
    if rule is None:
        raise _deny("Opération non autorisée : elle ne figure pas dans la table des permissions de Parcours.")
    if user is None:
        if not rule.bootstrap:
            raise _deny("Identifiez-vous pour utiliser Parcours.")
        if session is None or someone_can_log_in(session):
            raise _deny("Un compte avec mot de passe existe déjà : connectez-vous à Parcours.")
        return  # first start: nobody can log in yet, so whoever holds the file is the only possible actor
    if user is SYSTEM:
        if rule.system:
            return
        raise _deny(f"La ligne de commande ne permet pas de {rule.doing} : connectez-vous à Parcours.")
    if not isinstance(user, CurrentUser) or user.role not in rule.roles:
        label = ROLE_LABELS.get(getattr(user, "role", None), "inconnu")
        raise _deny(f"Votre rôle ({label}) ne permet pas de {rule.doing}.")
    if session is not None:
        from models import User

        stored = session.get(User, user.id)
        if stored is None or not stored.active or stored.role != user.role or stored.key != user.key:
            raise _deny("Ce compte est désactivé ou ses droits ont changé : reconnectez-vous à Parcours.")
    if family_id is not None and rule.followed and user.is_referent:
        if session is None or not follows(session, user.id, family_id):
            raise _deny("Cette famille n'est pas suivie par vous : son dossier ne vous est pas ouvert. "
                        "Adressez-vous à son ou sa référent·e ou à la coordination.")


def someone_can_log_in(session: Session) -> bool:
    """An active account has a password. Until then the store is at its first start (empty, or imported accounts
    without passwords) and the bootstrap operations run without a user."""
    users = APP_USERS.c  # Core, without the models: the window's first query neither maps nor configures them
    return session.scalar(select(users.id).where(users.active.is_(True), users.password_hash.is_not(None))
                          .limit(1)) is not None


def followed_family_ids(user_id: str):
    """SELECT of the ids of the families a référent follows (family référent, or référent of a child's parcours)."""
    from models import Child, Family, Parcours

    by_parcours = select(Child.family_id).join(Parcours, Parcours.child_id == Child.id).where(
        Parcours.referent_id == user_id)
    return select(Family.id).where(or_(Family.referent_id == user_id, Family.id.in_(by_parcours)))


def follows(session: Session, user_id: str, family_id: str) -> bool:
    from models import Family

    return bool(session.scalar(select(exists().where(Family.id == family_id,
                                                     Family.id.in_(followed_family_ids(user_id))))))


def scope_families(query, user: CurrentUser, family_column=None):
    """Restrict a query to the families `user` may see: all of them, except for a référent. `family_column` is the
    column holding the family's id (by default `Family.id`)."""
    if family_column is None:
        from models import Family

        family_column = Family.id
    return query.where(family_column.in_(followed_family_ids(user.id))) if user.is_referent else query
