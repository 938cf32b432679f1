"""The writers of parties: customers and suppliers, their contacts and addresses, payment terms.

Each service checks `parties.change`, validates everything before writing (so a refusal leaves
nothing behind), writes an audit row on the party (so the party's timeline shows its contacts
and addresses too) and, for parties, an outbox event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from retaguarda.common.errors import Conflict, NotFound, ValidationFailed
from retaguarda.common.taxids import TaxIdInvalid, tax_id_validate
from retaguarda.core.choices import Country, Language
from retaguarda.core.permissions import Actor, require
from retaguarda.core.services import audit_record, changed, event_emit, snapshot

from .choices import AddressKind, PartyKind
from .models import Address, Contact, Party, PaymentTerm
from .postal import AddressInvalid, postal_code_normalize, state_normalize

PARTY_FIELDS = (
    "legal_name",
    "trade_name",
    "kind",
    "is_customer",
    "is_supplier",
    "tax_country",
    "tax_id",
    "email",
    "phone",
    "language",
    "payment_term_id",
    "credit_limit",
    "notes",
    "is_active",
)
PARTY_EDITABLE = frozenset(PARTY_FIELDS)
CONTACT_FIELDS = ("name", "role", "email", "phone")
ADDRESS_FIELDS = (
    "kind",
    "street",
    "number",
    "complement",
    "district",
    "city",
    "state",
    "postal_code",
    "country",
    "is_default",
)
TEXT_FIELDS = frozenset(
    {
        "legal_name",
        "trade_name",
        "tax_id",
        "email",
        "phone",
        "notes",
        "name",
        "role",
        "street",
        "number",
        "complement",
        "district",
        "city",
        "state",
        "postal_code",
    }
)
# Money fields hold scaled integers: keep credit limits far below the 64-bit range.
CREDIT_LIMIT_MAX = Decimal("9999999999999.99")
MAX_ID = 2**63 - 1


class FieldErrors:
    """Collects field errors so one refusal reports every bad field at once."""

    def __init__(self, prefix: str = ""):
        self.fields: dict[str, list[str]] = {}
        self.prefix = prefix

    def add(self, field: str, message) -> None:
        self.fields.setdefault(f"{self.prefix}{field}", []).append(str(message))

    def merge(self, other: FieldErrors) -> None:
        for field, messages in other.fields.items():
            self.fields.setdefault(field, []).extend(messages)

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(_("Some fields are not valid."), fields=self.fields)


def _text(errors: FieldErrors, field: str, value, *, multiline: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return ""
    allowed = "\n\r\t" if multiline else ""
    if any((ord(c) < 32 and c not in allowed) or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in value):
        errors.add(field, _("Remove the control characters from this text."))
        return ""
    return value.strip() if not multiline else value.strip("\n\r\t ")


def _model_clean(errors: FieldErrors, obj, exclude: Iterable[str]) -> None:
    """Run the model's own field validators (lengths, choices, e-mail) without uniqueness."""
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        for field, messages in exc.message_dict.items():
            if f"{errors.prefix}{field}" not in errors.fields:
                for message in messages:
                    errors.add(field, message)


def _valid_id(value) -> int | None:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


def _party_locked(actor: Actor, party_id) -> Party:
    pk = _valid_id(party_id)
    party = Party.objects.select_for_update().filter(company=actor.company, pk=pk).first() if pk is not None else None
    if party is None:
        raise NotFound(_("No such customer or supplier."))
    return party


def _money(errors: FieldErrors, field: str, value) -> Decimal:
    if value is None or value == "":
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        errors.add(field, _("Enter a number."))
        return Decimal("0.00")
    if isinstance(value, bool) or not amount.is_finite():
        errors.add(field, _("Enter a number."))
        return Decimal("0.00")
    if amount < 0:
        errors.add(field, _("The credit limit cannot be negative."))
    elif amount > CREDIT_LIMIT_MAX:
        errors.add(field, _("The credit limit is too large."))
    elif amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("Use at most 2 decimal places."))
    else:
        return amount.quantize(Decimal("0.01"))
    return Decimal("0.00")


