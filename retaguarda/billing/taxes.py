"""The tax engine: which taxes apply to each invoice line, and their exact bases, amounts and totals.

Pure functions over plain data. Billing keeps each company's taxes and tax rules as rows and maps
them to `TaxDef` and `TaxRule`; `taxdata` holds the defaults per country. Nothing here reads or
writes the database.

How a document is taxed:

1. Each line's net amount is quantity × unit price × (1 − discount %), rounded half-up to the
   cent once (the same figure as the sales order line).
2. The rule that fits the line's tax category and the customer's fiscal position best
   (`rules_select`: the more exact fields, the fiscal position first, then the priority) names
   the taxes of the line and, in Brazil, its CFOP.
3. Every tax's base is the line's net amount, except ICMS on sales to final consumers
   (`IPI_IN_ICMS_BASE_POSITIONS`): the Federal Constitution (art. 155 § 2 XI) puts the IPI into
   the ICMS base when the buyer does not pay ICMS itself, so there the base is net + the line's
   IPI. The tax amount is base × rate / 100.
4. Three kinds of tax, and what they do to the totals:
   - added on top (IVA, RE, IPI, VAT): `tax_total`; `grand_total` = `net_total` + `tax_total`;
   - included in the price (`price_included`, Brazil's "por dentro" ICMS, PIS, COFINS): part of
     the net amount already, so they change no total; `included_tax_total` reports them;
   - withheld (`withheld`, Spain's IRPF): the customer keeps it and pays it to the tax office,
     so it lowers `payable` = `grand_total` − `withheld_total` but not `grand_total`.
5. Rounding, half-up to the cent (`round_money`), at one of two points:
   - "line": each tax on each line is rounded; the document's amount per tax is the sum of the
     rounded line amounts. Brazil's NF-e works this way (each item carries its own rounded
     ICMS, and the totals must be the sums of the items).
   - "document": per tax code, the amount is computed once on the summed bases and rounded once
     (a code has one rate, so this equals rounding the sum of the unrounded line amounts).
     Spain's invoicing regulation (RD 1619/2012) asks for the base and the quota per rate, and
     this is the quota on the total base per rate. The document amount is then spread back over
     the lines by largest remainder (each line gets its amount rounded down, and the cents left
     go to the lines that lost most, earlier lines first on a tie), so in both modes the line
     amounts add up exactly to the document's, and every line stays within a cent of its exact
     tax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from retaguarda.common.errors import DomainError, ValidationFailed
from retaguarda.common.fields import round_money
from retaguarda.ledger.choices import AccountRole
from retaguarda.sales.calculations import line_amount

ANY = "*"  # a rule field that matches every tax category or fiscal position

ROUNDING_LINE = "line"
ROUNDING_DOCUMENT = "document"
ROUNDINGS = (ROUNDING_LINE, ROUNDING_DOCUMENT)

# Fiscal positions: what the customer is, for tax purposes. Stored on the customer; rules match them.
# Spain
POSITION_DOMESTIC = "domestic"  # consumer, or business that does not withhold IRPF
POSITION_DOMESTIC_BUSINESS = "domestic_business"  # business or professional: withholds IRPF on professional services
POSITION_RECARGO_EQUIVALENCIA = "recargo_equivalencia"  # retailer under the equivalence surcharge regime
POSITION_INTRA_EU_B2B = "intra_eu_b2b"  # business in another EU state with a valid VAT id
POSITION_EXPORT = "export"  # outside the EU VAT area (Canary Islands, Ceuta and Melilla included)
# Brazil
POSITION_CONTRIBUINTE_SAME_STATE = "contribuinte_same_state"
POSITION_CONTRIBUINTE_OTHER_STATE = "contribuinte_other_state"
POSITION_CONSUMER_SAME_STATE = "consumer_same_state"
POSITION_CONSUMER_OTHER_STATE = "consumer_other_state"
# Elsewhere
POSITION_GENERIC = POSITION_DOMESTIC

FAMILY_ICMS = "ICMS"
FAMILY_IPI = "IPI"
# Sales to buyers who do not pay ICMS: the line's IPI is part of its ICMS base. A contribuinte
# buying for its own use or consumption is in the same case; such customers take a consumer
# position.
IPI_IN_ICMS_BASE_POSITIONS = frozenset({POSITION_CONSUMER_SAME_STATE, POSITION_CONSUMER_OTHER_STATE})

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# What a bookkeeper configures


@dataclass(frozen=True)
class TaxDef:
    """One tax of a company, as a bookkeeper sets it up.

    `category` (UNCL5305: S, Z, E, AE, K, G, O) is what EN 16931 invoices need for VAT-family
    taxes; other families keep the default. `legal_mention` is an English source string marked
    with gettext_noop, translated into the invoice's language when printed.
    """

    code: str  # unique per company: "IVA21", "RE5_2", "IRPF15", "ICMS18", "IPI10", "PIS1_65" ...
    family: str  # IVA | RE | IRPF | ICMS | IPI | PIS | COFINS | VAT ...
    rate: Decimal  # percent: Decimal("21"), Decimal("5.2"), Decimal("1.65")
    price_included: bool = False  # Brazil "por dentro": the tax is part of the price (ICMS, PIS, COFINS)
    withheld: bool = False  # withheld by the customer (IRPF): lowers the amount payable
    category: str = "S"
    legal_mention: str = ""
    account_role: str = AccountRole.TAX_PAYABLE.value  # tax_payable, tax_receivable or tax_withheld
    situation: str = ""  # Brazil: the CST or CSOSN of this tax on the NF-e


@dataclass(frozen=True)
class TaxRule:
    """Which taxes a line gets: for a product tax category and a customer fiscal position (either
    may be ANY). See `rules_select` for which rule wins when several fit."""

    tax_category: str
    fiscal_position: str
    tax_codes: tuple[str, ...]
    cfop: str = ""  # Brazil: the CFOP of the operation
    priority: int = 0


# ---------------------------------------------------------------------------------------------
# Input and result of a computation


@dataclass(frozen=True)
class LineInput:
    key: str  # unique within the document; the caller's line id or position
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_category: str


@dataclass(frozen=True)
class TaxLine:
    """One tax on one line, or summed per code over the document."""

    code: str
    family: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    withheld: bool
    included: bool
    category: str
    situation: str = ""
    legal_mention: str = ""


@dataclass(frozen=True)
class LineTaxes:
    key: str
    net_amount: Decimal  # before tax, rounded to the cent
    taxes: tuple[TaxLine, ...]  # in the order the rule names them
    total: Decimal  # net amount + the taxes added on top
    cfop: str = ""


@dataclass(frozen=True)
class DocumentTaxes:
    lines: tuple[LineTaxes, ...]
    summary: tuple[TaxLine, ...]  # one per tax code, in order of first use; bases and amounts summed
    net_total: Decimal  # sum of the lines' net amounts
    tax_total: Decimal  # taxes added on top: neither included in the price nor withheld
    included_tax_total: Decimal  # taxes already inside the net amounts
    withheld_total: Decimal  # taxes the customer withholds
    grand_total: Decimal  # net_total + tax_total
    payable: Decimal  # grand_total - withheld_total
    cfop_by_line: dict[str, str] = field(default_factory=dict)
    legal_mentions: tuple[str, ...] = ()  # each distinct mention of the taxes used, in order of first use
    rounding: str = ROUNDING_LINE


# ---------------------------------------------------------------------------------------------
# Errors


class TaxConfigurationError(DomainError):
    """The company's taxes or tax rules cannot tax this document; a bookkeeper must fix them."""

    code = "tax_configuration"
    status = 422


