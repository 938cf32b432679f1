"""Load a demo company (a believable online store in Brazil or Spain) through the areas' own code.

Nothing here writes a row itself: the company, users, units, tax categories, payment terms,
contacts and price list go through the services a user's action would call (company_create,
user_create, party_contact_add, price_list_item_set…), and the catalogue and the customer and
supplier lists through the areas' CSV imports, as a store moving to retaguarda would bring
them. So the demo holds only data those areas accept (valid tax ids, barcodes, postal codes),
with its audit rows and events. The imports write in bulk, which keeps a load to seconds;
creating 740 products and parties one service call at a time took several times longer.

The data is decided by seeded generators (`demo_plan`), the same on every machine, and the
whole load is one transaction: it happens completely or not at all. Loading a country whose
demo company exists does nothing.
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import translation

from retaguarda.catalog.imports import product_columns, product_import
from retaguarda.catalog.models import Product
from retaguarda.catalog.services import (
    DEFAULT_UNITS,
    price_list_create,
    price_list_item_set,
    tax_category_create,
    uom_create,
)
from retaguarda.common import tabular
from retaguarda.common.taxids import tax_id_compact
from retaguarda.core.choices import Area, Role
from retaguarda.core.models import Company, Membership, User
from retaguarda.core.permissions import system_actor
from retaguarda.core.services import company_create, company_update, user_create
from retaguarda.parties.choices import AddressKind, PartyKind
from retaguarda.parties.imports import ADDRESS_PARTS, party_columns, party_import
from retaguarda.parties.models import Party
from retaguarda.parties.services import party_contact_add, payment_term_create

from . import numbers
from .books import books_load
from .data import (
    COUNTRIES,
    CUSTOMER_COUNT,
    DEMO_PASSWORD,
    PARTNER_AREAS,
    SHARED_ADMIN,
    SUPPLIER_COUNT,
    City,
    CountryDemo,
    Staff,
)
from .operations import backdate, operations_load
from .products import LANGUAGES, ProductSpec, product_specs

# Tax categories per country: (code, name, the product tax keys of retaguarda.demo.products it covers).
# Codes follow the catalog's defaults (standard, reduced, super-reduced, exempt) where they mean the same.
TAX_CATEGORIES = {
    "BR": (
        ("standard", "Tributada pelo Simples Nacional (CSOSN 102)", ("goods", "food")),
        ("icms-st", "ICMS cobrado por substituição tributária (CSOSN 500)", ("goods_st",)),
        ("exempt", "Imune – livros (CSOSN 300)", ("book",)),
        ("service", "Serviço – ISS", ("service",)),
    ),
    "ES": (
        ("standard", "IVA general (21 %)", ("goods", "goods_st", "service")),
        ("reduced", "IVA reducido (10 %)", ("food",)),
        ("super-reduced", "IVA superreducido (4 %)", ("book",)),
        ("exempt", "Exento de IVA", ()),
    ),
}

# The wholesale price list: this share of the goods, at this discount, and a deeper tier from 10 units.
PRICE_LIST_SHARE = 3  # every third product
PRICE_LIST_DISCOUNT = Decimal("0.15")
PRICE_LIST_TIER_QUANTITY = Decimal(10)
PRICE_LIST_TIER_DISCOUNT = Decimal("0.22")

EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


class UnknownCountry(ValueError):
    pass


@dataclass
class DemoResult:
    country: str
    company: Company
    created: bool
    staff: list[Staff]
    counts: dict[str, int] = field(default_factory=dict)


def demo_spec(country: str) -> CountryDemo:
    try:
        return COUNTRIES[(country or "").upper()]
    except KeyError:
        raise UnknownCountry(f"no demo for country {country!r}; choose one of {', '.join(sorted(COUNTRIES))}")


def demo_company_tax_id(country: str) -> str:
    """The demo company's tax id (compact), the same on every machine."""
    rng = random.Random(f"retaguarda-demo-company-{country}")
    if country == "BR":
        return numbers.cnpj_make(rng).replace(".", "").replace("/", "").replace("-", "")
    return numbers.cif_make(rng, letter="B", province="46")