def party_apply(errors: FieldErrors, actor: Actor, party: Party, data: Mapping) -> None:
    """Apply `data` to `party` and validate the result as a whole, collecting errors."""
    for field, value in data.items():
        if field in TEXT_FIELDS:
            value = _text(errors, field, value, multiline=field == "notes")
        elif field in ("is_customer", "is_supplier", "is_active"):
            if not isinstance(value, bool):
                errors.add(field, _("Choose yes or no."))
                continue
        elif field == "credit_limit":
            value = _money(errors, field, value)
        elif field == "payment_term_id":
            if value in (None, ""):
                value = None
            else:
                pk = _valid_id(value)
                if pk is None or not PaymentTerm.objects.filter(company=actor.company, pk=pk).exists():
                    errors.add("payment_term_id", _("Choose one of this company's payment terms."))
                    continue
                value = pk
        elif field in ("kind", "tax_country", "language"):
            value = value.strip() if isinstance(value, str) else ""
            value = value.upper() if field == "tax_country" else value.lower()
        setattr(party, field, value)
    if not party.language:
        party.language = actor.company.default_language
    if party.kind not in PartyKind.values:
        errors.add("kind", _("Choose person or company."))
    if party.tax_country not in Country.values:
        errors.add("tax_country", _("Choose a country."))
    if party.language not in Language.values:
        errors.add("language", _("Choose English, Português (Brasil) or Español."))
    if not party.legal_name and "legal_name" not in errors.fields:
        errors.add("legal_name", _("Enter the legal name."))
    if not (party.is_customer or party.is_supplier):
        errors.add("is_customer", _("A party is a customer, a supplier or both."))
    if party.tax_id and "tax_id" not in errors.fields and "kind" not in errors.fields:
        if "tax_country" not in errors.fields:
            try:
                party.tax_id = tax_id_validate(country=party.tax_country, number=party.tax_id, kind=party.kind).number
            except TaxIdInvalid as exc:
                errors.add("tax_id", exc.message)
    _model_clean(errors, party, exclude=["company", "payment_term", "credit_limit"])


def _duplicate_tax_id_refuse(actor: Actor, party: Party) -> None:
    if not (party.is_active and party.tax_id):
        return
    other = (
        Party.objects.filter(company=actor.company, tax_country=party.tax_country, tax_id=party.tax_id, is_active=True)
        .exclude(pk=party.pk)
        .first()
    )
    if other is not None:
        _duplicate_raise(other)


def _duplicate_raise(other: Party | None) -> None:
    if other is None:
        message = _("Another active customer or supplier already has this tax id.")
    else:
        message = _("%(name)s already has this tax id.") % {"name": other.display_name}
    raise Conflict(message, code="duplicate_tax_id", fields={"tax_id": [message]})


def _party_save(actor: Actor, party: Party, **kwargs) -> None:
    _duplicate_tax_id_refuse(actor, party)
    try:
        with transaction.atomic():
            party.save(**kwargs)
    except IntegrityError:
        # Another writer took the tax id between our check and our write.
        _duplicate_raise(None)


def party_payload(party: Party) -> dict:
    """What outbox events (and so webhooks) carry about a party."""
    return {
        "id": party.pk,
        "legal_name": party.legal_name,
        "trade_name": party.trade_name,
        "kind": party.kind,
        "is_customer": party.is_customer,
        "is_supplier": party.is_supplier,
        "tax_country": party.tax_country,
        "tax_id": party.tax_id,
        "email": party.email,
        "is_active": party.is_active,
    }