class TaxRuleMissing(TaxConfigurationError):
    code = "tax_rule_missing"


# ---------------------------------------------------------------------------------------------
# Rules


def _specificity(rule: TaxRule) -> tuple[bool, bool, int]:
    return rule.fiscal_position != ANY, rule.tax_category != ANY, rule.priority


def rules_select(rules: Sequence[TaxRule], *, tax_category: str, fiscal_position: str) -> TaxRule:
    """The rule for a line, among those whose fields equal the line's or are ANY.

    The most specific wins: both fields exact, then an exact fiscal position, then an exact tax
    category, then neither; among equals, the higher priority. A position outranks a category
    because a category rule states a product's usual taxes and a position rule the exception
    for a kind of customer ("standard: IVA 21 %" and "EU business: intra-Community supply"
    give the EU business the exemption).

    Raises TaxRuleMissing when none fits, TaxConfigurationError when two fit equally well.
    """
    matching = [
        rule
        for rule in rules
        if rule.tax_category in (tax_category, ANY) and rule.fiscal_position in (fiscal_position, ANY)
    ]
    names = {"category": tax_category, "position": fiscal_position}
    if not matching:
        raise TaxRuleMissing(
            _("No tax rule applies to tax category “%(category)s” for fiscal position “%(position)s”.") % names,
            details=[{"tax_category": tax_category, "fiscal_position": fiscal_position}],
        )
    matching.sort(key=_specificity, reverse=True)
    if len(matching) > 1 and _specificity(matching[0]) == _specificity(matching[1]):
        raise TaxConfigurationError(
            _(
                "Two tax rules apply equally to tax category “%(category)s” and fiscal position "
                "“%(position)s”; give one of them a higher priority."
            )
            % names,
            code="tax_rule_ambiguous",
        )
    return matching[0]


