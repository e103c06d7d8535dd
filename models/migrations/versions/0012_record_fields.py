"""record fields: the closed lists the reports count (issue 13, « Bilans »)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

New nullable columns, each code with a CHECK on its closed list (models.enums), « autre » with a precision beside:
- `family.qpv_name`: the QPV (quartier prioritaire de la politique de la ville) by name, and
  `programme.qpv_names` (JSON list, empty for an existing programme): the QPV the window offers;
- `child.school_level`, `child.priority_education` (hors REP, REP, REP+);
- `parcours.referral_source` (+ `referral_source_other`), `referral_reason_other`, `support_profile`
  (+ `support_profile_other`), `exit_reason_code` (the existing free-text `exit_reason` becomes its precision);
- `parcours_reason` (parcours, reason): the reasons for the referral, several per parcours.

Plain ALTER TABLE ADD COLUMN with a column CHECK, the same statement on SQLite and PostgreSQL: a batch copy would
drop and recreate `family`, `child` and `parcours`, which the foreign keys referring to them forbid while the
migration runs with them on (see 0004). Every existing row is unchanged (all NULL); a column CHECK belongs to its
column, so SQLite's DROP COLUMN accepts it on the way down.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The lists as of this revision (a later revision widening one edits its CHECK, as 0007 does).
REFERRAL_SOURCES = ("en_enseignant", "en_direction", "en_cpe", "en_infirmiere", "en_assistante_sociale", "pmi",
                    "ase_departement", "ccas", "cmp_cmpp", "famille", "association", "autre")
REFERRAL_REASONS = ("scolarite", "comportement", "sante", "langage", "absenteisme", "soutien_parentalite",
                    "vie_familiale", "acces_loisirs_culture", "isolement_social", "autre")
SUPPORT_PROFILES = ("veille", "individualise", "renforce", "autre")
EXIT_REASONS = ("objectifs_atteints", "relais_droit_commun", "demenagement", "refus_abandon", "limite_age", "autre")
SCHOOL_LEVELS = ("maternelle", "elementaire", "college", "lycee", "non_scolarise")
PRIORITY_EDUCATION = ("hors_rep", "rep", "rep_plus")

# (table, column, length, closed list or None)
COLUMNS = (
    ("family", "qpv_name", 120, None),
    ("child", "school_level", 16, SCHOOL_LEVELS),
    ("child", "priority_education", 12, PRIORITY_EDUCATION),
    ("parcours", "exit_reason_code", 24, EXIT_REASONS),
    ("parcours", "referral_source", 24, REFERRAL_SOURCES),
    ("parcours", "referral_source_other", 200, None),
    ("parcours", "referral_reason_other", 200, None),
    ("parcours", "support_profile", 16, SUPPORT_PROFILES),
    ("parcours", "support_profile_other", 200, None),
)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    for table, column, length, values in COLUMNS:
        check = (f" CONSTRAINT ck_{table}_{column} CHECK ({column} IS NULL OR {_in_list(column, values)})"
                 if values else "")
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR({length}){check}")
    op.add_column('programme', sa.Column('qpv_names', sa.JSON(), server_default='[]', nullable=False))
    op.create_table(
        'parcours_reason',
        sa.Column('parcours_id', sa.String(length=36), nullable=False),
        sa.Column('reason', sa.String(length=24), nullable=False),
        sa.CheckConstraint(_in_list("reason", REFERRAL_REASONS), name=op.f('ck_parcours_reason_reason')),
        sa.ForeignKeyConstraint(['parcours_id'], ['parcours.id'],
                                name=op.f('fk_parcours_reason_parcours_id_parcours'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('parcours_id', 'reason', name=op.f('pk_parcours_reason')),
    )


def downgrade() -> None:
    op.drop_table('parcours_reason')
    op.drop_column('programme', 'qpv_names')
    for table, column, _length, _values in reversed(COLUMNS):
        op.drop_column(table, column)
