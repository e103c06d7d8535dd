"""The start does not import Alembic when the schema is current (models.db): the head read from the migration files
is Alembic's own, a current database opens without it, and a new file or an older schema is still upgraded."""
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from models.db import (MIGRATIONS_DIR, current_revision, head_revision, known_revisions, make_engine, migrate,
                       scanned_revisions)

ROOT = Path(__file__).resolve().parents[1]
# Opens the store as main.py does, then says whether Alembic (or one of the dialects it loads) was imported.
PROBE = """
import sys
sys.path.insert(0, {root!r})
from main import open_store
engine, _ = open_store({db!r})
engine.dispose()
print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')
             or m.startswith(('sqlalchemy.dialects.postgresql', 'sqlalchemy.dialects.mysql'))))
"""


def _alembic() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def _imported_on_open(db: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT), db=str(db))], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_head_read_from_the_files_is_alembics():
    script = _alembic()
    assert head_revision() == script.get_current_head()
    assert known_revisions() == {rev.revision for rev in script.walk_revisions()}
    graph = scanned_revisions()
    assert graph is not None and set(graph) == known_revisions()
    for rev in script.walk_revisions():
        down = rev.down_revision
        assert graph[rev.revision] == ((down,) if isinstance(down, str) else tuple(down or ()))


def test_a_current_database_opens_without_alembic(tmp_path):
    db = tmp_path / "parcours.sqlite"
    assert "alembic" in _imported_on_open(db)  # a new file is created by the migrations
    assert _imported_on_open(db) == "[]"  # the next start only reads alembic_version


def test_an_older_schema_is_still_upgraded(tmp_path):
    db = tmp_path / "parcours.sqlite"
    engine = make_engine(str(db))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    assert current_revision(engine) == "0006"
    assert migrate(engine) == head_revision()
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_database_without_alembic_version_reads_as_no_revision(tmp_path):
    engine = make_engine(str(tmp_path / "vide.sqlite"))
    assert current_revision(engine) is None
    engine.dispose()