@transaction.atomic
def party_create(
    *,
    actor: Actor,
    legal_name: str,
    tax_country: str,
    kind: str = PartyKind.COMPANY,
    tax_id: str = "",
    trade_name: str = "",
    is_customer: bool = True,
    is_supplier: bool = False,
    email: str = "",
    phone: str = "",
    language: str = "",
    payment_term_id: int | None = None,
    credit_limit: Decimal | str | int = Decimal("0"),
    notes: str = "",
    contacts: Iterable[Mapping] = (),
    addresses: Iterable[Mapping] = (),
) -> Party:
    """Create a customer and/or supplier, with optional contacts and addresses, in one go."""
    require(actor, "parties.change")
    party = Party(company=actor.company)
    data = {
        "legal_name": legal_name,
        "trade_name": trade_name,
        "kind": kind,
        "is_customer": is_customer,
        "is_supplier": is_supplier,
        "tax_country": tax_country,
        "tax_id": tax_id,
        "email": email,
        "phone": phone,
        "language": language,
        "payment_term_id": payment_term_id,
        "credit_limit": credit_limit,
        "notes": notes,
    }
    errors = FieldErrors()
    party_apply(errors, actor, party, data)
    contact_rows = []
    for index, row in enumerate(contacts or ()):
        contact = Contact(company=actor.company)
        row_errors = FieldErrors(prefix=f"contacts.{index}.")
        _contact_apply(row_errors, contact, row, partial=False)
        errors.merge(row_errors)
        contact_rows.append(contact)
    address_rows = []
    for index, row in enumerate(addresses or ()):
        address = Address(company=actor.company)
        row_errors = FieldErrors(prefix=f"addresses.{index}.")
        address_apply(row_errors, address, row, partial=False)
        errors.merge(row_errors)
        address_rows.append(address)
    errors.raise_if_any()
    _party_save(actor, party)
    audit_record(actor=actor, company=actor.company, obj=party, action="party.create", after=_party_snapshot(party))
    for contact in contact_rows:
        contact.party = party
        contact.save()
        _audit_child(actor, party, "party.contact.add", after=_contact_snapshot(contact))
    for address in address_rows:
        requested_default = address.is_default
        address.party = party
        address.is_default = False
        address.save()
        _address_default_settle(party, address.kind, prefer=address if requested_default else None)
        address.refresh_from_db(fields=["is_default"])
        _audit_child(actor, party, "party.address.add", after=_address_snapshot(address))
    event_emit(company=actor.company, name="party.created", obj=party, payload=party_payload(party))
    return party


def _party_snapshot(party: Party) -> dict:
    return snapshot(party, PARTY_FIELDS)


@transaction.atomic
def party_update(*, actor: Actor, party_id: int, **changes) -> Party:
    """Change some of a party's fields (those given); no change writes nothing."""
    require(actor, "parties.change")
    unknown = sorted(set(changes) - PARTY_EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("Unknown fields."), fields={name: [_("This field cannot be changed.")] for name in unknown}
        )
    party = _party_locked(actor, party_id)
    before = _party_snapshot(party)
    errors = FieldErrors()
    party_apply(errors, actor, party, changes)
    errors.raise_if_any()
    after = _party_snapshot(party)
    old, new = changed(before, after)
    if not new:
        return party
    _party_save(actor, party)
    action = "party.update"
    if set(new) == {"is_active"}:
        action = "party.archive" if not party.is_active else "party.restore"
    audit_record(actor=actor, company=actor.company, obj=party, action=action, before=old, after=new)
    event_emit(
        company=actor.company,
        name="party.updated",
        obj=party,
        payload={**party_payload(party), "changed": sorted(new)},
    )
    return party


def party_archive(*, actor: Actor, party_id: int) -> Party:
    """Archive a party: it leaves the lists and frees its tax id, its history stays."""
    return party_update(actor=actor, party_id=party_id, is_active=False)


def party_restore(*, actor: Actor, party_id: int) -> Party:
    """Bring an archived party back, unless another active party took its tax id meanwhile."""
    return party_update(actor=actor, party_id=party_id, is_active=True)


def _audit_child(actor: Actor, party: Party, action: str, *, before=None, after=None) -> None:
    audit_record(actor=actor, company=actor.company, obj=party, action=action, before=before, after=after)


def _party_touched(actor: Actor, party: Party, what: str) -> None:
    party.save(update_fields=["updated_at"])
    event_emit(
        company=actor.company,
        name="party.updated",
        obj=party,
        payload={**party_payload(party), "changed": [what]},
    )


# Contacts


def _contact_snapshot(contact: Contact) -> dict:
    return {"contact_id": contact.pk, **snapshot(contact, CONTACT_FIELDS)}


