"""The frozen bundle's contents (packaging/bundle.py, read by packaging/parcours.spec) cover what the code reads by
name or from disk, and the selfcheck verb reports in French and exits 2 when something is wrong. The build itself is
run by packaging/ci-linux.sh."""
from __future__ import annotations

import ast
import glob
import os
import re
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest

from services import selfcheck
from services.selfcheck import CheckResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))
import bundle  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def bundled_files() -> set[str]:
    """Every file the spec's data list puts in the bundle, as "bundle folder/name" (a folder given whole: its
    files)."""
    found = set()
    for source, target in bundle.DATAS:
        for match in glob.glob(str(ROOT / source)):
            path = Path(match)
            if path.is_dir():
                found |= {f"{target}/{f.relative_to(path).as_posix()}" for f in path.rglob("*") if f.is_file()}
            else:
                found.add(f"{target}/{path.name}")
    return found


def test_every_package_data_entry_of_pyproject_is_in_the_spec_data_list():
    data = bundled_files()
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert package_data, "pyproject.toml has no package-data"
    for package, patterns in package_data.items():
        for pattern in patterns:
            files = glob.glob(str(ROOT / package / pattern))
            assert files, f"{package}/{pattern} matches no file"
            for file in files:
                relative = Path(file).relative_to(ROOT).as_posix()
                assert relative in data, f"{relative} (package-data of {package}) is not in packaging/bundle.py DATAS"


def test_the_migrations_alembic_reads_from_disk_are_all_bundled():
    data = bundled_files()
    for file in (ROOT / "models" / "migrations").rglob("*"):
        if file.is_file() and file.name != "__init__.py" and "__pycache__" not in file.parts:
            assert file.relative_to(ROOT).as_posix() in data


def modules_loaded_by_name() -> set[str]:
    """The "module:Class" and "module" strings handed to importlib.import_module in ui/ and services/: the page
    table of ui.main_window (and any other table written the same way)."""
    names = set()
    for folder in ("ui", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "import_module" not in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    match = re.fullmatch(r"((?:ui|services|models|cli)(?:\.\w+)+)(?::\w+)?", node.value)
                    if match:
                        names.add(match[1])
    return names


def test_every_module_loaded_by_name_is_a_hidden_import_of_the_spec():
    names = modules_loaded_by_name()
    assert "ui.admin.statements_page" in names and "ui.pages.families_page" in names  # the grep does find them
    missing = names - set(bundle.HIDDENIMPORTS)
    assert not missing, f"loaded by importlib.import_module but not in packaging/bundle.py HIDDENIMPORTS: {missing}"


def test_the_page_table_matches_what_the_grep_found():
    from ui.main_window import PAGES

    assert {spec.target.split(":")[0] for spec in PAGES} <= modules_loaded_by_name()


def test_qtpdf_and_print_support_are_hidden_imports():
    assert {"PySide6.QtPdf", "PySide6.QtPdfWidgets", "PySide6.QtPrintSupport"} <= set(bundle.HIDDENIMPORTS)


def test_holiday_data_and_reportlab_data_are_collected():
    assert {"vacances_scolaires_france", "reportlab"} <= set(bundle.COLLECT_DATA)


def test_the_spec_excludes_the_gtk3_theme_plugin_and_keeps_print_support():
    assert "libqgtk3.so" in bundle.EXCLUDED_QT_PLUGINS
    assert not any("cups" in name or "printsupport" in name for name in bundle.EXCLUDED_QT_PLUGINS)
    spec = (ROOT / "packaging" / "parcours.spec").read_text(encoding="utf-8")
    assert "EXCLUDED_QT_PLUGINS" in spec and "collect_plugins" in spec  # applied before the libraries are followed
    assert "PySide6.QtPrintSupport" not in bundle.EXCLUDES


def test_the_spec_reads_every_list_of_bundle_py():
    spec = (ROOT / "packaging" / "parcours.spec").read_text(encoding="utf-8")
    for name in ("DATAS", "COLLECT_DATA", "HIDDENIMPORTS", "EXCLUDES", "EXCLUDED_QT_PLUGINS", "QT_TRANSLATIONS_KEPT"):
        assert f"bundle.{name}" in spec, name
    assert "onefile" not in spec.replace("not onefile", "")
    assert "COLLECT(" in spec and spec.count("launcher(") >= 3  # two launchers in one folder


def test_the_version_constant_is_the_one_of_pyproject():
    from services.version import VERSION, parcours_version

    project = PYPROJECT["project"]
    if "version" in project:
        assert project["version"] == VERSION
    else:  # dynamic = ["version"], read from services.version
        assert "version" in project.get("dynamic", [])
        assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "services.version.VERSION"}
    assert parcours_version() == VERSION


