<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<!-- Qt's own words that its French catalogue (qtbase_fr.qm) leaves in English. Compiled by
     `.venv/bin/pyside6-lrelease ui/i18n/parcours_qt_fr.ts` into parcours_qt_fr.qm (committed beside it),
     loaded by ui/translations.py after qtbase_fr.qm. -->
<TS version="2.1" language="fr_FR">
<context>
    <name>QFileDialog</name>
    <message>
        <source>&amp;Look in:</source>
        <translation>&amp;Regarder dans :</translation>
    </message>
    <message>
        <source>Files of &amp;type:</source>
        <translation>&amp;Type de fichier :</translation>
    </message>
    <message>
        <source>Directories:</source>
        <translation>Dossiers :</translation>
    </message>
</context>
<context>
    <name>QPrintSettingsOutput</name>
    <message>
        <source>Page &amp;Set:</source>
        <translation>&amp;Pages à imprimer :</translation>
    </message>
</context>
</TS>