# ---------------------------------------------------------------------------------------------
# Computation


def _check_lines(lines: Sequence[LineInput]) -> None:
    errors: dict[str, list[str]] = {}

    def add(index: int, name: str, message: str) -> None:
        errors.setdefault(f"lines.{index}.{name}", []).append(message)

    seen: set[str] = set()
    for index, line in enumerate(lines):
        for name in ("quantity", "unit_price", "discount_percent"):
            value = getattr(line, name)
            # A float here is a programming error, never user input: refuse it loudly.
            if not isinstance(value, Decimal | int):
                raise TypeError(f"LineInput.{name} must be a Decimal, not {type(value).__name__}")
        if not Decimal(line.quantity).is_finite() or line.quantity <= 0:
            add(index, "quantity", _("Enter a quantity greater than zero."))
        if not Decimal(line.unit_price).is_finite() or line.unit_price < 0:
            add(index, "unit_price", _("Enter a price of zero or more."))
        if not Decimal(line.discount_percent).is_finite() or not 0 <= line.discount_percent <= 100:
            add(index, "discount_percent", _("Enter a discount between 0 and 100 %."))
        if not line.key or line.key in seen:
            add(index, "key", _("Each line needs its own key."))
        seen.add(line.key)
        if not line.tax_category:
            add(index, "tax_category", _("Choose a tax category."))
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), fields=errors)


def _taxes_of(rule: TaxRule, taxes: Mapping[str, TaxDef]) -> tuple[TaxDef, ...]:
    names = {"category": rule.tax_category, "position": rule.fiscal_position}
    if len(set(rule.tax_codes)) != len(rule.tax_codes):
        raise TaxConfigurationError(_("The tax rule for “%(category)s” and “%(position)s” names a tax twice.") % names)
    found = []
    for code in rule.tax_codes:
        tax = taxes.get(code)
        if tax is None:
            raise TaxConfigurationError(
                _("The tax rule for “%(category)s” and “%(position)s” names the tax “%(code)s”, which does not exist.")
                % {**names, "code": code},
                code="tax_unknown",
            )
        if tax.rate < 0:
            raise TaxConfigurationError(_("The tax “%(code)s” has a negative rate.") % {"code": code})
        if tax.withheld and tax.price_included:
            raise TaxConfigurationError(
                _("The tax “%(code)s” cannot be both withheld and included in the price.") % {"code": code}
            )
        found.append(tax)
    return tuple(found)


def _round_group(exact: list[Decimal], rounding: str) -> list[Decimal]:
    """The rounded amounts of one tax code on its lines (see the module docstring)."""
    if rounding == ROUNDING_LINE:
        return [round_money(amount) for amount in exact]
    total = round_money(sum(exact, Decimal(0)))
    rounded = [amount.quantize(CENT, rounding=ROUND_DOWN) for amount in exact]
    cents_left = int((total - sum(rounded, ZERO)) / CENT)
    by_loss = sorted(range(len(exact)), key=lambda i: (-(exact[i] - rounded[i]), i))
    for i in by_loss[:cents_left]:
        rounded[i] += CENT
    return rounded


