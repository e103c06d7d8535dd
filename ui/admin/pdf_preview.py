"""The PDF of a statement inside the application: an "Aperçu PDF" view and printing through Qt.

QtPdf ships with PySide6-Addons. An installation with PySide6-Essentials only has no QtPdf: then the preview
shows a short note instead of the document (`pdf_support()` is None) and printing falls back to the system's
PDF viewer (see `StatementsPage.print_statement`). Everything is imported lazily, in a try.
"""
from __future__ import annotations

import logging
from types import SimpleNamespace

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QMargins, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

log = logging.getLogger("parcours.ui.pdf_preview")

MAX_PAGE_WIDTH = 860  # pixels: on a wide screen the page stops growing, more of it fits in the height
MAX_PRINT_DPI = 300  # a page rendered at 1200 dpi would weigh half a gigabyte; 300 dpi prints text sharply

_SUPPORT: SimpleNamespace | None = None
_SUPPORT_CHECKED = False


def pdf_support() -> SimpleNamespace | None:
    """The QtPdf classes (`QPdfDocument`, `QPdfView`), or None when PySide6-Addons is not installed."""
    global _SUPPORT, _SUPPORT_CHECKED
    if not _SUPPORT_CHECKED:
        _SUPPORT_CHECKED = True
        try:
            from PySide6.QtPdf import QPdfDocument
            from PySide6.QtPdfWidgets import QPdfView
        except ImportError:  # Essentials only: the rest of the page works without the preview
            log.info("QtPdf unavailable: no in-app PDF preview, printing through the system viewer")
            _SUPPORT = None
        else:
            _SUPPORT = SimpleNamespace(QPdfDocument=QPdfDocument, QPdfView=QPdfView)
    return _SUPPORT


class PdfNotReadable(Exception):
    """Qt could not read the PDF bytes (never expected: the bytes come from our own renderer)."""


class LoadedPdf:
    """A QPdfDocument read from bytes in memory; keeps the buffer the document reads from alive."""

    def __init__(self, data: bytes, parent=None):
        support = pdf_support()
        if support is None:
            raise PdfNotReadable("QtPdf indisponible")
        self.data = data
        self._bytes = QByteArray(data)
        self._buffer = QBuffer(parent)
        self._buffer.setData(self._bytes)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = support.QPdfDocument(parent)
        self.document.load(self._buffer)
        if self.document.status() != support.QPdfDocument.Status.Ready or self.document.pageCount() < 1:
            error = self.document.error()
            self.close()
            raise PdfNotReadable(f"PDF illisible ({error})")

    def page_count(self) -> int:
        return self.document.pageCount()

    def close(self) -> None:
        self.document.close()
        self.document.deleteLater()
        self._buffer.close()
        self._buffer.deleteLater()


