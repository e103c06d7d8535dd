"""How the window tells the user that something went wrong: a domain refusal in plain French, or a calm
dialog for the unexpected (the detail goes to the log file, never a traceback on screen).

Public API (used by every page, including ui/admin):
    show_domain_error(parent, error, title=...)   -> QMessageBox   a DomainError's French message
    show_unexpected_error(parent, exc=None, logged=False)
                                                  -> QMessageBox   logs exc with its traceback (unless `logged`),
                                                                   then a calm dialog: a fault that can be named
                                                                   (database locked, full, read-only or damaged;
                                                                   file missing, forbidden, disk full…) is said in
                                                                   French, anything else is « inattendue »
    show_error(parent, exc)                       -> QMessageBox   dispatches on the exception's type
    install_excepthook()                          -> callable      sys.excepthook that never crashes; returns
                                                                   a function restoring the previous hook
    log_location()                                -> str | None    the log file the root logger writes to
Dialogs are window-modal and non-blocking (`open()`), so a background callback never blocks the event loop.
"""
from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from services.errors import DomainError
from services.file_faults import describe_os_error
from services.store_faults import describe_store_fault

log = logging.getLogger("parcours.ui")

UNEXPECTED_TITLE = "Une erreur inattendue est survenue"
FAULT_TITLE = "L'opération n'a pas pu aboutir"
REFUSED_TITLE = "Action impossible"


def log_location() -> str | None:
    """The file the root logger writes to (configured by main.py), to tell the user where the detail is."""
    for handler in logging.getLogger().handlers:
        filename = getattr(handler, "baseFilename", None)
        if filename:
            return filename
    return None


def _open_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str,
              detail: str | None = None) -> QMessageBox:
    parent = parent if parent is not None else QApplication.activeWindow()
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if detail:
        box.setInformativeText(detail)
    box.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
    if parent is None:  # nothing would keep the box alive: let the application own it until it closes
        app = QApplication.instance()
        pending = app.property("parcoursOpenDialogs") or []
        app.setProperty("parcoursOpenDialogs", [*pending, box])
        box.finished.connect(lambda _r: app.setProperty(
            "parcoursOpenDialogs", [b for b in (app.property("parcoursOpenDialogs") or []) if b is not box]))
    box.open()
    return box


def show_domain_error(parent: QWidget | None, error: DomainError, title: str = REFUSED_TITLE) -> QMessageBox:
    """A business rule refused the request: its message is written for the user, show it as is."""
    return _open_box(parent, QMessageBox.Icon.Warning, title, error.message)


def named_fault(exc: BaseException | None) -> str | None:
    """The French sentence for a fault that can be named (the database or a file), else None."""
    if exc is None:
        return None
    named = describe_store_fault(exc)
    if named is None and isinstance(exc, OSError):
        named = describe_os_error(exc)
    return named


def show_unexpected_error(parent: QWidget | None, exc: BaseException | None = None, *,
                          logged: bool = False) -> QMessageBox:
    """Log the exception with its traceback (unless `logged`: the caller already did), then show a calm French
    dialog that says where the detail is — and what happened, when the fault can be named."""
    if exc is not None and not logged:
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    where = log_location()
    detail = (f"Le détail a été enregistré dans le journal :\n{where}" if where
              else "Le détail a été enregistré dans le journal de l'application.")
    named = named_fault(exc)
    if named is not None:
        return _open_box(parent, QMessageBox.Icon.Warning, FAULT_TITLE, named, detail)
    return _open_box(parent, QMessageBox.Icon.Critical, UNEXPECTED_TITLE,
                     "L'opération n'a pas pu aboutir. Vos données déjà enregistrées ne sont pas touchées ; "
                     "vous pouvez réessayer ou continuer votre travail.", detail)


def show_error(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    if isinstance(exc, DomainError):
        return show_domain_error(parent, exc)
    return show_unexpected_error(parent, exc)


def install_excepthook() -> Callable[[], None]:
    """Route every uncaught exception to the log and, on the GUI thread, to a calm dialog. Never a crash."""
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous_hook(exc_type, exc, tb)
            return
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        app = QApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            return  # off the GUI thread: logged only, no widget may be touched here
        try:
            if isinstance(exc, DomainError):
                show_domain_error(None, exc)
            else:
                show_unexpected_error(None, exc, logged=True)  # a named fault is said as such
        except Exception:  # the dialog itself failed: the log is all we can do
            log.exception("could not show the error dialog")

    def thread_hook(args) -> None:
        log.error("uncaught exception in a thread", exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = hook
    threading.excepthook = thread_hook

    def restore() -> None:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook

    return restore
