"""list indexes: the session list sorted, searched and paged by keyset at 300,000 sessions (issue 12)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Only indexes, no row is touched:
- `family(name)` and `intervenant(name)`: the list sorted by family or intervenant walks the small table in name
  order and each one's sessions through the existing (family_id, date) / (intervenant_id, date) indexes; the
  search matches names in these small tables first.
- `home_session(date, start_time, key)`: the default order, newest first, read straight from the index (a keyset
  page is a range of it, the count of a skipped run is an index-only scan).
- `home_session(duration_minutes, date, key)` and `home_session(status, date, key)`: the other sortable columns,
  with the key that ends each order (unique), so a keyset page and a skipped run never read the table.
- `home_session(family_id, date, key)` and `home_session(intervenant_id, date, key)`: the same for the orders by
  family and by intervenant (the older (family_id, date) and (intervenant_id, date) indexes are kept for the
  other queries; the new ones would serve them too, dropping the old ones is left to a later migration).

On SQLite, ANALYZE then records the tables' sizes so the planner prefers walking the small tables by these
indexes over sorting the big join (without statistics it guesses that every table is the same size).
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_family_name", "family", ["name"]),
    ("ix_intervenant_name", "intervenant", ["name"]),
    ("ix_home_session_date_time_key", "home_session", ["date", "start_time", "key"]),
    ("ix_home_session_duration_date_key", "home_session", ["duration_minutes", "date", "key"]),
    ("ix_home_session_status_date_key", "home_session", ["status", "date", "key"]),
    ("ix_home_session_family_date_key", "home_session", ["family_id", "date", "key"]),
    ("ix_home_session_intervenant_date_key", "home_session", ["intervenant_id", "date", "key"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE")


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
