"""Qt's own words in French: the file dialog (« Regarder dans », « Enregistrer »), the print dialog, the standard
buttons of message boxes, the context menu of a text field (« Copier », « Coller »)…

    install_french(app) -> bool   True when Qt's French catalogue is installed on `app` (idempotent)

Called by ui.app.run_app right after the QApplication is made, and by the UI tests. It also makes French the
default locale of every widget (dates of the calendar pop-up, decimal comma), whatever the machine's language.
Qt's own file and print dialogs are then French; where the system's native dialog is shown instead (Windows,
macOS, a desktop portal), it speaks the system's language, which is the user's.
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger("parcours.ui.translations")

FRENCH = QLocale(QLocale.Language.French, QLocale.Country.France)
CATALOGUE = "qtbase"  # widgets, dialogs and print support; qt_fr.qm only points to it and to modules we do not use
SUPPLEMENT = "parcours_qt"  # ui/i18n/parcours_qt_fr.ts: the few words qtbase_fr.qm leaves in English
SUPPLEMENT_FOLDER = Path(__file__).with_name("i18n")
PROPERTY = "parcoursFrenchTranslators"


def install_french(app: QCoreApplication) -> bool:
    QLocale.setDefault(FRENCH)
    if app.property(PROPERTY) is not None:
        return True
    # The last installed is asked first: our few words, then Qt's catalogue.
    installed = [_install(app, CATALOGUE, QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)),
                 _install(app, SUPPLEMENT, str(SUPPLEMENT_FOLDER))]
    if not installed[0]:
        return False
    app.setProperty(PROPERTY, installed)
    return True


def _install(app: QCoreApplication, name: str, folder: str) -> QTranslator | None:
    translator = QTranslator(app)  # owned by the application: it lives as long as the application
    if translator.load(FRENCH, name, "_", folder) and app.installTranslator(translator):
        return translator
    log.warning("Qt translations %s_fr.qm not found in %s: some of Qt's own words stay in English", name, folder)
    translator.deleteLater()
    return None
