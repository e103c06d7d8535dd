"""The « Aide » menu's dialogs: the keyboard shortcuts (read from the window's own actions and shortcuts, so the
list cannot say what the keys no longer do) and « Premiers pas », a short guide for a team starting out."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout, QWidget)

from ui.widgets import note_label, title_label

# Qt names the keys in English: what a French keyboard reads
KEY_NAMES = {"Esc": "Échap", "Escape": "Échap", "Left": "Gauche", "Right": "Droite", "Up": "Haut", "Down": "Bas",
             "Return": "Entrée", "Enter": "Entrée", "Shift": "Maj", "Del": "Suppr", "Delete": "Suppr",
             "Ins": "Inser", "Backspace": "Retour arrière", "PgUp": "Page préc.", "PgDown": "Page suiv.",
             "Home": "Début", "End": "Fin", "Space": "Espace", "Tab": "Tab"}

# Keys that are not shortcuts of the window but of its lists (every table's « activated »)
LIST_KEYS = (("Entrée ou double-clic", "Ouvrir la ligne choisie (le dossier d'une famille, une séance à modifier)"),)
FAMILIES_KEYS = (("Bas ou Entrée", "Dans la recherche des familles : aller dans la liste"),)
NOT_FOR_ROLE = "not_for_role"  # property of an action the user's role never has (left out of the list)


def key_text(sequence: QKeySequence) -> str:
    """'Alt+Left' -> 'Alt+Gauche', 'Esc' -> 'Échap'; several keys joined by ', '."""
    chords = sequence.toString(QKeySequence.SequenceFormat.PortableText).split(", ")
    return ", ".join("+".join(KEY_NAMES.get(part, part) for part in chord.split("+")) for chord in chords if chord)


def _label(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def window_shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for each action and QShortcut of `window` that has keys, in menu order then the rest.
    Only what is there: an action the role does not have (disabled for good, e.g. « Nouvelle séance » for the
    administration) is left out."""
    seen, rows = set(), []

    def add(action: QAction) -> None:
        if action in seen or not action.shortcuts():
            return
        seen.add(action)
        if action.property(NOT_FOR_ROLE):
            return
        rows.append((" ou ".join(key_text(k) for k in action.shortcuts()), _label(action.text())))

    menubar = window.menuBar() if hasattr(window, "menuBar") else None
    for top in menubar.actions() if menubar is not None else ():
        for action in top.menu().actions() if top.menu() else ():
            add(action)
    for action in window.findChildren(QAction):
        add(action)
    for shortcut in window.findChildren(QShortcut):
        if shortcut.key().isEmpty() or not shortcut.whatsThis():
            continue
        rows.append((key_text(shortcut.key()), shortcut.whatsThis()))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Raccourcis clavier")
        layout = QVBoxLayout(self)
        layout.addWidget(title_label("Raccourcis clavier", self))
        families = any(spec.key == "families" for spec in getattr(window, "specs", ()))
        rows = window_shortcuts(window) + list(LIST_KEYS) + (list(FAMILIES_KEYS) if families else [])
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Touches", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        for r, (keys, what) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table)
        layout.addWidget(note_label("Échap ne ferme jamais la fenêtre : dans une boîte de dialogue, elle annule la "
                                    "boîte ; dans la fenêtre, elle revient en arrière.", self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        width = sum(self.table.columnWidth(c) for c in range(2)) + 60
        self.resize(max(520, min(width, 760)), 200 + 30 * len(rows))

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]


FIRST_STEPS = """
<h3>Premiers pas avec Parcours</h3>
<p>Pour une équipe qui commence : chaque étape se fait une fois, dans cet ordre.</p>
<ol>
<li><b>Les comptes.</b> Le premier compte d'administration est créé au premier lancement. Il crée ensuite les
comptes de l'équipe dans <i>Administration › Utilisateurs</i> : les référent·es de parcours, la coordination et
l'administration, chacun avec son identifiant et un mot de passe à changer ensuite.</li>
<li><b>Les conventions.</b> L'administration ouvre la page <i>Conventions</i> : elle y enregistre le partenaire,
puis la convention (action, période, tarifs, plafond et nombre indicatif de familles).</li>
<li><b>Les intervenant·es.</b> Dans la même page, onglet <i>Intervenants</i> : chaque intervenant·e du partenaire,
avec sa qualification (AES, TISF…), qui fixe le tarif des séances.</li>
<li><b>Les familles.</b> Chaque famille suivie a un dossier : son code, sa commune, son ou sa référent·e, le
consentement recueilli, ses responsables légaux et ses enfants. Les familles se créent dans la page
<i>Familles</i> lorsque votre version propose « Nouvelle famille… », ou s'importent d'un fichier
(<code>parcours import</code>).</li>
<li><b>Les orientations.</b> La coordination prépare l'équipe pluridisciplinaire dans <i>Séances d'EPS</i> :
une séance, les situations étudiées, puis « Proposer une orientation… » vers une convention. L'orientation se
valide (ou se refuse) dans <i>À valider</i> ; le parcours de l'enfant s'ouvre depuis le dossier de la famille,
onglet <i>Enfants et parcours</i>.</li>
<li><b>Les séances.</b> Les référent·es saisissent chaque séance à domicile avec <b>Ctrl+N</b> (ou « Nouvelle
séance » dans le dossier) : date, heure, intervenant·e, durée, présence. Les séances hors règles demandent une
dérogation, approuvée par la coordination dans <i>À valider</i>. <i>Semaine</i> et <i>Toutes les séances</i>
montrent ce qui a été saisi.</li>
<li><b>L'état mensuel.</b> Chaque mois, l'administration ouvre <i>États mensuels</i>, choisit la convention et le
mois, vérifie le récapitulatif et les signalements, puis « Émettre… » : l'état est figé et son PDF enregistré ou
imprimé pour le partenaire.</li>
</ol>
<p>Aide › Raccourcis clavier liste les touches utiles. Les données restent sur cet ordinateur : sauvegardez-les
régulièrement (<code>parcours backup</code>).</p>
"""


class FirstStepsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Premiers pas")
        layout = QVBoxLayout(self)
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(FIRST_STEPS)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 560)

