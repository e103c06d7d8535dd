"""The `parcours-dataset/1` interchange format: import and export."""
from services.dataset.exporter import export_dataset, stream_dataset
from services.dataset.importer import ImportReport, import_dataset, parse_json, read_dataset_file

__all__ = ["ImportReport", "export_dataset", "import_dataset", "parse_json", "read_dataset_file", "stream_dataset"]
