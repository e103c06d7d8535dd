"""What the frozen Parcours carries beyond what PyInstaller finds by following imports, read by
packaging/parcours.spec and checked by tests/test_packaging.py. Plain data, no PyInstaller import: a test reads it
without PyInstaller installed.

Each entry is here because a bundle without it broke, and only at run time:
"""
from __future__ import annotations

# (source relative to the repository, folder inside the bundle). The migrations are read from disk by Alembic
# (models.db scans models/migrations/versions), the Qt supplement by ui.translations: neither is imported.
DATAS = (
    ("models/migrations/*.py", "models/migrations"),
    ("models/migrations/script.py.mako", "models/migrations"),
    ("models/migrations/versions/*.py", "models/migrations/versions"),
    ("ui/i18n/*.qm", "ui/i18n"),
    ("resources", "resources"),
)

# Packages whose data files are read with open() beside their code.
COLLECT_DATA = (
    "vacances_scolaires_france",  # data/data.csv: school holidays, offline
    "reportlab",  # fonts/ and the standard fonts' metrics
)

# Modules imported by a string (ui.main_window.PAGES: "module:Class" through importlib.import_module), by the
# migration files (run by Alembic from disk, so PyInstaller never sees their imports), or lazily inside a try
# (the PDF preview falls back to « aperçu indisponible » without QtPdf, silently).
HIDDENIMPORTS = (
    "ui.pages.dashboard_page",
    "ui.pages.reports_page",
    "ui.pages.families_page",
    "ui.pages.week_page",
    "ui.pages.queue_page",
    "ui.pages.eps_page",
    "ui.pages.sessions_page",
    "ui.pages.activity_page",
    "ui.pages.audit_page",
    "ui.admin.statements_page",
    "ui.admin.conventions_page",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtPrintSupport",
    "alembic",
    "alembic.op",
    "alembic.context",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
    "models.chain",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.sqlite.pysqlcipher",  # a connected laptop's encrypted copy (services.local_crypto)
    "sqlcipher3",
    "logging.config",
)

# Qt plugins left out. libqgtk3 (the GTK 3 platform theme) links the build host's GTK and drags ~38 of its
# libraries in, which then clash with the user's own; Qt falls back to its Fusion look without it. The print
# support plugin (libcupsprintersupport, which links libcups) is a different plugin type and stays.
EXCLUDED_QT_PLUGINS = ("libqgtk3.so",)

# Python packages never used by the app that PyInstaller would follow from the venv. (Not PIL, although the PDFs
# have no image: reportlab 5's canvas imports it, and the frozen selfcheck failed without it.)
EXCLUDES = (
    "tkinter",
    "pytest",
    "_pytest",
    "hypothesis",
    "pytestqt",
    "pypdf",
    "IPython",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    "PySide6.QtTest",
    "PySide6.QtOpenGLWidgets",
)

# Qt's own translations kept (the app is in French; the other languages are 7 MB).
QT_TRANSLATIONS_KEPT = ("qtbase_fr.qm", "qt_fr.qm")

APP_NAME = "Parcours"  # the windowed launcher (no console)
CLI_NAME = "parcours-cli"  # the console launcher: a windowed Windows build drops command-line output
BUNDLE_ID = "fr.parcours.app"
