"""How a report's cells read, in French, wherever they are shown (PDF, XLSX, window): counts « 1 234 », hours
and means « 20,4 », money « 1 234,56 € » (a column is money by its header), « < 5 » as it is."""
from __future__ import annotations

from decimal import Decimal

from services.formatting import NBSP, format_money
from services.reports.model import ReportTable, Value

# The CAF annex's money columns (services.reports.caf uses these headers): every other Decimal is hours or a mean.
ISSUED, DRAFTS, BILLED, CAP, MONTH_AMOUNT, RUNNING = ("États émis", "Brouillons", "Total facturé", "Plafond",
                                                      "Montant du mois", "Cumul facturé")
MONEY_HEADERS = frozenset((ISSUED, DRAFTS, BILLED, CAP, MONTH_AMOUNT, RUNNING))


def is_money(table: ReportTable, column: int) -> bool:
    return column < len(table.headers) and table.headers[column] in MONEY_HEADERS


def grouped(units: str) -> str:
    """'1234567' -> '1 234 567' (no-break spaces)."""
    sign, units = ("-", units[1:]) if units.startswith("-") else ("", units)
    groups = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return sign + NBSP.join(groups)


def value_text(value: Value, money: bool = False) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return grouped(str(value))
    if isinstance(value, Decimal):
        if money:
            return format_money(value)
        units, _, decimals = f"{value:f}".partition(".")
        return grouped(units) + (f",{decimals}" if decimals else "")
    return str(value)
