"""One-click reports (« Bilans »): the annual bilan of the PRE and the CAF / Département annex, as tables of
labels and counts shown in the window and exported to PDF and XLSX (small counts hidden for funders)."""
from services.reports.model import Report, ReportTable, Value, suppress_small_counts
from services.reports.bilan import bilan_report
from services.reports.caf import caf_report
from services.reports.period import ReportPeriod


# reportlab and openpyxl are loaded on the first export only: the window opens the page without them.
def report_pdf(report: Report) -> bytes:
    from services.reports.pdf import report_pdf as render
    return render(report)


def report_xlsx(report: Report) -> bytes:
    from services.reports.xlsx import report_xlsx as render
    return render(report)


__all__ = ["Report", "ReportPeriod", "ReportTable", "Value", "bilan_report", "caf_report", "report_pdf",
           "report_xlsx", "suppress_small_counts"]
