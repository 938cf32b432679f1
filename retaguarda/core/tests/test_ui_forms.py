from django import forms

from retaguarda.common.errors import ValidationFailed
from retaguarda.core.ui.forms import form_add_service_errors


class _Form(forms.Form):
    name = forms.CharField(required=False)
    payment_term = forms.CharField(required=False)


def _bound():
    form = _Form({})
    assert form.is_valid()
    return form


def test_field_errors_go_on_their_fields_and_unknown_keys_on_top():
    form = _bound()
    form_add_service_errors(form, ValidationFailed("Refused.", fields={"name": ["Bad name."], "other": ["Bad other."]}))
    assert form.errors == {"name": ["Bad name."], "__all__": ["Bad other."]}


def test_field_for_maps_service_keys_to_form_fields():
    form = _bound()
    exc = ValidationFailed("Refused.", fields={"payment_term_id": ["No such term."]})
    form_add_service_errors(form, exc, field_for=lambda key: key.removesuffix("_id"))
    assert form.errors == {"payment_term": ["No such term."]}


def test_the_message_shows_when_no_field_error_was_placed():
    form = _bound()
    form_add_service_errors(form, ValidationFailed("Refused as a whole."))
    assert form.errors == {"__all__": ["Refused as a whole."]}