def test_the_icons_the_packages_use_exist():
    icons = ROOT / "resources" / "icons"
    for name in ("parcours.svg", "parcours.ico", "parcours.icns", *(f"parcours-{s}.png" for s in (16, 32, 48, 256))):
        assert (icons / name).is_file(), name
    assert (icons / "parcours.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (icons / "parcours.icns").read_bytes()[:4] == b"icns"


# -- selfcheck ----------------------------------------------------------------------------------------------------

def test_selfcheck_services_pass_unfrozen_and_report_each_check_in_french(tmp_path):
    run = selfcheck.run_checks(str(tmp_path / "parcours.sqlite"), date(2026, 3, 1))
    titles = [r.title for r in run.results]
    assert titles == ["Migrations de la base", "Vacances scolaires", "Polices des PDF (reportlab)",
                      "Dossier de la base"]
    assert all(r.ok for r in run.results), [r for r in run.results if not r.ok]
    assert run.pdf.startswith(b"%PDF-")
    report = selfcheck.format_report(run.results, selfcheck.header(str(tmp_path / "parcours.sqlite")))
    assert "Vérification de Parcours" in report and "Tout est en ordre (4 vérifications)." in report
    assert "[ok] Vacances scolaires : calendrier lu pour 2026 et 2027 (zones A, B, C)." in report
    assert "une base neuve se crée jusqu'à la révision" in report
    assert selfcheck.exit_code(run.results) == 0
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_selfcheck_holidays_fail_for_a_year_the_data_does_not_cover():
    result = selfcheck.check_holidays(date(2199, 1, 1))
    assert not result.ok and "pas de dates de vacances pour 2199 (zone A)" in result.detail
    assert "mettez Parcours à jour" in result.detail


def read_only_folder(tmp_path) -> Path:
    if os.geteuid() == 0:  # root writes through a 0500 folder: /proc is read-only for everyone
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc to stand for a read-only folder under root")
        return Path("/proc/parcours-selfcheck-test")
    folder = tmp_path / "lecture-seule"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_selfcheck_exits_2_on_a_read_only_database_folder(tmp_path, capsys, qapp):
    from cli.selfcheck_command import run

    folder = read_only_folder(tmp_path)
    try:
        code = run(str(folder / "parcours.sqlite"), today=date(2026, 3, 1))
    finally:
        if folder.parent == tmp_path:
            folder.chmod(0o700)
    out = capsys.readouterr().out
    assert code == 2
    assert re.search(r"\[ÉCHEC\] Dossier de la base : impossible d'écrire dans \S+", out)
    assert "1 vérification sur 7 en échec : Dossier de la base." in out
    assert "[ok] Aperçu PDF (QtPdf)" in out and "[ok] Impression (QtPrintSupport)" in out  # the others still ran


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_selfcheck_fails_on_a_read_only_database_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes a 0400 file")
    db = tmp_path / "parcours.sqlite"
    db.write_bytes(b"")
    db.chmod(0o400)
    result = selfcheck.check_database_folder(str(db))
    assert not result.ok and "en lecture seule" in result.detail


def test_selfcheck_of_a_server_url_has_no_folder_to_check():
    result = selfcheck.check_database_folder("postgresql+psycopg://parcours@serveur/parcours")
    assert result.ok and "serveur" in result.detail


def test_a_check_that_raises_is_a_failure_naming_the_exception():
    def broken():
        raise FileNotFoundError("models/migrations/versions")

    result = selfcheck.guarded("Migrations de la base", selfcheck.REINSTALL, broken)
    assert result == CheckResult("Migrations de la base", False,
                                 "Installation incomplète : réinstallez Parcours. (FileNotFoundError : "
                                 "models/migrations/versions)")
    assert selfcheck.exit_code([result]) == 2
    assert selfcheck.exit_code([]) == 2  # nothing checked is not « all good »


def test_selfcheck_without_migration_files_fails(monkeypatch, tmp_path):
    import models.db

    monkeypatch.setattr(models.db, "VERSIONS_DIR", tmp_path)
    result = selfcheck.guarded(selfcheck.MIGRATIONS, selfcheck.REINSTALL, selfcheck.check_migrations)
    assert not result.ok and "aucun fichier de migration lisible" in result.detail


def test_qt_checks_load_the_sample_pdf_and_find_printing(qapp):
    from ui.selfcheck_qt import qt_checks

    _, pdf = selfcheck.check_pdf()
    results = qt_checks(pdf)
    assert [r.title for r in results] == ["Aperçu PDF (QtPdf)", "Impression (QtPrintSupport)", "Traductions de Qt"]
    assert all(r.ok for r in results), results
    assert not qt_checks(None)[0].ok  # no PDF to load: the preview is not proven


def test_qt_check_fails_when_qtpdf_cannot_be_imported(qapp, monkeypatch):
    from ui import selfcheck_qt

    monkeypatch.setitem(sys.modules, "PySide6.QtPdf", None)  # import raises ImportError
    result = selfcheck_qt.qt_checks(selfcheck.check_pdf()[1])[0]
    assert not result.ok and "aperçu indisponible" in result.detail
    assert re.search(r"\((ModuleNotFound|Import)Error : ", result.detail)


def test_smoke_mode_is_off_unless_asked(monkeypatch):
    from ui import smoke

    monkeypatch.delenv(smoke.ENV, raising=False)
    assert not smoke.smoke_requested()
    monkeypatch.setenv(smoke.ENV, "statements-preview")
    assert smoke.smoke_requested()


def test_about_text_states_the_version(qapp):
    from services.version import VERSION
    from ui.about import AboutDialog, application_icon

    dialog = AboutDialog(None, "/tmp/parcours.sqlite")
    assert f"Version {VERSION}" in dialog.text.text() and "/tmp/parcours.sqlite" in dialog.text.text()
    assert not application_icon().isNull()
    dialog.deleteLater()


SMOKE_SCRIPT = """
import sys
import main
from ui.smoke import run_smoke

engine, uow = main.open_store(sys.argv[1])
sys.exit(run_smoke(uow, sys.argv[1]))
"""


def smoke_env(tmp_path: Path, password: str) -> dict[str, str]:
    home = tmp_path / "home"
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"), "QT_QPA_PLATFORM": "offscreen",
            "PARCOURS_SMOKE": "statements-preview", "PARCOURS_SMOKE_USER": "ci-admin",
            "PARCOURS_SMOKE_PASSWORD": password, "PARCOURS_SMOKE_SECONDS": "0"}


