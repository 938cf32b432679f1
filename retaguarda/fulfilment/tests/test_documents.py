"""The delivery note: in the customer's language (dates by babel), with the company, order,
address, lines, parcels and carrier; printed to a PDF."""

from babel.dates import format_date
from django.utils import timezone

from retaguarda.core.choices import Role
from retaguarda.core.testing import actor_build
from retaguarda.fulfilment.documents import delivery_note_html, delivery_note_pdf
from retaguarda.fulfilment.selectors import shipment_get
from retaguarda.fulfilment.testing import binned_product, bins_build, shipped_build
from retaguarda.inventory.testing import warehouse_build
from retaguarda.parties.testing import party_build
from retaguarda.sales.testing import order_build


def _shipped_to(company, customer):
    warehouse = warehouse_build(company, code="SP")
    bins = bins_build(company, warehouse, ["A-01"])
    product = binned_product(company, warehouse=warehouse, stock={bins["A-01"]: 5}, sku="CANECA", name="Caneca azul")
    order = order_build(
        company,
        warehouse=warehouse,
        customer=customer,
        lines=[(product, 2)],
        ship_to={
            "name": "Ana Souza",
            "street": "Rua das Flores",
            "number": "120",
            "district": "Centro",
            "city": "São Paulo",
            "state": "SP",
            "postal_code": "01001-000",
            "country": "BR",
        },
    )
    (shipment,) = shipped_build(company, warehouse=warehouse, carrier="Correios")
    return order, shipment


def test_delivery_note_html_is_in_the_customers_language(company_br):
    customer = party_build(company_br, legal_name="Padaria Central Ltda", language="pt-br")
    order, shipment = _shipped_to(company_br, customer)
    actor = actor_build(company_br, Role.WAREHOUSE)
    html = delivery_note_html(shipment_get(actor, shipment.pk))
    assert '<html lang="pt-br">' in html
    shipped_on = timezone.localtime(shipment.shipped_at).date()
    assert format_date(shipped_on, format="long", locale="pt_BR") in html
    assert " de " in format_date(shipped_on, format="long", locale="pt_BR")
    for text in (
        company_br.legal_name,
        company_br.tax_id,
        shipment.number,
        order.number,
        "Ana Souza",
        "Rua das Flores 120",
        "01001-000 São Paulo",
        "CANECA",
        "Caneca azul",
        "Correios",
        f"TRK{shipment.pk}",
    ):
        assert text in html, text
    # Quantities and weights in the Brazilian way: decimal comma.
    assert "1,000" in html  # the 1 kg parcel of shipped_build


def test_delivery_note_for_an_english_customer_uses_english_dates(company):
    customer = party_build(company, legal_name="Corner Shop Ltd", language="en")
    _order, shipment = _shipped_to(company, customer)
    html = delivery_note_html(shipment_get(actor_build(company, Role.WAREHOUSE), shipment.pk))
    assert '<html lang="en">' in html
    shipped_on = timezone.localtime(shipment.shipped_at).date()
    assert format_date(shipped_on, format="long", locale="en_US") in html


def test_delivery_note_pdf_is_a_pdf(company_br):
    customer = party_build(company_br, language="pt-br")
    _order, shipment = _shipped_to(company_br, customer)
    name, pdf = delivery_note_pdf(actor=actor_build(company_br, Role.SALES), shipment_id=shipment.pk)
    assert name == f"delivery-note-{shipment.number}.pdf"
    assert pdf.startswith(b"%PDF")
