"""Monthly billing to the partner association under a convention."""
from services.billing.statement import Statement, to_public_json
from services.billing.statements import (get_closing_statement, get_statement, issue_closing_statement,
                                         issue_statement, issued_pdf, list_issued, list_issued_summaries,
                                         recomputed_lines)

__all__ = ["Statement", "get_closing_statement", "get_statement", "issue_closing_statement", "issue_statement",
           "issued_pdf", "list_issued", "list_issued_summaries", "recomputed_lines", "to_public_json"]