def demo_company(country: str) -> Company | None:
    spec = demo_spec(country)
    return Company.objects.filter(country=spec.country, tax_id=demo_company_tax_id(spec.country)).first()


def demo_logins() -> list[tuple[CountryDemo, Company, list[Staff]]]:
    """The demo companies present in the database and their logins (for `retaguarda run`)."""
    found = []
    for country in sorted(COUNTRIES, key=lambda c: c != "BR"):
        company = demo_company(country)
        if company is not None:
            found.append((COUNTRIES[country], company, COUNTRIES[country].staff()))
    return found


def demo_logins_text(staff: list[Staff], company: Company) -> str:
    """The logins of one demo company, one per line (printed by `demo` and `run`)."""
    lines = [f"  {company.trade_name or company.legal_name} ({company.country}), password for all: {DEMO_PASSWORD}"]
    for member in staff:
        role = str(Role(member.role).label)
        if member.role == Role.PARTNER:
            role += f" ({', '.join(str(Area(area).label).lower() for area in PARTNER_AREAS)})"
        lines.append(f"    {member.username:<14} {role}")
    if SHARED_ADMIN not in {member.username for member in staff}:
        lines.append(f"    {SHARED_ADMIN:<14} Administrator (of every demo company)")
    return "\n".join(lines)


@dataclass
class DemoPlan:
    """Everything a demo load writes, decided by the seeds alone: the same on every machine.

    Products and parties are dicts named like the arguments of product_create and party_create
    (they become the rows of the import files), except that parties name their payment term by
    its days (`payment_term_days`) and price list items their product by SKU, since ids exist
    only once written.
    """

    spec: CountryDemo
    company_tax_id: str
    products: list[dict]
    price_list_items: list[tuple[str, Decimal, Decimal]]  # (sku, min_quantity, unit_price)
    suppliers: list[dict]
    customers: list[dict]


def demo_plan(country: str) -> DemoPlan:
    """The demo of `country`, as data (no database access)."""
    spec = demo_spec(country)
    company_tax_id = demo_company_tax_id(spec.country)
    products = _products_plan(spec)
    rng = random.Random(f"retaguarda-demo-{spec.country}")
    used_tax_ids = {company_tax_id}
    return DemoPlan(
        spec=spec,
        company_tax_id=company_tax_id,
        products=products,
        price_list_items=_price_list_plan(products),
        suppliers=_suppliers_plan(spec, rng, used_tax_ids),
        customers=_customers_plan(spec, rng, used_tax_ids),
    )


