"""The administrator's pages: monthly statements (`StatementsPage`) and conventions (`ConventionsPage`)."""
