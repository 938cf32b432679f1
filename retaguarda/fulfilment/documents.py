"""The delivery note of a shipment: HTML in the customer's language, printed to PDF by weasyprint."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from retaguarda.core.choices import Language
from retaguarda.core.permissions import Actor

from .selectors import shipment_get


def delivery_note_language(shipment) -> str:
    """The customer's language, else the company's."""
    language = shipment.order.customer.language or shipment.company.default_language
    return language if language in Language.values else "en"


def delivery_note_html(shipment) -> str:
    """The note as HTML, rendered in the customer's language (dates and numbers too)."""
    order = shipment.order
    company = shipment.company
    address = [
        " ".join(p for p in (order.ship_to_street, order.ship_to_number) if p),
        order.ship_to_complement,
        order.ship_to_district,
        " ".join(p for p in (order.ship_to_postal_code, order.ship_to_city) if p),
        order.ship_to_state,
    ]
    language = delivery_note_language(shipment)
    with translation.override(language):
        country = order.get_ship_to_country_display() if order.ship_to_country else ""
        return render_to_string(
            "fulfilment/delivery_note.html",
            {
                "language": language,
                "company": company,
                "shipment": shipment,
                "order": order,
                "recipient": order.ship_to_name or order.customer.legal_name,
                "address": [line for line in [*address, country] if line],
                "lines": shipment.prefetched_lines,
                "parcels": shipment.prefetched_parcels,
                "date": timezone.localtime(shipment.shipped_at or shipment.created_at).date(),
            },
        )


def delivery_note_pdf(*, actor: Actor, shipment_id) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a shipment's delivery note; needs `fulfilment.view`."""
    import weasyprint  # loaded on demand: Pango and fonts cost time at start-up

    shipment = shipment_get(actor, shipment_id)
    html = delivery_note_html(shipment)
    return f"delivery-note-{shipment.number}.pdf", weasyprint.HTML(string=html).write_pdf()