@transaction.atomic
def demo_load(*, country: str) -> DemoResult:
    """Create the demo company of `country` ("BR" or "ES") with its staff, catalogue and parties.

    Returns created=False, writing nothing, when that demo company already exists. Raises
    DemoRefused if an area refuses the demo data (a bug in the demo: nothing is written).
    """
    spec = demo_spec(country)
    existing = demo_company(spec.country)
    if existing is not None:
        return DemoResult(country=spec.country, company=existing, created=False, staff=spec.staff())
    plan = demo_plan(spec.country)
    company = company_create(
        legal_name=spec.legal_name,
        trade_name=spec.trade_name,
        tax_id=plan.company_tax_id,
        country=spec.country,
        base_currency=spec.currency,
        default_language=spec.language,
        fiscal_settings=dict(spec.fiscal_settings),
    )
    actor = system_actor(company)
    result = DemoResult(country=spec.country, company=company, created=True, staff=spec.staff())
    result.counts["users"] = _staff_create(spec, company)
    with translation.override(spec.language):
        _units_create(actor)
    for code, name, _keys in TAX_CATEGORIES[spec.country]:
        tax_category_create(actor=actor, code=code, name=name)
    terms = {days: payment_term_create(actor=actor, name=name, days=days) for name, days in spec.payment_terms}
    result.counts["payment_terms"] = len(terms)

    # The store's opening data arrives the way a real one's would: its catalogue and its
    # customer and supplier lists imported from spreadsheets, through the areas' own imports
    # (every row validated by their rules, written in bulk, one audit row per file).
    result.counts["products"] = _import(product_import, actor, _products_file(plan), f"{spec.trade_name} products")
    parties_file = _parties_file(plan, {days: term.name for days, term in terms.items()})
    _import(party_import, actor, parties_file, f"{spec.trade_name} customers and suppliers")
    _contacts_add(actor, plan)

    products = dict(Product.objects.filter(company=company).values_list("sku", "pk"))
    price_list = price_list_create(actor=actor, name=spec.price_list_name, currency=spec.currency)
    for sku, min_quantity, unit_price in plan.price_list_items:
        price_list_item_set(
            actor=actor,
            price_list_id=price_list.pk,
            product_id=products[sku],
            unit_price=unit_price,
            min_quantity=min_quantity,
        )
    result.counts["price_list_items"] = len(plan.price_list_items)
    if spec.allow_backorders:
        company_update(
            actor=actor,
            legal_name=company.legal_name,
            trade_name=company.trade_name,
            tax_id=company.tax_id,
            default_language=company.default_language,
            fiscal_settings=company.fiscal_settings,
            allow_backorders=True,
        )
        company.refresh_from_db()  # the actor holds this instance
    ops = operations_load(actor=actor, spec=spec, rng=random.Random(f"retaguarda-demo-operations-{spec.country}"))
    backdate(company, ops)
    result.counts.update(ops.counts)
    result.counts.update(
        books_load(actor=actor, spec=spec, ops=ops, rng=random.Random(f"retaguarda-demo-books-{spec.country}"))
    )
    result.counts["suppliers"] = Party.objects.filter(company=company, is_supplier=True).count()
    result.counts["customers"] = Party.objects.filter(company=company, is_customer=True, is_supplier=False).count()
    return result


class DemoRefused(Exception):
    """An area refused the demo's data; the message carries its per-row report."""


def _import(import_function, actor, file: io.BytesIO, name: str) -> int:
    outcome = import_function(actor=actor, file=file, format=tabular.CSV, name=name)
    if not outcome.ok:
        raise DemoRefused(f"{name}: {outcome.errors.as_text()}")
    return outcome.created


def _csv(header: list[str], rows: list[dict]) -> io.BytesIO:
    stream = io.BytesIO()
    tabular.write_table(stream, tabular.CSV, header, ([row.get(column) for column in header] for row in rows))
    stream.seek(0)
    return stream


def _products_file(plan: DemoPlan) -> io.BytesIO:
    rows = []
    for product in plan.products:
        row = {key: value for key, value in product.items() if key != "translations"}
        for language, text in product["translations"].items():
            row[f"name_{language}"] = text["name"]
            row[f"description_{language}"] = text["description"]
        rows.append(row)
    return _csv([column.name for column in product_columns()], rows)


def _parties_file(plan: DemoPlan, term_names: dict[int, str]) -> io.BytesIO:
    rows = []
    for party in [*plan.suppliers, *plan.customers]:
        row = {key: value for key, value in party.items() if key not in ("addresses", "contacts")}
        row.setdefault("is_customer", True)
        row.setdefault("is_supplier", False)
        row["payment_term"] = term_names[party["payment_term_days"]]
        for address in party["addresses"]:
            for part in ADDRESS_PARTS:
                row[f"{address['kind']}_{part}"] = address[part]
        rows.append(row)
    return _csv([column.name for column in party_columns()], rows)


def _contacts_add(actor, plan: DemoPlan) -> None:
    """The imports take no contacts: add them to the company parties through the service."""
    with_contacts = [p for p in [*plan.suppliers, *plan.customers] if p.get("contacts")]
    party_ids = dict(Party.objects.filter(company=actor.company, kind=PartyKind.COMPANY).values_list("tax_id", "pk"))
    for party in with_contacts:
        party_id = party_ids[tax_id_compact(party["tax_country"], party["tax_id"])]
        for contact in party["contacts"]:
            party_contact_add(actor=actor, party_id=party_id, **contact)


