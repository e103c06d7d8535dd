"""The Qt half of `selfcheck` (services.selfcheck has the rest, without Qt): the PDF preview and printing.

    qt_checks(pdf) -> list[CheckResult]

The preview (ui.admin.pdf_preview) silently shows « aperçu indisponible » when QtPdf cannot be imported, and a
bundle that lost the print-support plugin prints nothing: both are checked by doing what the window does — load
and render the PDF services.selfcheck produced, build the print classes and list the printers. Runs without a
screen: when no QGuiApplication exists yet, one is made on Qt's offscreen platform.
"""
from __future__ import annotations

import sys
from pathlib import Path

from services.selfcheck import REINSTALL, CheckResult, guarded

PREVIEW = "Aperçu PDF (QtPdf)"
PRINTING = "Impression (QtPrintSupport)"
TRANSLATIONS = "Traductions de Qt"


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # offscreen: the check runs in a console, over SSH or in CI, with no display to connect to. A QApplication
        # (not a QGuiApplication): a widget made later in the same process, by a caller, needs one.
        app = QApplication([sys.argv[0] if sys.argv else "parcours", "-platform", "offscreen"])
    return app


def check_preview(pdf: bytes | None) -> CheckResult:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
    from PySide6.QtPdf import QPdfDocument
    from PySide6.QtPdfWidgets import QPdfView  # noqa: F401 (the preview's view: its import is what is checked)

    _application()
    if pdf is None:
        return CheckResult(PREVIEW, False, "QtPdf est présent, mais aucun PDF d'essai n'a pu être produit (voir "
                                           "« Polices des PDF »).")
    data = QByteArray(pdf)
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    try:
        if document.status() != QPdfDocument.Status.Ready or document.pageCount() != 1:
            return CheckResult(PREVIEW, False, f"QtPdf n'a pas pu lire le PDF d'essai ({document.error()}). "
                                               f"{REINSTALL}")
        image = document.render(0, QSize(120, 170))
        if image.isNull():
            return CheckResult(PREVIEW, False, f"QtPdf n'a pas pu dessiner la page d'essai. {REINSTALL}")
    finally:
        document.close()
        buffer.close()
    return CheckResult(PREVIEW, True, "QtPdf et QtPdfWidgets chargés ; la page d'essai est lue et dessinée.")


def check_printing() -> CheckResult:
    from PySide6.QtCore import QLibraryInfo, QPluginLoader
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

    _application()
    if sys.platform.startswith("linux"):
        # Linux prints through CUPS, in a plugin (libcupsprintersupport, which links libcups): without it, Qt
        # only offers « imprimer dans un fichier ».
        folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "printsupport"
        plugins = sorted(folder.glob("*cups*")) if folder.is_dir() else []
        if not plugins:
            return CheckResult(PRINTING, False, f"le module d'impression CUPS est absent de {folder}. {REINSTALL}")
        loader = QPluginLoader(str(plugins[0]))
        if not loader.load():
            return CheckResult(PRINTING, False, f"le module d'impression CUPS ne se charge pas "
                                                f"({loader.errorString()}) : installez la bibliothèque libcups2.")
    QPrinter()  # what « Imprimer… » builds first
    names = QPrinterInfo.availablePrinterNames()
    default = QPrinterInfo.defaultPrinterName()
    if not names:
        found = "aucune imprimante n'est installée sur cet ordinateur pour l'instant"
    else:
        found = f"{len(names)} imprimante{'s' if len(names) > 1 else ''}" + (
            f", par défaut : {default}" if default else "")
    return CheckResult(PRINTING, True, f"impression disponible ; {found}.")


def check_translations() -> CheckResult:
    """qtbase_fr.qm: without it, Qt's own dialogs (fichiers, impression, boutons) speak English."""
    from PySide6.QtCore import QLibraryInfo, QTranslator

    from ui.translations import CATALOGUE, FRENCH, SUPPLEMENT, SUPPLEMENT_FOLDER

    for name, folder in ((CATALOGUE, QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
                         (SUPPLEMENT, str(SUPPLEMENT_FOLDER))):  # ui/i18n: the words qtbase_fr.qm leaves in English
        if not QTranslator().load(FRENCH, name, "_", folder):
            return CheckResult(TRANSLATIONS, False, f"{name}_fr.qm introuvable dans {folder} : des boîtes de "
                                                    f"dialogue de Qt seront en anglais. {REINSTALL}")
    return CheckResult(TRANSLATIONS, True, f"{CATALOGUE}_fr.qm et {SUPPLEMENT}_fr.qm chargés : les boîtes de "
                                           "dialogue de Qt sont en français.")


def qt_checks(pdf: bytes | None) -> list[CheckResult]:
    return [
        guarded(PREVIEW, f"l'aperçu des PDF affichera « aperçu indisponible ». {REINSTALL}",
                lambda: check_preview(pdf)),
        guarded(PRINTING, f"l'impression n'est pas disponible. {REINSTALL}", check_printing),
        guarded(TRANSLATIONS, REINSTALL, check_translations),
    ]
