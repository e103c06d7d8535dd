"""A file that could not be read or written, said in French and naming the file — never an English strerror.

    describe_os_error(exc, path=None, action=None) -> str   « Le fichier « … » est introuvable. », …
    describe_json_error(exc, path=None) -> str              « Le fichier « … » n'est pas un JSON valide (ligne L,
                                                            colonne C) : valeur attendue. »
    FileFault(DomainError)                                  raised by `file_faults(path, action)` around a read or
                                                            a write, so that callers show it like any refusal

`action` is READ or WRITE (what the user asked for); None when it is not known (an OSError that escaped to the
window's last-resort handler): the sentence then says « utiliser ». `path` defaults to the exception's own
filename; pass the file the user chose, since the error of a write through a temporary file names the temporary.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from services.errors import DomainError

READ, WRITE = "read", "write"

# Why a read or write failed, in French, for the errors that have no sentence of their own below.
_REASONS = {
    errno.EIO: "erreur d'entrée-sortie sur le disque ou la clé",
    errno.EBUSY: "le fichier est occupé par un autre programme",
    errno.ETXTBSY: "le fichier est occupé par un autre programme",
    errno.EAGAIN: "le fichier est momentanément indisponible",
    errno.EEXIST: "un fichier de ce nom existe déjà",
    errno.ENAMETOOLONG: "le nom du fichier est trop long",
    errno.EINVAL: "le nom du fichier n'est pas accepté par le système",
    errno.ELOOP: "trop de liens symboliques dans le chemin",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENFILE: "trop de fichiers ouverts",
    errno.EFBIG: "le fichier est trop gros pour cet emplacement",
    errno.ENODEV: "le périphérique est absent",
    errno.ENXIO: "le périphérique est absent",
    errno.ENOTEMPTY: "le dossier n'est pas vide",
    errno.EXDEV: "le déplacement entre deux disques n'est pas possible",
    errno.ETIMEDOUT: "le disque réseau ne répond pas",
    errno.ESTALE: "le disque réseau a été déconnecté",
    errno.ENOMEM: "mémoire insuffisante",
}
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_RIGHT = {errno.EACCES, errno.EPERM}


class FileFault(DomainError):
    """A file the user named could not be read or written; `message` names it, in French."""


def _verb(action: str | None) -> tuple[str, str]:
    """(infinitive, past participle) for the sentence."""
    if action == READ:
        return "lire", "lu"
    if action == WRITE:
        return "écrire", "écrit"
    return "utiliser", "utilisé"


def os_reason(exc: OSError) -> str:
    """The French reason of an OS error (never the system's English text)."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    if exc.errno is not None:
        return f"erreur du système {errno.errorcode.get(exc.errno, exc.errno)}"
    return "cause inconnue, voir le journal"


def describe_os_error(exc: OSError, path: str | os.PathLike | None = None, action: str | None = None) -> str:
    """One French sentence naming the file and what went wrong."""
    target = Path(path) if path is not None else (Path(os.fsdecode(exc.filename)) if exc.filename else None)
    name = f"« {target} »" if target is not None else "le fichier"
    infinitive, participle = _verb(action)
    code = exc.errno
    if code == errno.ENOENT:
        if action == WRITE and target is not None:
            return f"Le dossier « {target.parent} » est introuvable : « {target.name} » n'a pas pu y être écrit."
        return f"Le fichier {name} est introuvable."
    if code in _NO_RIGHT:
        de = "d'" if infinitive[0] in "éu" else "de "
        return (f"Parcours n'a pas le droit {de}{infinitive} {name}"
                + (" : choisissez un autre dossier." if action == WRITE else "."))
    if code in _DISK_FULL:
        return f"Le disque est plein : {name} n'a pas pu être {participle}. Libérez de la place ou choisissez un autre emplacement."
    if code == errno.EROFS:
        return f"L'emplacement de {name} est en lecture seule : choisissez un autre dossier."
    if code == errno.EISDIR:
        return f"{name[0].upper()}{name[1:]} est un dossier, pas un fichier : indiquez un nom de fichier."
    if code == errno.ENOTDIR:
        return f"Le chemin {name} passe par un fichier là où un dossier est attendu."
    return f"Le fichier {name} n'a pas pu être {participle} ({os_reason(exc)})."


# The messages of Python's json decoder, in French (json.JSONDecodeError.msg).
_JSON_MESSAGES = {
    "Expecting value": "une valeur est attendue",
    "Expecting property name enclosed in double quotes": "un nom de rubrique entre guillemets droits est attendu",
    "Expecting ',' delimiter": "une virgule est attendue",
    "Expecting ':' delimiter": "un deux-points est attendu",
    "Unterminated string starting at": "un texte entre guillemets n'est pas refermé",
    "Invalid control character at": "caractère de contrôle interdit dans un texte",
    "Invalid \\escape": "séquence d'échappement non valide",
    "Invalid \\uXXXX escape": "séquence \\u non valide",
    "Extra data": "des données suivent la fin du JSON",
    "Illegal trailing comma before end of object": "virgule en trop avant la fin d'un objet",
    "Illegal trailing comma before end of array": "virgule en trop avant la fin d'une liste",
}


def describe_json_error(exc: json.JSONDecodeError, path: str | os.PathLike | None = None) -> str:
    name = f"« {Path(path)} »" if path is not None else ""
    where = f"ligne {exc.lineno}, colonne {exc.colno}"
    what = _JSON_MESSAGES.get(exc.msg)
    return f"Le fichier {name + ' ' if name else ''}n'est pas un JSON valide ({where}){f' : {what}' if what else ''}."


@contextmanager
def file_faults(path: str | os.PathLike, action: str) -> Iterator[None]:
    """Turn an OSError inside the block into a FileFault naming `path`."""
    try:
        yield
    except OSError as exc:
        raise FileFault(describe_os_error(exc, path, action), field="path") from exc


def write_all_atomically(outputs: list[tuple[str | os.PathLike, bytes]]) -> None:
    """Several files, all or none: each is first written in full to a temporary file beside it (where a full or
    read-only disk fails), then all are renamed into place. A failure removes the temporaries and the files this
    call already put in place, so that a JSON is never left without the PDF that was asked with it.
    Raises FileFault naming the file at fault."""
    staged: list[tuple[Path, str]] = []
    placed: list[Path] = []
    try:
        for target, data in outputs:
            target = Path(target)
            with file_faults(target, WRITE):
                staged.append((target, _staged_copy(target, data)))
        for target, tmp in staged:
            with file_faults(target, WRITE):
                existed = target.exists()
                os.replace(tmp, target)
            if not existed:
                placed.append(target)
    except BaseException:
        for _target, tmp in staged:
            with suppress(OSError):
                os.unlink(tmp)
        for target in placed:
            with suppress(OSError):
                os.unlink(target)
        raise


def _staged_copy(target: Path, data: bytes | Iterable[bytes]) -> str:
    """`data` (or its chunks, written as they come: an export is never whole in memory) in a new temporary file next
    to `target`, flushed to the disk; its name. Removed on failure, the chunks' own failure included."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                out.writelines(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomically(target: str | os.PathLike, data: bytes | Iterable[bytes]) -> None:
    """Write through a temporary file next to `target`, flushed to the disk, then rename: a reader never sees half
    a file, a failure leaves no debris. The file is readable by its owner only (exports hold personal data).
    Raises FileFault naming `target`."""
    target = Path(target)
    with file_faults(target, WRITE):
        tmp = _staged_copy(target, data)
        try:
            os.replace(tmp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