def _staff_create(spec: CountryDemo, company: Company) -> int:
    """One login per role; the shared administrator also administers every other demo company.

    Only users created here get the demo password, hashed once and set on all of them: one
    PBKDF2 run instead of one per user keeps the demo fast. A user that already existed keeps
    its own password.
    """
    created: list[int] = []
    staff = spec.staff()
    wanted = [(s.username, s.role, s.first_name, s.last_name) for s in staff]
    if SHARED_ADMIN not in {s.username for s in staff}:
        first, last = spec.staff_names[0]
        wanted.append((SHARED_ADMIN, "administrator", first, last))
    for username, role, first_name, last_name in wanted:
        existed = User.objects.filter(username=username).exists()
        user = user_create(
            username=username,
            password=None,
            company=company,
            role=role,
            areas=list(PARTNER_AREAS) if role == "partner" else [],
            email=f"{username.split('.')[0]}@{spec.email_domain}",
            language=spec.language,
            first_name=first_name,
            last_name=last_name,
        )
        if not existed:
            created.append(user.pk)
    if created:
        User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
    return Membership.objects.filter(company=company).count()


def _units_create(actor) -> None:
    # The catalog's usual units, named in the company's language (as catalog_defaults_create
    # names them); its default tax categories are replaced by each country's own below.
    for code, name, category, factor, rounding in DEFAULT_UNITS:
        uom_create(actor=actor, code=code, name=str(name), category=category, factor=factor, rounding=rounding)


def _tax_category_by_key(country: str) -> dict[str, str]:
    """Product tax key (goods, food, book…) -> the country's tax category code."""
    return {key: code for code, _name, keys in TAX_CATEGORIES[country] for key in keys}


def _shop_price(amount: Decimal, currency: str) -> Decimal:
    """A price as shops write it: R$ 259,90 or 24,95 € (amounts under 10 to the cent)."""
    if amount < 10:
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    ending = Decimal("0.10") if currency == "BRL" else Decimal("0.05")
    whole = (amount + ending).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return whole - ending


def _product_prices(spec: ProductSpec, currency: str, rng: random.Random) -> tuple[Decimal, Decimal]:
    base = spec.item.price_brl if currency == "BRL" else spec.item.price_eur
    price = base if spec.price_factor == 1 else _shop_price(base * spec.price_factor, currency)
    jitter = Decimal(rng.randint(92, 108)) / 100
    cost = (price * spec.item.cost_ratio * jitter).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return price, cost


def _products_plan(spec: CountryDemo) -> list[dict]:
    rng = random.Random(f"retaguarda-demo-products-{spec.country}")
    taxes = _tax_category_by_key(spec.country)
    products = []
    barcode_item = 0
    for product_spec in product_specs():
        item = product_spec.item
        price, cost = _product_prices(product_spec, spec.currency, rng)
        barcode = ""
        if item.kind == "goods":
            barcode_item += 1
            barcode = numbers.ean13_make(spec.gs1_prefix, barcode_item)
        products.append(
            {
                "sku": product_spec.sku,
                "name": product_spec.name(spec.language),
                "description": item.description[spec.language],
                "kind": item.kind,
                "uom": item.uom,
                "tax_category": taxes[item.tax],
                "barcode": barcode,
                "weight": product_spec.weight,
                "list_price": price,
                "standard_cost": cost,
                "ncm": item.ncm if spec.country == "BR" else "",
                "translations": {
                    language: {"name": product_spec.name(language), "description": item.description[language]}
                    for language in LANGUAGES
                    if language != spec.language
                },
            }
        )
    return products