class PdfPreview(QWidget):
    """Shows one PDF, all its pages one under the other, the page fitted to the width of the view."""

    document_loaded = Signal(int)  # the number of pages

    NOTE, VIEW = 0, 1

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pdfPreview")
        self._loaded: LoadedPdf | None = None
        self._parked: LoadedPdf | None = None  # no longer shown, still set on the hidden view
        self.note = QLabel()
        self.note.setObjectName("pdfPreviewNote")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.note)
        self.view = None
        support = pdf_support()
        if support is not None:
            self.view = support.QPdfView(self)
            self.view.setObjectName("pdfView")
            self.view.setPageMode(support.QPdfView.PageMode.MultiPage)
            self.view.setZoomMode(support.QPdfView.ZoomMode.FitToWidth)
            self.view.setPageSpacing(12)
            self.view.viewport().installEventFilter(self)
            self.stack.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.show_note("Aucun état à afficher." if self.available else self.unavailable_text())

    def eventFilter(self, watched, event) -> bool:
        if self.view is not None and watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._limit_page_width(event.size().width())
        return super().eventFilter(watched, event)

    def _limit_page_width(self, width: int) -> None:
        """Fit to width, up to a readable width: wider, the page would be cut in the height of the view."""
        side = max(8, (width - MAX_PAGE_WIDTH) // 2)
        if self.view.documentMargins().left() != side:
            self.view.setDocumentMargins(QMargins(side, 8, side, 8))

    @property
    def available(self) -> bool:
        return self.view is not None

    @staticmethod
    def unavailable_text() -> str:
        return ("L'aperçu du PDF n'est pas disponible sur cette installation (module QtPdf absent).\n"
                "Les tableaux des autres onglets présentent le même état ; « Enregistrer le PDF… » et "
                "« Imprimer… » restent utilisables.")

    def show_note(self, text: str) -> None:
        """Replace the document by a sentence (no statement, computing, unavailable…)."""
        if not self.available:
            text = self.unavailable_text()
        self.note.setText(text)
        self.stack.setCurrentIndex(self.NOTE)
        self._drop()

    def set_pdf(self, data: bytes) -> int:
        """Show these PDF bytes; returns the number of pages (0 when the preview is unavailable)."""
        if not self.available:
            self.show_note("")
            return 0
        loaded = LoadedPdf(data, self)
        previous, self._loaded = (self._loaded or self._parked), loaded
        self._parked = None
        self.view.setDocument(loaded.document)
        if previous is not None:
            previous.close()
        self.stack.setCurrentIndex(self.VIEW)
        self.document_loaded.emit(loaded.page_count())
        return loaded.page_count()

    def document(self):
        """The QPdfDocument on screen, or None."""
        return self._loaded.document if self._loaded else None

    def pdf_bytes(self) -> bytes | None:
        return self._loaded.data if self._loaded else None

    def page_count(self) -> int:
        return self._loaded.page_count() if self._loaded else 0

    def _drop(self) -> None:
        """Forget the document shown; the hidden view keeps it until the next one (a view without document
        warns), so it is closed then."""
        if self._loaded is not None:
            if self._parked is not None:
                self._parked.close()
            self._parked, self._loaded = self._loaded, None


def pages_to_print(printer, page_count: int) -> list[int]:
    """The 0-based pages the user asked for in the print dialog (all of them by default)."""
    from PySide6.QtPrintSupport import QPrinter

    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first = printer.fromPage()
        last = printer.toPage() if printer.toPage() > 0 else page_count
        return [p - 1 for p in range(first, min(last, page_count) + 1)]
    return list(range(page_count))


def print_pdf(data: bytes, printer) -> int:
    """Print the PDF on `printer`, each page rendered as an image fitted to the printable area.

    Returns the number of pages sent. Raises PdfNotReadable when QtPdf is missing or the bytes are no PDF.
    """
    loaded = LoadedPdf(data)
    try:
        document = loaded.document
        pages = pages_to_print(printer, document.pageCount())
        if not pages:
            return 0
        painter = QPainter()
        if not painter.begin(printer):
            raise OSError("l'imprimante n'a pas accepté le travail")
        try:
            dpi = printer.resolution()
            for n, page in enumerate(pages):
                if n:
                    printer.newPage()
                area = QRectF(printer.pageRect(printer.Unit.DevicePixel))
                area.moveTo(0, 0)  # the painter's origin is already the corner of the printable area
                points = document.pagePointSize(page)  # 1/72 inch
                scale = min(area.width() / points.width(), area.height() / points.height())
                target = QRectF(area.x() + (area.width() - points.width() * scale) / 2, area.y(),
                                points.width() * scale, points.height() * scale)
                sharp = min(1.0, MAX_PRINT_DPI / dpi) if dpi > 0 else 1.0
                size = QSize(max(1, round(target.width() * sharp)), max(1, round(target.height() * sharp)))
                image = document.render(page, size)
                if image.hasAlphaChannel():  # transparent where the page is blank: paper is white
                    white = QImage(image.size(), QImage.Format.Format_RGB32)
                    white.fill(Qt.GlobalColor.white)
                    with_background = QPainter(white)
                    with_background.drawImage(0, 0, image)
                    with_background.end()
                    image = white
                painter.drawImage(target, image)
        finally:
            painter.end()
        return len(pages)
    finally:
        loaded.close()
