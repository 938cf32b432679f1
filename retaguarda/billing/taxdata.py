"""The taxes, tax rules, fiscal positions and product tax categories a new company starts with, per
country and tax regime. A bookkeeper reviews and changes them afterwards; rates change by law.

Spain (all regimes: a seller under the simplified or the equivalence-surcharge regime still
charges IVA on its sales the usual way):
- IVA 21 / 10 / 4 / 0 % and exempt, by the product's tax category;
- recargo de equivalencia 5.2 / 1.4 / 0.5 % on top of IVA 21 / 10 / 4 % for goods sold to a
  retailer under that regime (not on services; the 1.75 % tobacco surcharge is not set up);
- IRPF withheld at 15 % when an individual professional invoices a professional service
  (category "professional-service") to a business or professional in Spain, who must withhold
  it (positions "domestic_business" and "recargo_equivalencia"). IRPF7 (7 %, the first years of
  a new professional) is set up too: such a professional replaces IRPF15 by IRPF7 in those rules.
  A company (not an individual) simply does not use the "professional-service" category;
- an EU business with a valid VAT id: goods are an exempt intra-Community supply (K), services
  are taxed by the customer under the reverse charge (AE), each with its legal mention;
- outside the EU VAT area: goods are exempt exports (G), services are not subject (O).
Not covered: sales to EU consumers above the distance-selling threshold (OSS), prices that
include IVA (retail tickets).

Brazil:
- Simples Nacional (CRT 1): no ICMS, IPI, PIS or COFINS is highlighted per item: ICMS with
  CSOSN 102 (101, with the credit percentage, is not computed), PIS and COFINS with CST 49, at
  0 %, and the Simples Nacional mention;
- Regime Normal (CRT 3): ICMS "por dentro" at the state's internal rate (`BR_ICMS_INTERNAL_RATES`)
  within the state and at 12 % to other states; IPI "por fora" by the product's category
  (0 / 5 / 10 / 15 %); PIS 1.65 % and COFINS 7.6 %, non-cumulative (lucro real). Companies
  under lucro presumido replace them by PIS0_65 and COFINS3 (cumulative), also set up.
Not covered: the 7 % interstate rate (South and Southeast, except Espírito Santo, selling to the
North, Northeast, Centre-West and Espírito Santo) and the 4 % rate for imported goods (ICMS7 and
ICMS4 are set up, the rules use 12 %); the DIFAL owed to the destination state on interstate
sales to consumers; ICMS-ST; the exclusion of ICMS from the PIS and COFINS base. CFOPs are a
reseller's (5102, 6102, 6108); a manufacturer uses 5101, 6101 and 6107.

Other countries: one tax, "VAT", at 0 % until the company sets its standard rate, applied to
everything by a single catch-all rule.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from retaguarda.common.errors import ValidationFailed
from retaguarda.ledger.choices import AccountRole

from .taxes import (
    ANY,
    POSITION_CONSUMER_OTHER_STATE,
    POSITION_CONSUMER_SAME_STATE,
    POSITION_CONTRIBUINTE_OTHER_STATE,
    POSITION_CONTRIBUINTE_SAME_STATE,
    POSITION_DOMESTIC,
    POSITION_DOMESTIC_BUSINESS,
    POSITION_EXPORT,
    POSITION_GENERIC,
    POSITION_INTRA_EU_B2B,
    POSITION_RECARGO_EQUIVALENCIA,
    TaxDef,
    TaxRule,
)

BR_SIMPLES_NACIONAL = "simples_nacional"
BR_REGIME_NORMAL = "regime_normal"

# Product tax categories (catalog TaxCategory codes). "standard", "reduced", "super-reduced" and
# "exempt" are the catalog's own defaults, so existing products keep working.
TAX_CATEGORIES = {
    "ES": (
        ("standard", gettext_lazy("Standard rate")),
        ("reduced", gettext_lazy("Reduced rate")),
        ("super-reduced", gettext_lazy("Super-reduced rate")),
        ("zero", gettext_lazy("Zero rate")),
        ("exempt", gettext_lazy("Exempt")),
        ("service", gettext_lazy("Services at the standard rate")),
        ("professional-service", gettext_lazy("Professional services (IRPF withholding)")),
    ),
    "BR": (
        ("standard", gettext_lazy("Goods not subject to IPI")),
        ("ipi-0", gettext_lazy("Goods with IPI at 0 %")),
        ("ipi-5", gettext_lazy("Goods with IPI at 5 %")),
        ("ipi-10", gettext_lazy("Goods with IPI at 10 %")),
        ("ipi-15", gettext_lazy("Goods with IPI at 15 %")),
    ),
}
GENERIC_TAX_CATEGORIES = (("standard", gettext_lazy("Standard rate")),)

# Customer fiscal positions (see the constants in taxes.py).
FISCAL_POSITIONS = {
    "ES": (
        (POSITION_DOMESTIC, gettext_lazy("Spain: consumer, or business that does not withhold IRPF")),
        (POSITION_DOMESTIC_BUSINESS, gettext_lazy("Spain: business or professional that withholds IRPF")),
        (POSITION_RECARGO_EQUIVALENCIA, gettext_lazy("Spain: retailer under the equivalence surcharge")),
        (POSITION_INTRA_EU_B2B, gettext_lazy("EU business with a valid VAT number")),
        (POSITION_EXPORT, gettext_lazy("Outside the EU VAT area (including the Canary Islands, Ceuta and Melilla)")),
    ),
    "BR": (
        (POSITION_CONTRIBUINTE_SAME_STATE, gettext_lazy("ICMS taxpayer in the same state")),
        (POSITION_CONTRIBUINTE_OTHER_STATE, gettext_lazy("ICMS taxpayer in another state")),
        (POSITION_CONSUMER_SAME_STATE, gettext_lazy("Final consumer in the same state")),
        (POSITION_CONSUMER_OTHER_STATE, gettext_lazy("Final consumer in another state")),
    ),
}
GENERIC_FISCAL_POSITIONS = ((POSITION_GENERIC, gettext_lazy("Domestic")),)

# ICMS internal rates (percent) of a few states, FECP included where the state adds it (RJ: 18 + 2).
# State laws change them (RJ has raised its rate since); the bookkeeper checks them.
BR_ICMS_INTERNAL_RATES = {
    "SP": Decimal("18"),
    "RJ": Decimal("20"),
    "MG": Decimal("18"),
    "PR": Decimal("19.5"),
    "RS": Decimal("17"),
    "SC": Decimal("17"),
}
BR_ICMS_INTERSTATE_RATE = Decimal("12")

BR_CFOP = {
    POSITION_CONTRIBUINTE_SAME_STATE: "5102",
    POSITION_CONTRIBUINTE_OTHER_STATE: "6102",
    POSITION_CONSUMER_SAME_STATE: "5102",
    POSITION_CONSUMER_OTHER_STATE: "6108",
}
BR_IPI_CATEGORIES = {"ipi-0": "IPI0", "ipi-5": "IPI5", "ipi-10": "IPI10", "ipi-15": "IPI15"}

ES_GOODS = {  # category -> (IVA, its equivalence surcharge or None)
    "standard": ("IVA21", "RE5_2"),
    "reduced": ("IVA10", "RE1_4"),
    "super-reduced": ("IVA4", "RE0_5"),
    "zero": ("IVA0", None),
    "exempt": ("IVA_EXENTO", None),
}
ES_SERVICES = ("service", "professional-service")


def tax_categories_for(country: str) -> tuple:
    return TAX_CATEGORIES.get(country, GENERIC_TAX_CATEGORIES)


def fiscal_positions_for(country: str) -> tuple:
    return FISCAL_POSITIONS.get(country, GENERIC_FISCAL_POSITIONS)


def _code(family: str, rate: Decimal) -> str:
    """ "ICMS", 19.5 -> "ICMS19_5"."""
    return family + format(rate.normalize(), "f").replace(".", "_")


def _spain_taxes() -> dict[str, TaxDef]:
    def iva(code, rate, category="S", mention=""):
        return TaxDef(code=code, family="IVA", rate=Decimal(rate), category=category, legal_mention=mention)

    def re(rate):
        return TaxDef(code=_code("RE", Decimal(rate)), family="RE", rate=Decimal(rate))

    def irpf(rate):
        return TaxDef(
            code=f"IRPF{rate}",
            family="IRPF",
            rate=Decimal(rate),
            withheld=True,
            account_role=AccountRole.TAX_WITHHELD.value,
        )

    defs = [
        iva("IVA21", "21"),
        iva("IVA10", "10"),
        iva("IVA4", "4"),
        iva("IVA0", "0", "Z"),
        iva("IVA_EXENTO", "0", "E", gettext_noop("VAT exempt (article 20 of the Spanish VAT Law 37/1992).")),
        iva(
            "IVA0_EU",
            "0",
            "K",
            gettext_noop(
                "Exempt intra-Community supply of goods (article 25 of the Spanish VAT Law 37/1992; "
                "article 138 of Directive 2006/112/EC)."
            ),
        ),
        iva(
            "IVA0_ISP",
            "0",
            "AE",
            gettext_noop("Reverse charge: the customer accounts for the VAT (article 196 of Directive 2006/112/EC)."),
        ),
        iva("IVA0_EXP", "0", "G", gettext_noop("Exempt export (article 21 of the Spanish VAT Law 37/1992).")),
        iva(
            "IVA_NS",
            "0",
            "O",
            gettext_noop(
                "Not subject to Spanish VAT: supplied outside Spain (article 69 of the Spanish VAT Law 37/1992)."
            ),
        ),
        re("5.2"),
        re("1.4"),
        re("0.5"),
        irpf(15),
        irpf(7),
    ]
    return {tax.code: tax for tax in defs}


def _spain_rules() -> list[TaxRule]:
    """A product's usual IVA by its category, and the exceptions by the customer's position (a
    position rule outranks a category rule, see `rules_select`)."""
    rules = [TaxRule(category, ANY, (iva,)) for category, (iva, _surcharge) in ES_GOODS.items()]
    rules += [TaxRule(category, ANY, ("IVA21",)) for category in ES_SERVICES]
    rules += [
        TaxRule(category, POSITION_RECARGO_EQUIVALENCIA, (iva, surcharge))
        for category, (iva, surcharge) in ES_GOODS.items()
        if surcharge
    ]
    # The customers who must withhold IRPF: businesses and professionals, retailers included.
    rules += [
        TaxRule("professional-service", position, ("IVA21", "IRPF15"))
        for position in (POSITION_DOMESTIC_BUSINESS, POSITION_RECARGO_EQUIVALENCIA)
    ]
    # Abroad the position decides for goods; services follow the place-of-supply rules.
    rules += [TaxRule(ANY, POSITION_INTRA_EU_B2B, ("IVA0_EU",)), TaxRule(ANY, POSITION_EXPORT, ("IVA0_EXP",))]
    for category in ES_SERVICES:
        rules += [
            TaxRule(category, POSITION_INTRA_EU_B2B, ("IVA0_ISP",)),
            TaxRule(category, POSITION_EXPORT, ("IVA_NS",)),
        ]
    return rules


def _brazil_taxes(regime: str) -> dict[str, TaxDef]:
    if regime == BR_SIMPLES_NACIONAL:
        defs = [
            TaxDef(
                code="ICMS_SN",
                family="ICMS",
                rate=Decimal(0),
                price_included=True,
                situation="102",
                legal_mention=gettext_noop(
                    "Document issued by a micro or small enterprise under the Simples Nacional. "
                    "It does not give the right to an IPI tax credit."
                ),
            ),
            TaxDef(code="PIS_SN", family="PIS", rate=Decimal(0), price_included=True, situation="49"),
            TaxDef(code="COFINS_SN", family="COFINS", rate=Decimal(0), price_included=True, situation="49"),
        ]
    else:
        icms_rates = sorted({*BR_ICMS_INTERNAL_RATES.values(), BR_ICMS_INTERSTATE_RATE, Decimal("7"), Decimal("4")})
        defs = [
            TaxDef(code=_code("ICMS", rate), family="ICMS", rate=rate, price_included=True, situation="00")
            for rate in icms_rates
        ]
        defs.append(TaxDef(code="IPI0", family="IPI", rate=Decimal(0), situation="51"))
        defs += [TaxDef(code=f"IPI{rate}", family="IPI", rate=Decimal(rate), situation="50") for rate in (5, 10, 15)]
        defs += [
            TaxDef(code=code, family=family, rate=Decimal(rate), price_included=True, situation="01")
            for code, family, rate in (
                ("PIS1_65", "PIS", "1.65"),
                ("COFINS7_6", "COFINS", "7.6"),
                ("PIS0_65", "PIS", "0.65"),
                ("COFINS3", "COFINS", "3"),
            )
        ]
    return {tax.code: tax for tax in defs}


def _brazil_rules(regime: str, state: str | None) -> list[TaxRule]:
    if regime == BR_SIMPLES_NACIONAL:
        return [TaxRule(ANY, position, ("ICMS_SN", "PIS_SN", "COFINS_SN"), cfop) for position, cfop in BR_CFOP.items()]
    internal = BR_ICMS_INTERNAL_RATES.get((state or "").upper())
    if internal is None:
        raise ValidationFailed(
            _("No ICMS rate is known for the state “%(state)s”: set up its ICMS tax and rules by hand.")
            % {"state": state or ""},
            code="tax_state_unknown",
            fields={"state": [_("No default ICMS rate for this state.")]},
        )
    icms = {
        POSITION_CONTRIBUINTE_SAME_STATE: _code("ICMS", internal),
        POSITION_CONTRIBUINTE_OTHER_STATE: _code("ICMS", BR_ICMS_INTERSTATE_RATE),
        POSITION_CONSUMER_SAME_STATE: _code("ICMS", internal),
        POSITION_CONSUMER_OTHER_STATE: _code("ICMS", BR_ICMS_INTERSTATE_RATE),
    }
    ipi_by_category = {"standard": None, **BR_IPI_CATEGORIES}
    rules = []
    for position, cfop in BR_CFOP.items():
        for category, ipi in ipi_by_category.items():
            codes = (icms[position], ipi, "PIS1_65", "COFINS7_6") if ipi else (icms[position], "PIS1_65", "COFINS7_6")
            rules.append(TaxRule(category, position, codes, cfop))
    return rules


def _check_regime(country: str, regime: str) -> None:
    if country == "BR" and regime not in (BR_SIMPLES_NACIONAL, BR_REGIME_NORMAL):
        raise ValidationFailed(
            _("Choose a tax regime from the list."),
            fields={"regime": [_("Choose a tax regime from the list.")]},
        )


def default_taxes(country: str, regime: str) -> dict[str, TaxDef]:
    """The taxes a new company of this country and regime starts with, by code."""
    _check_regime(country, regime)
    if country == "ES":
        return _spain_taxes()
    if country == "BR":
        return _brazil_taxes(regime)
    return {"VAT": TaxDef(code="VAT", family="VAT", rate=Decimal(0))}


def default_rules(country: str, regime: str, state: str | None = None) -> list[TaxRule]:
    """The tax rules that go with `default_taxes`; Brazil's Regime Normal needs the company's state.

    Raises ValidationFailed (field "state") for a Regime Normal state whose ICMS rate is not in
    BR_ICMS_INTERNAL_RATES.
    """
    _check_regime(country, regime)
    if country == "ES":
        return _spain_rules()
    if country == "BR":
        return _brazil_rules(regime, state)
    return [TaxRule(ANY, ANY, ("VAT",))]
