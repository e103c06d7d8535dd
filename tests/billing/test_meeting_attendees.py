"""« Adom 01 s'engage à mettre à disposition 2 ou 3 professionnels » (shared/seeds/000): the partner is paid for its
own professionals. Another partner's intervenant at a meeting of the convention is not billed to it, and is flagged."""
from decimal import Decimal

from services.billing import get_statement
from services.dataset import import_dataset
from services.permissions import SYSTEM
from tests.billing.builders import dataset, meeting


def test_another_partners_intervenant_at_a_launch_meeting_is_flagged_not_billed(uow):
    data = dataset()
    data["partners"].append({"key": "pep", "name": "Les PEP de l'Ain"})
    data["intervenants"].append({"key": "P1", "partner": "pep", "name": "Inès Garnier", "qualification": "AES"})
    meeting(data, "M-launch", "launch", "2025-01-14", ["A1", "P1"])
    import_dataset(uow(), data)
    january = get_statement(uow(), SYSTEM, "AP", "2025-01")
    assert [(l.kind, l.qualification, l.quantity, l.amount) for l in january.lines] == [
        ("launch_meeting", "AES", 1, Decimal("30.00"))]  # Nadia Benali of Adom 01 only
    assert [(f.kind, f.meeting, f.intervenant, f.billed) for f in january.flags] == [
        ("not_partner_intervenant", "M-launch", "P1", False)]
