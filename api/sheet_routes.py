"""POST /api/sheets/import: a team's spreadsheet (XLSX, ODS, CSV) into Parcours, as the import-sheet verb does.

The body is {"file_name": "equipe.xlsx", "content": <the file in base64>, "sheet": …, "header_row": 2,
"mapping": <a mapping file's object (format parcours-columns/…)>, "keep_unmapped_as_notes": false,
"dry_run": true}. The file is read from a private temporary folder (services.sheet_import reads files, by their
suffix) and deleted at once. The answer is the service's report, with its French text and the mapping to keep
for next year's sheet: 201 when something was written, 200 for a dry run (or nothing new), 422
`sheet_refused` with the report when a row is refused or a coded column's value is not mapped — then nothing is
written.
"""
from __future__ import annotations

import base64
import binascii
import json
import tempfile
from pathlib import Path, PurePosixPath

from services.errors import InvalidFields
from services.sheet_import import ColumnMapping, SheetOptions, import_sheet, read_sheet
from starlette.responses import Response

from api.endpoints import Call, Endpoint
from api.json_io import dumps, read_fields, to_json

SHEET_REFUSED = ("Import refusé, rien n'a été enregistré : le rapport donne chaque ligne refusée et pourquoi, et "
                 "les valeurs à faire correspondre dans « mapping ».")
NOT_BASE64 = "Le champ « content » doit être le fichier encodé en base64."
BAD_NAME = "Le champ « file_name » doit être le nom du fichier (par exemple equipe.xlsx), sans dossier."


def _file_name(raw: str) -> str:
    name = PurePosixPath(raw.replace("\\", "/")).name  # the name only: the file is written in our folder
    if name in ("", ".", "..") or "\x00" in name:
        raise InvalidFields({"file_name": BAD_NAME})
    return name


def _content(raw: str) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFields({"content": NOT_BASE64}) from None


def _mapping(raw) -> ColumnMapping | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidFields({"mapping": "Le champ « mapping » doit être l'objet d'un fichier de correspondance."})
    return ColumnMapping.from_json(json.dumps(raw))  # its own checks and French messages (ImportRejected)


def _answer(payload, status: int) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _import_sheet(call: Call) -> Response:
    given = read_fields(call.body, {"file_name": "text", "content": "text", "sheet": "text", "header_row": "integer",
                                    "keep_unmapped_as_notes": "boolean", "dry_run": "boolean"},
                        required=("file_name", "content"))
    name, content = _file_name(given["file_name"]), _content(given["content"])
    if given["header_row"] is not None and given["header_row"] < 1:
        raise InvalidFields({"header_row": "Le champ « header_row » est un numéro de ligne (1, 2…)."})
    mapping = _mapping(call.body.get("mapping"))
    with tempfile.TemporaryDirectory(prefix="parcours-sheet-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        grid = read_sheet(path, given["sheet"] or (mapping.sheet if mapping else None))
    options = SheetOptions(given["header_row"], mapping, bool(given["keep_unmapped_as_notes"]))
    report = import_sheet(call.uow(), call.user, grid, options, today=call.today, dry_run=bool(given["dry_run"]))
    payload = {**to_json(report), "text": report.text(),
               "mapping": json.loads(report.mapping.to_json()) if report.columns else None}
    if report.blocked:  # a row refused, or a value of a coded column that the mapping does not give
        return _answer({"code": "sheet_refused", "message": SHEET_REFUSED, "field": None, "report": payload}, 422)
    return _answer(payload, 201 if report.written else 200)


SHEET_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/api/sheets/import", import_sheet, "sheet.import", _import_sheet, status=201, body=True),
)
