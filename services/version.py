"""The version of Parcours, from one place: `VERSION` here (pyproject.toml states the same; tests/test_packaging.py
checks they agree). Shown by `--version`, « Aide › À propos » and `selfcheck`, stamped on the installers."""
from __future__ import annotations

import sys
from importlib import metadata

VERSION = "0.1.0"


def parcours_version() -> str:
    """The installed distribution's version when there is one (pip install), else VERSION (a frozen bundle or a
    checkout run without installing)."""
    if getattr(sys, "frozen", False):
        return VERSION  # the bundle carries no dist-info for parcours: VERSION is what it was built from
    try:
        return metadata.version("parcours")
    except metadata.PackageNotFoundError:
        return VERSION