@pytest.fixture(scope="module")
def demo_with_administrator(tmp_path_factory):
    import subprocess

    tmp = tmp_path_factory.mktemp("smoke")
    db = tmp / "demo.sqlite"
    env = smoke_env(tmp, "")
    for args, stdin in ((["demo"], ""), (["user", "add", "ci-admin", "--role", "administrator", "--password-stdin"],
                                         "Smoke-Test-Parcours-2026!\n")):
        subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", str(db), *args], input=stdin, text=True,
                       env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    return db


def run_smoke_process(db: Path, tmp_path: Path, password: str):
    import subprocess

    return subprocess.run([sys.executable, "-c", SMOKE_SCRIPT, str(db)], env=smoke_env(tmp_path, password),
                          cwd=ROOT, text=True, capture_output=True, timeout=180)


def test_smoke_run_logs_in_and_the_statement_preview_shows_pages(demo_with_administrator, tmp_path):
    done = run_smoke_process(demo_with_administrator, tmp_path, "Smoke-Test-Parcours-2026!")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fenêtre principale ouverte : Parcours — ci-admin (Administration)" in done.stdout
    assert re.search(r"aperçu PDF : [1-9]\d* page\(s\) affichée\(s\)", done.stdout)
    assert done.stdout.rstrip().endswith("réussi")


def test_smoke_run_with_a_wrong_password_fails_with_the_login_refusal(demo_with_administrator, tmp_path):
    done = run_smoke_process(demo_with_administrator, tmp_path, "pas-le-bon-mot-de-passe")
    assert done.returncode == 3
    assert "[smoke] ÉCHEC : connexion refusée : Identifiant ou mot de passe incorrect." in done.stderr


def test_qt_translation_check_fails_without_the_supplement(qapp, monkeypatch, tmp_path):
    from ui import selfcheck_qt, translations

    monkeypatch.setattr(translations, "SUPPLEMENT_FOLDER", tmp_path)
    result = selfcheck_qt.check_translations()
    assert not result.ok and f"parcours_qt_fr.qm introuvable dans {tmp_path}" in result.detail
