"""The programme's QPV (quartiers prioritaires de la politique de la ville), kept by the administration: one name a
line. The family form offers them in its « Nom du QPV » field (ui.family_forms), which still takes any other name."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import QWidget

from services.directory import CurrentUser
from services.programme_settings import qpv_names, save_qpv_names
from ui.background import run_in_background
from ui.form_dialog import Field, FormDialog, open_form

INTRO = ("Les quartiers prioritaires de la politique de la ville du programme, un par ligne : le dossier d'une "
         "famille les propose dans « Nom du QPV », le bilan annuel compte les familles par quartier.")


def qpv_form(parent: QWidget, uow_factory, user: CurrentUser, names: Sequence[str],
             then: Callable[[Any], None]) -> FormDialog:
    """The dialog on the list `names` as read; saving replaces the list (blank lines and repeats dropped)."""
    return open_form(parent, "Quartiers prioritaires (QPV)", [Field("qpv_names", "Quartiers", "multiline",
                                                                     "\n".join(names))],
                     lambda v: save_qpv_names(uow_factory(), user, v["qpv_names"].splitlines()), then, intro=INTRO)


def open_qpv_dialog(parent: QWidget, uow_factory, user: CurrentUser,
                    then: Callable[[Any], None] = lambda _names: None) -> None:
    """Read the list off the GUI thread, then open the dialog on it."""
    run_in_background(parent, lambda: qpv_names(uow_factory(), user),
                      lambda names: qpv_form(parent, uow_factory, user, names, then))