def _contact_apply(errors: FieldErrors, contact: Contact, data: Mapping, *, partial: bool) -> None:
    if not isinstance(data, Mapping):
        errors.add("__all__", _("A contact is a set of fields."))
        return
    for field in set(data) - set(CONTACT_FIELDS):
        errors.add(field, _("Unknown field."))
    for field in CONTACT_FIELDS:
        if partial and field not in data:
            continue
        setattr(contact, field, _text(errors, field, data.get(field)))
    if not contact.name and f"{errors.prefix}name" not in errors.fields:
        errors.add("name", _("Enter the contact's name."))
    _model_clean(errors, contact, exclude=["company", "party"])


def _contact_locked(actor: Actor, party: Party, contact_id) -> Contact:
    pk = _valid_id(contact_id)
    contact = Contact.objects.filter(company=actor.company, party=party, pk=pk).first() if pk else None
    if contact is None:
        raise NotFound(_("No such contact."))
    return contact


@transaction.atomic
def party_contact_add(
    *, actor: Actor, party_id: int, name: str, role: str = "", email: str = "", phone: str = ""
) -> Contact:
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    contact = Contact(company=actor.company, party=party)
    errors = FieldErrors()
    _contact_apply(errors, contact, {"name": name, "role": role, "email": email, "phone": phone}, partial=False)
    errors.raise_if_any()
    contact.save()
    _audit_child(actor, party, "party.contact.add", after=_contact_snapshot(contact))
    _party_touched(actor, party, "contacts")
    return contact


@transaction.atomic
def party_contact_update(*, actor: Actor, party_id: int, contact_id: int, **changes) -> Contact:
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    contact = _contact_locked(actor, party, contact_id)
    before = _contact_snapshot(contact)
    errors = FieldErrors()
    _contact_apply(errors, contact, changes, partial=True)
    errors.raise_if_any()
    old, new = changed(before, _contact_snapshot(contact))
    if not new:
        return contact
    contact.save()
    _audit_child(actor, party, "party.contact.update", before={"contact_id": contact.pk, **old}, after=new)
    _party_touched(actor, party, "contacts")
    return contact


@transaction.atomic
def party_contact_remove(*, actor: Actor, party_id: int, contact_id: int) -> None:
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    contact = _contact_locked(actor, party, contact_id)
    before = _contact_snapshot(contact)
    contact.delete()
    _audit_child(actor, party, "party.contact.remove", before=before)
    _party_touched(actor, party, "contacts")


# Addresses


def _address_snapshot(address: Address) -> dict:
    return {"address_id": address.pk, **snapshot(address, ADDRESS_FIELDS)}


def address_apply(errors: FieldErrors, address: Address, data: Mapping, *, partial: bool) -> None:
    if not isinstance(data, Mapping):
        errors.add("__all__", _("An address is a set of fields."))
        return
    for field in set(data) - set(ADDRESS_FIELDS):
        errors.add(field, _("Unknown field."))
    for field in ADDRESS_FIELDS:
        if partial and field not in data:
            continue
        value = data.get(field)
        if field == "is_default":
            if not isinstance(value, bool | None):
                errors.add(field, _("Choose yes or no."))
                continue
            value = bool(value)
        elif field in ("kind", "country"):
            value = value.strip() if isinstance(value, str) else ""
            value = value.upper() if field == "country" else value.lower()
        else:
            value = _text(errors, field, value)
        setattr(address, field, value)
    if address.kind not in AddressKind.values:
        errors.add("kind", _("Choose billing or shipping."))
    if address.country not in Country.values:
        errors.add("country", _("Choose a country."))
    for field, message in (("street", _("Enter the street.")), ("city", _("Enter the city."))):
        if not getattr(address, field) and f"{errors.prefix}{field}" not in errors.fields:
            errors.add(field, message)
    if "country" not in errors.fields and f"{errors.prefix}country" not in errors.fields:
        for field, normalize in (("postal_code", postal_code_normalize), ("state", state_normalize)):
            try:
                setattr(address, field, normalize(address.country, getattr(address, field)))
            except AddressInvalid as exc:
                errors.add(field, exc.message)
    _model_clean(errors, address, exclude=["company", "party"])


