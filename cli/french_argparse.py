"""argparse in French: « utilisation : », « -h, --help  afficher cette aide et quitter » and French errors.

    FrenchArgumentParser(...)        an argparse.ArgumentParser; its sub-commands are FrenchArgumentParsers too
    translate_error(message) -> str  argparse's English error message, in French

argparse writes its messages through gettext, with no French catalogue. Rather than patch `argparse._` for the
whole process, the parser says its own words where argparse would: the usage prefix (the help formatter), the
section titles and the -h option (the constructor), and the error messages (`error`, which receives argparse's
finished English sentence and translates it by its template). Errors still end the process with exit code 2.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

USAGE = "utilisation : "
HELP = "afficher cette aide et quitter"
TYPE_NAMES = {"int": "un nombre entier", "float": "un nombre", "FileType": "un fichier"}


def _argument_value(match: re.Match) -> str:
    expected = TYPE_NAMES.get(match["type"], match["type"])
    return f"valeur non valide : {match['value']} ({expected} est attendu)"


# (template of argparse's English message, French). Python 3.11's argparse; later versions use the same words.
_TEMPLATES: list[tuple[str, object]] = [
    (r"argument (?P<argument>.+?): (?P<message>.+)",
     lambda m: f"argument {m['argument']} : {translate_error(m['message'])}"),
    (r"the following arguments are required: (?P<names>.+)", "arguments obligatoires manquants : {names}"),
    (r"one of the arguments (?P<names>.+) is required", "l'un des arguments {names} est obligatoire"),
    (r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)",
     "choix non valide : {value} (choix possibles : {choices})"),
    (r"unknown parser (?P<value>.+?) \(choices: (?P<choices>.+)\)",
     "commande inconnue : {value} (choix possibles : {choices})"),
    (r"unrecognized arguments: (?P<names>.+)", "arguments non reconnus : {names}"),
    (r"expected one argument", "une valeur est attendue"),
    (r"expected at most one argument", "une valeur au plus est attendue"),
    (r"expected at least one argument", "au moins une valeur est attendue"),
    (r"expected (?P<n>\d+) arguments?", "{n} valeur(s) attendue(s)"),
    (r"invalid (?P<type>\S+) value: (?P<value>.+)", _argument_value),
    (r"not allowed with argument (?P<names>.+)", "incompatible avec l'argument {names}"),
    (r"ignored explicit argument (?P<value>.+)", "valeur non attendue : {value}"),
    (r"ambiguous option: (?P<option>.+?) could match (?P<matches>.+)",
     "option ambiguë : {option} peut désigner {matches}"),
    (r"unexpected option string: (?P<option>.+)", "option inattendue : {option}"),
    (r"can't open '(?P<file>.+)': .*", "impossible d'ouvrir « {file} »"),
]
_COMPILED = [(re.compile(pattern + r"\Z", re.DOTALL), french) for pattern, french in _TEMPLATES]


def translate_error(message: str) -> str:
    """argparse's English error in French; a message matching none of its templates is ours, already French."""
    for pattern, french in _COMPILED:
        match = pattern.match(message)
        if match:
            return french(match) if callable(french) else french.format(**match.groupdict())
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, USAGE if prefix is None else prefix)


class FrenchArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args, add_help: bool = True, formatter_class=FrenchHelpFormatter, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=formatter_class, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_error(message)}\n")
