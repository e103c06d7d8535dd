#!/bin/sh
# Puts Parcours in this user's application menu, from the folder this script sits in (the extracted tarball):
# the menu entry and the icon go to ~/.local/share. Run it again after moving the folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps" "$data/icons/hicolor/scalable/apps"
cp "$here/icons/parcours-256.png" "$data/icons/hicolor/256x256/apps/parcours.png"
cp "$here/icons/parcours.svg" "$data/icons/hicolor/scalable/apps/parcours.svg"
sed "s|^Exec=.*|Exec=\"$here/Parcours\"|" "$here/parcours.desktop" > "$data/applications/parcours.desktop"
echo "Parcours est dans le menu des applications (entrée : $data/applications/parcours.desktop)."