def _address_default_settle(
    party: Party, kind: str, *, prefer: Address | None = None, avoid: Address | None = None
) -> None:
    """Keep exactly one default address per kind when the party has any of that kind.

    `prefer` becomes the default; otherwise the current default stays, or the oldest address
    of the kind other than `avoid` is promoted (`avoid` itself when it is the only one).
    Clears before it sets, so the unique constraint never trips.
    """
    addresses = Address.objects.filter(party=party, kind=kind)
    if prefer is not None:
        addresses.filter(is_default=True).exclude(pk=prefer.pk).update(is_default=False)
        addresses.filter(pk=prefer.pk).update(is_default=True)
        return
    if not addresses.filter(is_default=True).exists():
        candidates = addresses.order_by("pk").values_list("pk", flat=True)
        first = (candidates.exclude(pk=avoid.pk) if avoid is not None else candidates).first() or candidates.first()
        if first is not None:
            addresses.filter(pk=first).update(is_default=True)


def _address_locked(actor: Actor, party: Party, address_id) -> Address:
    pk = _valid_id(address_id)
    address = Address.objects.filter(company=actor.company, party=party, pk=pk).first() if pk else None
    if address is None:
        raise NotFound(_("No such address."))
    return address


@transaction.atomic
def party_address_add(
    *,
    actor: Actor,
    party_id: int,
    kind: str,
    street: str,
    city: str,
    country: str,
    number: str = "",
    complement: str = "",
    district: str = "",
    state: str = "",
    postal_code: str = "",
    is_default: bool = False,
) -> Address:
    """Add an address; the first of its kind, or one marked default, becomes the default."""
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    address = Address(company=actor.company, party=party)
    errors = FieldErrors()
    data = {
        "kind": kind,
        "street": street,
        "number": number,
        "complement": complement,
        "district": district,
        "city": city,
        "state": state,
        "postal_code": postal_code,
        "country": country,
        "is_default": is_default,
    }
    address_apply(errors, address, data, partial=False)
    errors.raise_if_any()
    address.is_default = False
    address.save()
    _address_default_settle(party, address.kind, prefer=address if is_default else None)
    address.refresh_from_db(fields=["is_default"])
    _audit_child(actor, party, "party.address.add", after=_address_snapshot(address))
    _party_touched(actor, party, "addresses")
    return address


@transaction.atomic
def party_address_update(*, actor: Actor, party_id: int, address_id: int, **changes) -> Address:
    """Change an address; un-marking the default promotes another address of its kind, if any."""
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    address = _address_locked(actor, party, address_id)
    before = _address_snapshot(address)
    old_kind, was_default = address.kind, address.is_default
    errors = FieldErrors()
    address_apply(errors, address, changes, partial=True)
    errors.raise_if_any()
    wants_default = address.is_default
    address.is_default = False
    address.save()
    if wants_default:
        _address_default_settle(party, address.kind, prefer=address)
    else:
        _address_default_settle(party, address.kind, avoid=address)
    if old_kind != address.kind or (was_default and not wants_default):
        _address_default_settle(party, old_kind)
    address.refresh_from_db(fields=["is_default"])
    old, new = changed(before, _address_snapshot(address))
    if not new:
        return address
    _audit_child(actor, party, "party.address.update", before={"address_id": address.pk, **old}, after=new)
    _party_touched(actor, party, "addresses")
    return address


@transaction.atomic
def party_address_remove(*, actor: Actor, party_id: int, address_id: int) -> None:
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    address = _address_locked(actor, party, address_id)
    before = _address_snapshot(address)
    address.delete()
    _address_default_settle(party, before["kind"])
    _audit_child(actor, party, "party.address.remove", before=before)
    _party_touched(actor, party, "addresses")


# Payment terms


