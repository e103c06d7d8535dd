"""Import of a team's spreadsheets (XLSX, ODS, CSV): read (grid), columns mapped (columns), checked, reported and
stored all or nothing (service)."""
from services.sheet_import.columns import Column, ColumnMapping, find_header_row, map_columns
from services.sheet_import.grid import Grid, read_sheet
from services.sheet_import.service import ChildLine, CodedValue, Refusal, SheetImportReport, SheetOptions, import_sheet

__all__ = ["ChildLine", "CodedValue", "Column", "ColumnMapping", "Grid", "Refusal", "SheetImportReport", "SheetOptions",
           "find_header_row", "import_sheet", "map_columns", "read_sheet"]
