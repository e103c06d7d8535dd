"""convention qualifications and monthly flat: qualifications are the convention's, not a fixed AES/TISF list
(issue 9, conventions other than Atout Plus)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14

- `convention.qualifications` (JSON, server default ["AES", "TISF"]): the qualifications a convention pays, in the
  order of its table; every existing convention reads AES, TISF as before.
- The CHECKs pinning `qualification` to AES/TISF are dropped from tariff, tariff_amendment, intervenant,
  intervenant_history and statement_line, and the column is widened from 4 to 20 characters: the service checks the
  label instead (trimmed, 1 to 20 characters).
- The CHECK on `kind` of tariff, tariff_amendment and statement_line accepts `monthly_family_flat` (« Forfait
  mensuel par famille suivie », stored under the reserved qualification « forfait »).

Only widened: every existing row satisfies the new constraints, no row is copied or rewritten. On PostgreSQL the
constraints are dropped and added again and the columns' type widened (varchar(4) to varchar(20) is a catalogue
change, no rewrite); on SQLite the tables' stored CREATE statements are edited in place as in 0007 — the frozen
statements, their triggers and their hash chain are untouched.
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

QUALIFICATION_TABLES = ('tariff', 'tariff_amendment', 'intervenant', 'intervenant_history', 'statement_line')
OLD_QUALIFICATIONS = "qualification IN ('AES', 'TISF')"
TARIFF_KINDS = "'home_intervention', 'weekly_preparation', 'launch_meeting', 'period_end_meeting'"
OLD_KINDS = {'tariff': f"kind IN ({TARIFF_KINDS})", 'tariff_amendment': f"kind IN ({TARIFF_KINDS})",
             'statement_line': f"kind IN ({TARIFF_KINDS}, 'home_hours')"}
FLAT = "'monthly_family_flat'"


def _new_kinds(old: str) -> str:
    return old[:-1] + f", {FLAT})"


def upgrade() -> None:
    op.add_column('convention', sa.Column('qualifications', sa.JSON(), nullable=False,
                                          server_default='["AES", "TISF"]'))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in QUALIFICATION_TABLES:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_qualification")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN qualification TYPE VARCHAR(20)")
        for table, old in OLD_KINDS.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_kind")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_kind CHECK ({_new_kinds(old)})")
        return
    edits = {}
    for table in QUALIFICATION_TABLES:
        sql = _table_sql(bind, table)
        check = f"\tCONSTRAINT ck_{table}_qualification CHECK ({OLD_QUALIFICATIONS}), \n"
        column = "\tqualification VARCHAR(4) NOT NULL, \n"
        if check not in sql or column not in sql:
            raise RuntimeError(f"{table} : la contrainte sur la qualification n'est pas celle attendue")
        sql = sql.replace(check, "").replace(column, "\tqualification VARCHAR(20) NOT NULL, \n")
        if table in OLD_KINDS:
            if OLD_KINDS[table] not in sql:
                raise RuntimeError(f"{table} : la contrainte sur le type de ligne n'est pas celle attendue")
            sql = sql.replace(OLD_KINDS[table], _new_kinds(OLD_KINDS[table]))
        edits[table] = sql
    _write_schema(bind, edits)


def downgrade() -> None:
    bind = op.get_bind()
    for table in QUALIFICATION_TABLES:  # a narrower CHECK written over rows it refuses would be a lie
        outside = bind.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE NOT ({OLD_QUALIFICATIONS})").scalar_one()
        if outside:
            raise RuntimeError(f"{table} : {outside} ligne(s) d'une qualification autre que AES ou TISF")
    if bind.dialect.name == "postgresql":
        for table, old in OLD_KINDS.items():
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_kind")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_kind CHECK ({old})")
        for table in QUALIFICATION_TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN qualification TYPE VARCHAR(4)")
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_qualification CHECK ({OLD_QUALIFICATIONS})")
    else:
        edits = {}
        for table in QUALIFICATION_TABLES:
            sql = _table_sql(bind, table).replace("\tqualification VARCHAR(20) NOT NULL, \n",
                                                  "\tqualification VARCHAR(4) NOT NULL, \n")
            if table in OLD_KINDS:
                sql = sql.replace(_new_kinds(OLD_KINDS[table]), OLD_KINDS[table])
            sql = re.sub(rf"(\tCONSTRAINT pk_{table} PRIMARY KEY \(id\), \n)",
                         lambda m: m.group(1) + f"\tCONSTRAINT ck_{table}_qualification CHECK ({OLD_QUALIFICATIONS}), \n",
                         sql, count=1)
            edits[table] = sql
        _write_schema(bind, edits)
    op.drop_column('convention', 'qualifications')


def _table_sql(bind, table: str) -> str:
    return bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
                                ).scalar_one()


def _write_schema(bind, edits: dict[str, str]) -> None:
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, sql in edits.items():
            bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
