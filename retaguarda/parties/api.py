"""Customers and suppliers under /api/v1/parties/: parties, their contacts and addresses, payment terms.

Money travels as decimal strings ("1500.00") in the company's base currency. Tax ids are sent
in any usual form and returned compact (`tax_id`) and formatted (`tax_id_display`). Errors
answer {"error": {"code", "message", "fields"}}: an invalid tax id is a 422 with
fields {"tax_id": [...]}, a tax id already held by another active party a 409.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints, WithJsonSchema

from retaguarda.core.apikit import ERRORS, Pagination
from retaguarda.core.choices import Country, Language

from . import services
from .selectors import party_search, party_with_details, payment_terms_for

router = Router(tags=["parties"])

CountryCode = Literal["BR", "ES", "PT", "FR", "DE", "IT", "NL", "BE", "IE", "AT", "US"]
LanguageCode = Literal["en", "pt-br", "es"]
PartyKindCode = Literal["person", "company"]
AddressKindCode = Literal["billing", "shipping"]
assert set(CountryCode.__args__) == set(Country.values)  # noqa: S101 - keep the schema in step
assert set(LanguageCode.__args__) == set(Language.values)  # noqa: S101

Money = Annotated[
    Decimal,
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "examples": ["1500.00"]}),
]


def _text(max_length: int, *, required: bool = False):
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1 if required else 0, max_length=max_length)
    ]


Name = _text(200, required=True)
ContactName = _text(150, required=True)
Street = _text(200, required=True)
City = _text(100, required=True)
Text16, Text20, Text40, Text64 = _text(16), _text(20), _text(40), _text(64)
Text100, Text200, Text254 = _text(100), _text(200), _text(254)


class ContactIn(Schema):
    name: ContactName
    role: Text100 = ""
    email: Text254 = ""
    phone: Text40 = ""


class ContactPatch(Schema):
    """Only the fields sent are changed."""

    name: ContactName = None
    role: Text100 = None
    email: Text254 = None
    phone: Text40 = None


class ContactOut(Schema):
    id: int
    name: str
    role: str
    email: str
    phone: str


class AddressIn(Schema):
    kind: AddressKindCode
    street: Street
    number: Text20 = ""
    complement: Text100 = ""
    district: Text100 = ""
    city: City
    state: Text100 = Field("", description="Brazil: the state's two-letter code (SP, RJ…).")
    postal_code: Text16 = ""
    country: CountryCode
    is_default: bool = Field(False, description="The first address of a kind is the default anyway.")


class AddressPatch(Schema):
    """Only the fields sent are changed."""

    kind: AddressKindCode = None
    street: Street = None
    number: Text20 = None
    complement: Text100 = None
    district: Text100 = None
    city: City = None
    state: Text100 = None
    postal_code: Text16 = None
    country: CountryCode = None
    is_default: bool = None


class AddressOut(Schema):
    id: int
    kind: str
    street: str
    number: str
    complement: str
    district: str
    city: str
    state: str
    postal_code: str
    country: str
    is_default: bool


class PartyIn(Schema):
    legal_name: Name
    trade_name: Text200 = ""
    kind: PartyKindCode = "company"
    is_customer: bool = True
    is_supplier: bool = False
    tax_country: CountryCode
    tax_id: Text64 = Field(
        "", description="CPF or CNPJ (also alphanumeric) in Brazil, DNI/NIE or CIF in Spain, VAT number in the EU."
    )
    email: Text254 = ""
    phone: Text40 = ""
    language: LanguageCode | None = Field(None, description="Preferred language; the company's when omitted.")
    payment_term_id: int | None = None
    credit_limit: Money = Decimal("0.00")
    notes: str = Field("", max_length=5000)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=50)


class PartyPatch(Schema):
    """Only the fields sent are changed; `is_active: true` restores an archived party."""

    legal_name: Name = None
    trade_name: Text200 = None
    kind: PartyKindCode = None
    is_customer: bool = None
    is_supplier: bool = None
    tax_country: CountryCode = None
    tax_id: Text64 = None
    email: Text254 = None
    phone: Text40 = None
    language: LanguageCode = None
    payment_term_id: int | None = None
    credit_limit: Money = None
    notes: str = Field(None, max_length=5000)
    is_active: bool = None


class PartyOut(Schema):
    id: int
    legal_name: str
    trade_name: str
    kind: str
    is_customer: bool
    is_supplier: bool
    tax_country: str
    tax_id: str = Field(description="Compact: digits and capitals; EU VAT numbers with their country prefix.")
    tax_id_display: str = Field(description="As people write it: 11.222.333/0001-81.")
    email: str
    phone: str
    language: str
    payment_term_id: int | None
    credit_limit: str = Field(description="Decimal string, in `currency`.")
    currency: str
    notes: str
    is_active: bool
    created_at: datetime
    updated_at: datetime
    contacts: list[ContactOut]
    addresses: list[AddressOut]

    @staticmethod
    def resolve_credit_limit(obj) -> str:
        return str(obj.credit_limit)

    @staticmethod
    def resolve_currency(obj, context) -> str:
        return context["request"].actor.company.base_currency

    @staticmethod
    def resolve_contacts(obj) -> list:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_addresses(obj) -> list:
        return list(obj.addresses.all())


class PartyFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Searches legal and trade name, tax id, e-mail, city.")
    is_customer: bool | None = None
    is_supplier: bool | None = None
    active: Literal["yes", "no", "all"] | None = Field(None, description="Default: active parties only.")
    kind: PartyKindCode | None = None
    country: CountryCode | None = Field(None, description="Tax country.")
    sort: str | None = Field(
        None, max_length=20, description="name, tax_id, email, city, credit_limit or created; prefix - to reverse."
    )

    def params(self) -> dict:
        """The same string parameters the list pages read from their query string."""
        params = self.model_dump(exclude_none=True)
        for flag in ("is_customer", "is_supplier"):
            if flag in params:
                params[flag] = "yes" if params[flag] else "no"
        return params


class PaymentTermOut(Schema):
    id: int
    name: str
    days: int


def _party_out(request, party_id):
    return party_with_details(request.actor, party_id)


@router.get("/parties", response={200: list[PartyOut], **ERRORS})
@paginate(Pagination)
def party_list(request, filters: Query[PartyFilters]):
    """Same search, filters and sort as the customer and supplier list pages."""
    return party_search(request.actor, filters.params()).prefetch_related("contacts", "addresses")


@router.post("/parties", response={201: PartyOut, **ERRORS})
def party_post(request, payload: PartyIn):
    data = payload.model_dump()
    party = services.party_create(actor=request.actor, **data)
    return Status(201, _party_out(request, party.pk))


@router.get("/parties/{party_id}", response={200: PartyOut, **ERRORS})
def party_get(request, party_id: int):
    return _party_out(request, party_id)


@router.patch("/parties/{party_id}", response={200: PartyOut, **ERRORS})
def party_patch(request, party_id: int, payload: PartyPatch):
    services.party_update(actor=request.actor, party_id=party_id, **payload.model_dump(exclude_unset=True))
    return _party_out(request, party_id)


@router.delete("/parties/{party_id}", response={204: None, **ERRORS})
def party_delete(request, party_id: int):
    """Archives the party: it leaves the lists and frees its tax id; its history stays."""
    services.party_archive(actor=request.actor, party_id=party_id)
    return Status(204, None)


@router.post("/parties/{party_id}/contacts", response={201: ContactOut, **ERRORS})
def contact_post(request, party_id: int, payload: ContactIn):
    return Status(201, services.party_contact_add(actor=request.actor, party_id=party_id, **payload.model_dump()))


@router.patch("/parties/{party_id}/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def contact_patch(request, party_id: int, contact_id: int, payload: ContactPatch):
    return services.party_contact_update(
        actor=request.actor, party_id=party_id, contact_id=contact_id, **payload.model_dump(exclude_unset=True)
    )


@router.delete("/parties/{party_id}/contacts/{contact_id}", response={204: None, **ERRORS})
def contact_delete(request, party_id: int, contact_id: int):
    services.party_contact_remove(actor=request.actor, party_id=party_id, contact_id=contact_id)
    return Status(204, None)


@router.post("/parties/{party_id}/addresses", response={201: AddressOut, **ERRORS})
def address_post(request, party_id: int, payload: AddressIn):
    return Status(201, services.party_address_add(actor=request.actor, party_id=party_id, **payload.model_dump()))


@router.patch("/parties/{party_id}/addresses/{address_id}", response={200: AddressOut, **ERRORS})
def address_patch(request, party_id: int, address_id: int, payload: AddressPatch):
    return services.party_address_update(
        actor=request.actor, party_id=party_id, address_id=address_id, **payload.model_dump(exclude_unset=True)
    )


@router.delete("/parties/{party_id}/addresses/{address_id}", response={204: None, **ERRORS})
def address_delete(request, party_id: int, address_id: int):
    services.party_address_remove(actor=request.actor, party_id=party_id, address_id=address_id)
    return Status(204, None)


@router.get("/payment-terms", response={200: list[PaymentTermOut], **ERRORS})
@paginate(Pagination)
def payment_term_list(request):
    return payment_terms_for(request.actor)
