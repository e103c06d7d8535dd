#!/usr/bin/env bash
# The screenshots as a user sees them: the real window on a virtual 1280×800 X screen (Xvfb), not offscreen.
# Needs Debian's xvfb (apt-get install -y xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
env -u QT_QPA_PLATFORM DISPLAY="$display" QT_QPA_PLATFORM=xcb .venv/bin/python tools/screenshots.py "$@"