def _price_list_plan(products: list[dict]) -> list[tuple[str, Decimal, Decimal]]:
    items = []
    goods = [p for p in products if p["kind"] == "goods"]
    for product in goods[::PRICE_LIST_SHARE]:
        for min_quantity, discount in (
            (Decimal(0), PRICE_LIST_DISCOUNT),
            (PRICE_LIST_TIER_QUANTITY, PRICE_LIST_TIER_DISCOUNT),
        ):
            unit_price = (product["list_price"] * (1 - discount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            items.append((product["sku"], min_quantity, unit_price))
    return items


# --- parties -----------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum() or c in ".-")


def _unique_tax_id(make, used: set[str]) -> str:
    while True:
        number = make()
        compact = "".join(c for c in number if c.isalnum()).upper()
        if compact not in used:
            used.add(compact)
            return number


def _phone(spec: CountryDemo, rng: random.Random, city: City, *, mobile: bool) -> str:
    if spec.country == "BR":
        if mobile:
            return f"+55 {city.phone_area} 9{rng.randint(6000, 9999)}-{rng.randint(0, 9999):04d}"
        return f"+55 {city.phone_area} {rng.randint(2000, 3999)}-{rng.randint(0, 9999):04d}"
    if mobile:
        return f"+34 6{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
    rest = "".join(str(rng.randint(0, 9)) for _ in range(9 - len(city.phone_area)))
    digits = city.phone_area + rest
    return f"+34 {digits[:3]} {digits[3:6]} {digits[6:]}"


def _address(spec: CountryDemo, rng: random.Random, city: City, kind: str) -> dict:
    low, high = city.postal_range
    if spec.country == "BR":
        postal_code = f"{rng.randint(low, high):05d}-{rng.randint(0, 899):03d}"
        number = str(rng.randint(10, 3500))
    else:
        postal_code = f"{rng.randint(low, high):05d}"
        number = str(rng.randint(1, 180))
    return {
        "kind": kind,
        "street": f"{rng.choice(spec.street_types)} {rng.choice(spec.street_names)}",
        "number": number,
        "complement": rng.choice(spec.complements) if rng.random() < 0.45 else "",
        "district": rng.choice(city.districts),
        "city": city.name,
        "state": city.state,
        "postal_code": postal_code,
        "country": spec.country,
        "is_default": True,
    }


def _city(rng: random.Random, cities) -> City:
    return rng.choices(cities, weights=[c.weight for c in cities])[0]


def _person_name(spec: CountryDemo, rng: random.Random) -> tuple[str, str]:
    first = rng.choice(spec.first_names)
    last = rng.choice(spec.surnames)
    if spec.two_surnames:
        last = f"{last} {rng.choice([s for s in spec.surnames if s != last])}"
    elif rng.random() < 0.35:
        last = f"{rng.choice([s for s in spec.surnames if s != last])} {last}"
    return first, last


def _company_tax_id(spec: CountryDemo, rng: random.Random, used: set[str], *, suffix: str, province: str) -> str:
    if spec.country == "BR":
        return _unique_tax_id(lambda: numbers.cnpj_make(rng), used)
    # The CIF's letter is the legal form: A for a sociedad anónima, B for a limitada.
    letter = "A" if suffix == "SA" else "B"
    return _unique_tax_id(lambda: numbers.cif_make(rng, letter=letter, province=province or None), used)


def _province_of(spec: CountryDemo, city: City) -> str:
    if spec.country != "ES":
        return ""
    return f"{city.postal_range[0]:05d}"[:2]


def _contacts(spec: CountryDemo, rng: random.Random, city: City, domain: str, count: int) -> list[dict]:
    contacts = []
    roles = rng.sample(spec.contact_roles, count)
    for role in roles:
        first, last = _person_name(spec, rng)
        contacts.append(
            {
                "name": f"{first} {last}",
                "role": role,
                "email": f"{_ascii(first)}.{_ascii(last.split()[0])}@{domain}",
                "phone": _phone(spec, rng, city, mobile=rng.random() < 0.5),
            }
        )
    return contacts


def _suppliers_plan(spec: CountryDemo, rng: random.Random, used_tax_ids: set[str]) -> list[dict]:
    suppliers = []
    names = rng.sample([(k, n) for k in spec.supplier_kinds for n in spec.supplier_names], SUPPLIER_COUNT)
    for index, (kind, place) in enumerate(names):
        city = _city(rng, spec.supplier_cities)
        suffix = rng.choice(spec.company_suffixes)
        trade_name = f"{kind} {place}"
        domain = f"{_ascii(kind)}-{_ascii(place.replace(' ', '-'))}.example"
        suppliers.append(
            dict(
                legal_name=f"{trade_name} {suffix}",
                trade_name=trade_name,
                kind=PartyKind.COMPANY,
                # A few makers also buy from the store (gifts for their own clients).
                is_customer=index % 10 == 0,
                is_supplier=True,
                tax_country=spec.country,
                tax_id=_company_tax_id(spec, rng, used_tax_ids, suffix=suffix, province=_province_of(spec, city)),
                email=f"pedidos@{domain}",
                phone=_phone(spec, rng, city, mobile=False),
                language=spec.language,
                payment_term_days=rng.choice([30, 30, 60]),
                contacts=_contacts(spec, rng, city, domain, rng.randint(1, 2)),
                addresses=[_address(spec, rng, city, AddressKind.BILLING)],
            )
        )
    return suppliers


def _customers_plan(spec: CountryDemo, rng: random.Random, used_tax_ids: set[str]) -> list[dict]:
    customers = []
    businesses = rng.sample([(k, n) for k in spec.business_kinds for n in spec.business_names], 80)
    used_emails: set[str] = set()
    for index in range(CUSTOMER_COUNT):
        city = _city(rng, spec.cities)
        addresses = [_address(spec, rng, city, AddressKind.BILLING)]
        if rng.random() < 0.2:
            # Ships elsewhere: to work, or to a relative in another city.
            other = city if rng.random() < 0.5 else _city(rng, spec.cities)
            addresses.append(_address(spec, rng, other, AddressKind.SHIPPING))
        notes = rng.choice(spec.notes) if rng.random() < 0.06 else ""
        if index % 7 == 3 and businesses:
            kind, place = businesses.pop()
            trade_name = f"{kind} {place}"
            domain = f"{_ascii(place.replace(' ', '-'))}.example"
            credit = Decimal(rng.randrange(20, 200) * (250 if spec.currency == "BRL" else 50))
            suffix = rng.choice(spec.company_suffixes)
            customers.append(
                dict(
                    legal_name=f"{trade_name} {suffix}",
                    trade_name=trade_name,
                    kind=PartyKind.COMPANY,
                    tax_country=spec.country,
                    tax_id=_company_tax_id(spec, rng, used_tax_ids, suffix=suffix, province=_province_of(spec, city)),
                    email=f"contato@{domain}" if spec.country == "BR" else f"hola@{domain}",
                    phone=_phone(spec, rng, city, mobile=False),
                    language=spec.language,
                    payment_term_days=rng.choice([15, 30, 30, 60]),
                    credit_limit=credit,
                    notes=notes,
                    contacts=_contacts(spec, rng, city, domain, 1),
                    addresses=addresses,
                )
            )
            continue
        first, last = _person_name(spec, rng)
        language = spec.language
        if spec.country == "ES" and rng.random() < 0.08:
            tax_id = _unique_tax_id(lambda: numbers.nie_make(rng), used_tax_ids)
            language = "en"
        elif spec.country == "ES":
            tax_id = _unique_tax_id(lambda: numbers.dni_make(rng), used_tax_ids)
        else:
            tax_id = _unique_tax_id(lambda: numbers.cpf_make(rng), used_tax_ids)
        local = f"{_ascii(first)}.{_ascii(last.split()[-1] if spec.country == 'BR' else last.split()[0])}"
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in used_emails:
            email = f"{local}{rng.randint(2, 99)}@{rng.choice(EMAIL_DOMAINS)}"
        used_emails.add(email)
        customers.append(
            dict(
                legal_name=f"{first} {last}",
                kind=PartyKind.PERSON,
                tax_country=spec.country,
                tax_id=tax_id,
                email=email,
                phone=_phone(spec, rng, city, mobile=True),
                language=language,
                # Shoppers pay when they order (card, Pix, Bizum): no credit.
                payment_term_days=0,
                notes=notes,
                addresses=addresses,
            )
        )
    return customers
