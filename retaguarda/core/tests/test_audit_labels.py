"""Readable audit actions and values in timelines."""

from django.utils import translation

from retaguarda.core.audit_labels import action_label, value_text


def test_actions_are_named_by_their_verb_or_their_own_name():
    assert action_label("salesorder.confirm") == "Confirmed"
    assert action_label("shipment.parcel_add") == "Parcel added"
    assert action_label("stock.allocate") == "Stock reserved"
    assert action_label("party.contact.add") == "Contact added"
    assert action_label("something.unknown") == "something.unknown"
    with translation.override("pt-br"):
        assert action_label("salesorder.confirm") == "Confirmado"
    with translation.override("es"):
        assert action_label("stock.allocate") == "Existencias reservadas"


def test_values_read_in_one_line():
    lines = [{"sku": "MUG", "quantity": "3.000"}, {"sku": "TEA", "quantity": "2.000"}]
    assert value_text(lines) == "MUG 3.000; TEA 2.000"
    assert value_text(None) == "—"
    assert value_text("confirmed") == "confirmed"