def _payment_term_validate(actor: Actor, term: PaymentTerm, name, days) -> None:
    errors = FieldErrors()
    term.name = _text(errors, "name", name)
    if not term.name:
        errors.add("name", _("Enter a name."))
    if isinstance(days, bool) or not isinstance(days, int | str):
        errors.add("days", _("Enter a whole number of days."))
    else:
        try:
            term.days = int(days)
        except ValueError:
            errors.add("days", _("Enter a whole number of days."))
        else:
            if not 0 <= term.days <= 3650:
                errors.add("days", _("Enter between 0 and 3650 days."))
    _model_clean(errors, term, exclude=["company"])
    if "name" not in errors.fields:
        # Compared in Python: SQLite folds the case of ASCII letters only ("À vista").
        names = PaymentTerm.objects.filter(company=actor.company).exclude(pk=term.pk).values_list("name", flat=True)
        if term.name.casefold() in {name.casefold() for name in names}:
            errors.add("name", _("A payment term with this name already exists."))
    errors.raise_if_any()


@transaction.atomic
def payment_term_create(*, actor: Actor, name: str, days: int) -> PaymentTerm:
    require(actor, "parties.change")
    term = PaymentTerm(company=actor.company)
    _payment_term_validate(actor, term, name, days)
    term.save()
    audit_record(
        actor=actor,
        company=actor.company,
        obj=term,
        action="payment_term.create",
        after=snapshot(term, ("name", "days")),
    )
    return term


@transaction.atomic
def payment_term_update(*, actor: Actor, payment_term_id: int, name: str, days: int) -> PaymentTerm:
    require(actor, "parties.change")
    pk = _valid_id(payment_term_id)
    term = PaymentTerm.objects.select_for_update().filter(company=actor.company, pk=pk).first() if pk else None
    if term is None:
        raise NotFound(_("No such payment term."))
    before = snapshot(term, ("name", "days"))
    _payment_term_validate(actor, term, name, days)
    old, new = changed(before, snapshot(term, ("name", "days")))
    if new:
        term.save()
        audit_record(actor=actor, company=actor.company, obj=term, action="payment_term.update", before=old, after=new)
    return term


@transaction.atomic
def payment_term_remove(*, actor: Actor, payment_term_id: int) -> None:
    """Delete a payment term no party uses (used ones stay, for the parties' history)."""
    require(actor, "parties.change")
    pk = _valid_id(payment_term_id)
    term = PaymentTerm.objects.select_for_update().filter(company=actor.company, pk=pk).first() if pk else None
    if term is None:
        raise NotFound(_("No such payment term."))
    if Party.objects.filter(payment_term=term).exists():
        raise Conflict(_("Customers or suppliers use this payment term: it cannot be removed."), code="in_use")
    before = snapshot(term, ("name", "days"))
    audit_record(actor=actor, company=actor.company, obj=term, action="payment_term.remove", before=before)
    term.delete()


@transaction.atomic
def payment_terms_ensure_defaults(*, actor: Actor) -> list[PaymentTerm]:
    """Give a company without payment terms the usual ones, named in its own language."""
    require(actor, "parties.change")
    if PaymentTerm.objects.filter(company=actor.company).exists():
        return list(PaymentTerm.objects.filter(company=actor.company))
    with translation.override(actor.company.default_language):
        defaults = [(_("Immediate"), 0), (_("30 days"), 30), (_("60 days"), 60)]
    return [payment_term_create(actor=actor, name=name, days=days) for name, days in defaults]


@transaction.atomic
def party_block(*, actor: Actor, party_id: int, reason: str) -> Party:
    """Refuse new orders for this customer, saying why (credit, collections); blank unblocks."""
    require(actor, "parties.change")
    party = _party_locked(actor, party_id)
    errors = FieldErrors()
    reason = _text(errors, "blocked_reason", reason)
    if len(reason) > 200:
        errors.add("blocked_reason", _("Use at most %(count)s characters.") % {"count": 200})
    errors.raise_if_any()
    if reason == party.blocked_reason:
        return party
    before = {"blocked_reason": party.blocked_reason}
    party.blocked_reason = reason
    party.save(update_fields=["blocked_reason", "updated_at"])
    action = "party.block" if reason else "party.unblock"
    audit_record(
        actor=actor, company=actor.company, obj=party, action=action, before=before, after={"blocked_reason": reason}
    )
    event_emit(company=actor.company, name="party.updated", obj=party, payload=party_payload(party))
    return party
