"""The `parcours-dataset/1` interchange format: import and export."""
from services.dataset.exporter import export_dataset
from services.dataset.importer import ImportReport, import_dataset, parse_json

__all__ = ["ImportReport", "export_dataset", "import_dataset", "parse_json"]
