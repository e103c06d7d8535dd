"""A FormDialog (ui.form_dialog) that also enters the closed lists of the records (services.record_fields).

Three more kinds of field:
- a closed list is a "choice" Field built by `code_field`: its French labels, « — » for none; its precision (the
  text field named in `others`) is enabled only while « Autre (préciser) » is chosen — what it holds then stays,
  and the service drops it unless « autre » is saved;
- "checks": several codes at once (the reasons for referral), boxes on two columns, the precision enabled while
  « Autre (préciser) » is ticked;
- "suggest": a line that offers names (the programme's QPV) and accepts any other typed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QWidget

from services.record_fields import OTHER, ClosedList
from ui.form_dialog import Field, FormDialog

NONE_LABEL = "—"


def code_field(closed: ClosedList, default: str | None, *, label: str | None = None,
               none_label: str | None = NONE_LABEL) -> Field:
    """A closed list as a combo box of its French labels (`none_label`: the entry for none, None for no such entry)."""
    choices = (((none_label, None),) if none_label is not None else ()) + tuple(
        (closed.labels[code], code) for code in closed.codes)
    return Field(closed.field, label or closed.label, "choice", default, choices)


def checks_field(closed: ClosedList, default: Iterable[str]) -> Field:
    return Field(closed.field, closed.label, "checks", tuple(default),
                 tuple((closed.labels[code], code) for code in closed.codes))


class ChecksBox(QWidget):
    """Check boxes on two columns, one per code; `checked()` in the list's order."""

    def __init__(self, choices, checked: Iterable[str], parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        self.boxes: dict[str, QCheckBox] = {}
        rows = (len(choices) + 1) // 2  # down the first column, then the second
        for position, (label, code) in enumerate(choices):
            box = QCheckBox(label, self)
            box.setObjectName(f"check_{code}")
            box.setChecked(code in set(checked))
            self.boxes[code] = box
            grid.addWidget(box, position % rows, position // rows)

    def checked(self) -> tuple[str, ...]:
        return tuple(code for code, box in self.boxes.items() if box.isChecked())

    def text(self) -> str:  # what FormDialog.values reads of a field it does not know
        return ""

    def setFocus(self, *args) -> None:  # noqa: N802 - Qt's name: the first box takes the focus
        next(iter(self.boxes.values())).setFocus(*args)


class SuggestBox(QComboBox):
    """An editable combo box: names to pick, any other typed."""

    def __init__(self, text: str | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setEditText(text or "")

    def add_suggestions(self, names: Iterable[str]) -> None:
        typed = self.currentText()
        self.addItems([name for name in names if self.findText(name) < 0])
        self.setEditText(typed)  # adding items must not replace what is typed

    def text(self) -> str:
        return self.currentText()

    def selectAll(self) -> None:  # noqa: N802 - as a QLineEdit, for typing over it
        self.lineEdit().selectAll()


class CodedFormDialog(FormDialog):
    """FormDialog with closed lists: `others` maps a code field to its precision field."""

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict], Any], parent: QWidget | None = None,
                 *, others: dict[str, str] | None = None, intro: str | None = None, ok_label: str = "Enregistrer"):
        super().__init__(title, fields, submit, parent, intro=intro, ok_label=ok_label)
        self.others = dict(others or {})
        for code_name, other_name in self.others.items():
            widget = self.inputs[code_name]
            if isinstance(widget, ChecksBox):
                widget.boxes[OTHER].toggled.connect(lambda _on, n=code_name: self._follow(n))
            else:
                widget.currentIndexChanged.connect(lambda _i, n=code_name: self._follow(n))
            self._follow(code_name)

    def _input(self, f: Field) -> QWidget:
        if f.kind == "checks":
            return ChecksBox(f.choices, f.default or (), self)
        if f.kind == "suggest":
            return SuggestBox(f.default, self)
        return super()._input(f)

    def other_chosen(self, code_name: str) -> bool:
        widget = self.inputs[code_name]
        return OTHER in widget.checked() if isinstance(widget, ChecksBox) else widget.currentData() == OTHER

    def _follow(self, code_name: str) -> None:
        precision = self.inputs[self.others[code_name]]
        precision.setEnabled(self.other_chosen(code_name))

    def values(self) -> dict[str, Any]:
        out = super().values()
        for name, widget in self.inputs.items():
            if isinstance(widget, ChecksBox):
                out[name] = widget.checked()
        return out


def open_coded_form(parent: QWidget, title: str, fields: list[Field], submit: Callable[[dict], Any],
                    then: Callable[[Any], None], *, others: dict[str, str] | None = None, intro: str | None = None,
                    ok_label: str = "Enregistrer") -> CodedFormDialog:
    """As ui.form_dialog.open_form, with closed lists."""
    dialog = CodedFormDialog(title, fields, submit, parent, others=others, intro=intro, ok_label=ok_label)
    dialog.submitted.connect(then)
    dialog.open()
    return dialog
