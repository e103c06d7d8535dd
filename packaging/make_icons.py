"""Renders resources/icons/parcours.svg into the PNG sizes, the Windows .ico and the macOS .icns the packages use.

    .venv/bin/python packaging/make_icons.py

Qt draws the SVG (QtSvg, in PySide6-Essentials) so that every PNG is the same picture; Pillow assembles the .ico
and .icns (no iconutil needed, so it runs on Linux). The outputs are committed: a build does not need to run it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(size: int) -> Path:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(ICONS / "parcours.svg")).render(painter)
    painter.end()
    path = ICONS / f"parcours-{size}.png"
    if not image.save(str(path)):
        raise SystemExit(f"could not write {path}")
    return path


def main() -> int:
    app = QGuiApplication(sys.argv)  # noqa: F841 (QPainter needs one)
    pngs = {size: render(size) for size in SIZES}
    largest = Image.open(pngs[256])
    largest.save(ICONS / "parcours.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    Image.open(pngs[512]).save(ICONS / "parcours.icns")
    print("\n".join(sorted(p.name for p in ICONS.iterdir())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