def taxes_compute(
    *,
    lines: Sequence[LineInput],
    taxes: Mapping[str, TaxDef],
    rules: Sequence[TaxRule],
    fiscal_position: str,
    rounding: str = ROUNDING_LINE,
) -> DocumentTaxes:
    """The taxes, totals and CFOPs of a document's lines for a customer's fiscal position.

    Raises ValidationFailed for a bad line (fields "lines.<index>.<field>"), TaxRuleMissing when
    a line's tax category has no rule for the position (fields "lines.<index>.tax_category"),
    TaxConfigurationError when the rules name taxes that cannot be applied.
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, not {rounding!r}")
    _check_lines(lines)

    selected: list[TaxRule] = []
    missing: dict[str, list[str]] = {}
    first_missing: TaxRuleMissing | None = None
    details: list = []
    for index, line in enumerate(lines):
        try:
            selected.append(rules_select(rules, tax_category=line.tax_category, fiscal_position=fiscal_position))
        except TaxRuleMissing as exc:
            first_missing = first_missing or exc
            missing[f"lines.{index}.tax_category"] = [exc.message]
            details.extend(exc.details)
    if first_missing is not None:
        raise TaxRuleMissing(first_missing.message, fields=missing, details=details)

    line_taxes = [_taxes_of(rule, taxes) for rule in selected]
    nets = [
        line_amount(quantity=line.quantity, unit_price=line.unit_price, discount_percent=line.discount_percent)
        for line in lines
    ]
    ipi_in_icms_base = fiscal_position in IPI_IN_ICMS_BASE_POSITIONS

    # (line index, code) -> (base, rounded amount). Added and withheld taxes first, so that the
    # included ones can find the line's IPI for their base.
    computed: dict[tuple[int, str], tuple[Decimal, Decimal]] = {}
    for included_pass in (False, True):
        bases: dict[str, list[tuple[int, Decimal]]] = {}
        for index, defs in enumerate(line_taxes):
            for tax in defs:
                if tax.price_included != included_pass:
                    continue
                base = nets[index]
                if ipi_in_icms_base and tax.family == FAMILY_ICMS:
                    base += sum(
                        (
                            computed[index, other.code][1]
                            for other in defs
                            if other.family == FAMILY_IPI and not other.price_included
                        ),
                        ZERO,
                    )
                bases.setdefault(tax.code, []).append((index, base))
        for code, entries in bases.items():
            rate = taxes[code].rate
            amounts = _round_group([base * rate / HUNDRED for _index, base in entries], rounding)
            for (index, base), amount in zip(entries, amounts, strict=True):
                computed[index, code] = (base, amount)

    result_lines = []
    summary: dict[str, TaxLine] = {}
    mentions: dict[str, None] = {}
    for index, (line, defs, rule) in enumerate(zip(lines, line_taxes, selected, strict=True)):
        tax_lines = []
        for tax in defs:
            base, amount = computed[index, tax.code]
            tax_lines.append(
                TaxLine(
                    code=tax.code,
                    family=tax.family,
                    rate=tax.rate,
                    base=base,
                    amount=amount,
                    withheld=tax.withheld,
                    included=tax.price_included,
                    category=tax.category,
                    situation=tax.situation,
                    legal_mention=tax.legal_mention,
                )
            )
            before = summary.get(tax.code)
            summary[tax.code] = (
                tax_lines[-1]
                if before is None
                else replace(before, base=before.base + base, amount=before.amount + amount)
            )
            if tax.legal_mention:
                mentions[tax.legal_mention] = None
        added = sum((t.amount for t in tax_lines if not t.included and not t.withheld), ZERO)
        result_lines.append(
            LineTaxes(
                key=line.key, net_amount=nets[index], taxes=tuple(tax_lines), total=nets[index] + added, cfop=rule.cfop
            )
        )

    def total_of(predicate) -> Decimal:
        return sum((t.amount for t in summary.values() if predicate(t)), ZERO)

    net_total = sum(nets, ZERO)
    tax_total = total_of(lambda t: not t.included and not t.withheld)
    withheld_total = total_of(lambda t: t.withheld)
    grand_total = net_total + tax_total
    return DocumentTaxes(
        lines=tuple(result_lines),
        summary=tuple(summary.values()),
        net_total=net_total,
        tax_total=tax_total,
        included_tax_total=total_of(lambda t: t.included),
        withheld_total=withheld_total,
        grand_total=grand_total,
        payable=grand_total - withheld_total,
        cfop_by_line={line.key: line.cfop for line in result_lines},
        legal_mentions=tuple(mentions),
        rounding=rounding,
    )
