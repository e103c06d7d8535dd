"""The status bar's word on the sync, for each state of a connected copy; nothing on a standalone copy."""
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from services.sync.client import SyncStatus
from ui.sync_status import SyncStatusLabel, status_parts

NOW = datetime(2026, 3, 18, 16, 30, tzinfo=timezone.utc)
SYNCED_AT = NOW.replace(hour=13, minute=2)
UNREACHABLE = ("Serveur injoignable : connexion impossible (serveur arrêté, adresse erronée ou réseau absent) ; vos 3 "
               "modifications restent en attente sur ce poste.")


def status(**changes) -> SyncStatus:
    values = dict(connected=True, server="https://serveur.pre:8443", pending=0, refused=0, open_conflicts=0,
                  last_sync=SYNCED_AT, last_error=None)
    values.update(changes)
    return SyncStatus(**values)


def shown(label_status: SyncStatus, syncing: bool = False) -> str:
    state, links = status_parts(label_status, syncing, NOW)
    return " · ".join([state, *links])


def local_hour(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def test_a_synced_copy_says_when_in_local_time():
    assert shown(status()) == f"Synchronisé à {local_hour(SYNCED_AT)}"


def test_a_copy_synced_another_day_says_the_day_too():
    earlier = SYNCED_AT - timedelta(days=2)
    assert shown(status(last_sync=earlier)) == \
        f"Synchronisé le {earlier.astimezone().strftime('%d/%m')} à {local_hour(earlier)}"


def test_an_unreachable_server_says_offline_with_the_pending_changes():
    assert shown(status(pending=3, last_error=UNREACHABLE)) == "Hors ligne — 3 modifications en attente"
    assert shown(status(pending=1, last_error=UNREACHABLE)) == "Hors ligne — 1 modification en attente"


def test_a_sync_under_way_says_so():
    assert shown(status(pending=2, last_error=UNREACHABLE), syncing=True) == "Synchronisation…"


def test_conflicts_and_refusals_are_counted_after_the_state():
    assert shown(status(open_conflicts=2, refused=1)) == (
        f"Synchronisé à {local_hour(SYNCED_AT)} · 2 conflits à résoudre · 1 modification refusée à corriger")
    assert shown(status(open_conflicts=1)).endswith("· 1 conflit à résoudre")


def test_changes_made_since_the_last_sync_are_said():
    assert shown(status(pending=4)) == f"Synchronisé à {local_hour(SYNCED_AT)} — 4 modifications en attente"
    assert shown(status(last_sync=None)) == "Pas encore synchronisé"


def test_another_refusal_of_the_server_is_a_short_state_with_its_reason_in_the_tooltip(qtbot):
    label = SyncStatusLabel(now=lambda: NOW)
    qtbot.addWidget(label)
    label.set_status(status(last_error="Le serveur a refusé la demande (code 403)."))
    assert label.plain_text() == "Synchronisation impossible"
    assert "code 403" in label.toolTip() and "F9" in label.toolTip()


def test_a_standalone_copy_shows_nothing(qtbot):
    label = SyncStatusLabel(now=lambda: NOW)
    qtbot.addWidget(label)
    label.set_status(SyncStatus(False, None, 0, 0, 0, None, None))
    assert label.isHidden() and label.text() == "" and label.plain_text() == ""


def test_the_conflicts_are_a_link_to_their_page(qtbot):
    label = SyncStatusLabel(now=lambda: NOW)
    qtbot.addWidget(label)
    label.set_status(status(open_conflicts=2))
    assert not label.isHidden()
    assert '<a href="conflicts">2 conflits à résoudre</a>' in label.text()
    assert label.textFormat() == Qt.TextFormat.RichText
    with qtbot.waitSignal(label.conflicts_requested, timeout=1000):
        label.linkActivated.emit("conflicts")


def test_the_label_follows_the_runner_while_syncing(qtbot):
    label = SyncStatusLabel(now=lambda: NOW)
    qtbot.addWidget(label)
    label.set_status(status(pending=3, last_error=UNREACHABLE))
    label.set_syncing(True)
    assert label.plain_text() == "Synchronisation…"
    label.set_syncing(False)
    assert label.plain_text() == "Hors ligne — 3 modifications en attente"
