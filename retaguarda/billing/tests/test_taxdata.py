"""The default taxes and rules per country, through the engine: worked Spanish and Brazilian
invoices with hand-computed cents, and the consistency of the tables themselves."""

from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.functional import Promise

from retaguarda.billing.taxdata import (
    BR_ICMS_INTERNAL_RATES,
    FISCAL_POSITIONS,
    TAX_CATEGORIES,
    default_rules,
    default_taxes,
    fiscal_positions_for,
    tax_categories_for,
)
from retaguarda.billing.taxes import (
    LineInput,
    TaxDef,
    TaxRuleMissing,
    rules_select,
    taxes_compute,
)
from retaguarda.common.errors import ValidationFailed
from retaguarda.ledger.choices import AccountRole

D = Decimal


def line(key, quantity, price, category="standard", discount="0"):
    return LineInput(
        key=key, quantity=D(quantity), unit_price=D(price), discount_percent=D(discount), tax_category=category
    )


def compute(country, regime, position, lines, state=None, rounding="line"):
    return taxes_compute(
        lines=lines,
        taxes=default_taxes(country, regime),
        rules=default_rules(country, regime, state),
        fiscal_position=position,
        rounding=rounding,
    )


def summary_of(result):
    return {tax.code: (tax.base, tax.amount) for tax in result.summary}


def totals(result):
    return (
        result.net_total,
        result.tax_total,
        result.included_tax_total,
        result.withheld_total,
        result.grand_total,
        result.payable,
    )


# ---------------------------------------------------------------------------------------------
# Spain


@pytest.mark.parametrize(
    "category, iva, surcharge",
    [
        # 100.00 at 21 % = 21.00 + RE 5.2 % = 5.20; at 10 % = 10.00 + 1.4 % = 1.40; at 4 % = 4.00 + 0.5 % = 0.50.
        ("standard", ("IVA21", "21.00"), ("RE5_2", "5.20")),
        ("reduced", ("IVA10", "10.00"), ("RE1_4", "1.40")),
        ("super-reduced", ("IVA4", "4.00"), ("RE0_5", "0.50")),
    ],
)
def test_spain_recargo_de_equivalencia_is_added_to_iva_for_retailers(category, iva, surcharge):
    result = compute("ES", "general", "recargo_equivalencia", [line("a", "4", "25.00", category)])
    assert summary_of(result) == {iva[0]: (D("100.00"), D(iva[1])), surcharge[0]: (D("100.00"), D(surcharge[1]))}
    tax = D(iva[1]) + D(surcharge[1])
    assert totals(result) == (D("100.00"), tax, D("0.00"), D("0.00"), D("100.00") + tax, D("100.00") + tax)


def test_spain_recargo_applies_to_the_goods_of_an_invoice_not_to_its_services():
    lines = [line("a", "1", "100.00"), line("b", "1", "50.00", "service"), line("c", "1", "10.00", "zero")]
    result = compute("ES", "general", "recargo_equivalencia", lines)
    # a: IVA 21.00 + RE 5.20; b: IVA 10.50 only; c: 0 %.
    assert summary_of(result) == {
        "IVA21": (D("150.00"), D("31.50")),
        "RE5_2": (D("100.00"), D("5.20")),
        "IVA0": (D("10.00"), D("0.00")),
    }
    assert result.grand_total == D("196.70")


def test_spain_domestic_sale_by_category():
    lines = [line("a", "1", "10.00"), line("b", "1", "10.00", "reduced"), line("c", "1", "10.00", "super-reduced")]
    result = compute("ES", "simplificado", "domestic", lines)
    assert summary_of(result) == {
        "IVA21": (D("10.00"), D("2.10")),
        "IVA10": (D("10.00"), D("1.00")),
        "IVA4": (D("10.00"), D("0.40")),
    }
    assert result.grand_total == D("33.50")


def test_spain_professional_services_to_a_business_withhold_irpf():
    # 1,000.00: IVA 21 % = 210.00, IRPF 15 % = 150.00 withheld: total 1,210.00, payable 1,060.00.
    result = compute("ES", "general", "domestic_business", [line("a", "8", "125.00", "professional-service")])
    assert summary_of(result) == {"IVA21": (D("1000.00"), D("210.00")), "IRPF15": (D("1000.00"), D("150.00"))}
    assert totals(result) == (D("1000.00"), D("210.00"), D("0.00"), D("150.00"), D("1210.00"), D("1060.00"))
    irpf = default_taxes("ES", "general")["IRPF15"]
    assert (irpf.withheld, irpf.account_role) == (True, "tax_withheld")


def test_spain_professional_services_to_a_consumer_withhold_nothing():
    result = compute("ES", "general", "domestic", [line("a", "1", "1000.00", "professional-service")])
    assert summary_of(result) == {"IVA21": (D("1000.00"), D("210.00"))}
    assert (result.withheld_total, result.payable) == (D("0.00"), D("1210.00"))


def test_spain_intra_eu_goods_are_an_exempt_supply_with_its_legal_mention():
    result = compute("ES", "general", "intra_eu_b2b", [line("a", "3", "40.00"), line("b", "1", "30.00", "reduced")])
    (tax,) = result.summary
    assert (tax.code, tax.rate, tax.base, tax.amount, tax.category) == ("IVA0_EU", D("0"), D("150.00"), D("0.00"), "K")
    mention = (
        "Exempt intra-Community supply of goods (article 25 of the Spanish VAT Law 37/1992; "
        "article 138 of Directive 2006/112/EC)."
    )
    assert tax.legal_mention == mention
    assert result.legal_mentions == (mention,)
    assert totals(result) == (D("150.00"), D("0.00"), D("0.00"), D("0.00"), D("150.00"), D("150.00"))


def test_spain_intra_eu_services_are_reverse_charged():
    result = compute("ES", "general", "intra_eu_b2b", [line("a", "1", "500.00", "professional-service")])
    assert [(t.code, t.category, t.amount) for t in result.summary] == [("IVA0_ISP", "AE", D("0.00"))]
    assert result.legal_mentions == (
        "Reverse charge: the customer accounts for the VAT (article 196 of Directive 2006/112/EC).",
    )
    assert (result.withheld_total, result.payable) == (D("0.00"), D("500.00"))


def test_spain_exports_goods_exempt_and_services_not_subject():
    result = compute("ES", "general", "export", [line("a", "1", "80.00"), line("b", "1", "20.00", "service")])
    assert [(t.code, t.category, t.base) for t in result.summary] == [
        ("IVA0_EXP", "G", D("80.00")),
        ("IVA_NS", "O", D("20.00")),
    ]
    assert len(result.legal_mentions) == 2
    assert result.grand_total == D("100.00")


def test_spain_per_document_rounding_is_the_quota_on_the_base_per_rate():
    lines = [line("a", "1", "1.05", "reduced"), line("b", "1", "1.05", "reduced")]
    # Per line 0.105 -> 0.11 twice = 0.22; per document 2.10 × 10 % = 0.21.
    assert compute("ES", "general", "domestic", lines).tax_total == D("0.22")
    assert compute("ES", "general", "domestic", lines, rounding="document").tax_total == D("0.21")


# ---------------------------------------------------------------------------------------------
# Brazil


@pytest.mark.parametrize(
    "position, cfop",
    [
        ("contribuinte_same_state", "5102"),
        ("contribuinte_other_state", "6102"),
        ("consumer_same_state", "5102"),
        ("consumer_other_state", "6108"),
    ],
)
def test_brazil_simples_nacional_highlights_no_tax(position, cfop):
    result = compute("BR", "simples_nacional", position, [line("1", "2", "100.00", "ipi-10"), line("2", "1", "50.00")])
    assert [(t.code, t.situation, t.base, t.amount, t.included) for t in result.summary] == [
        ("ICMS_SN", "102", D("250.00"), D("0.00"), True),
        ("PIS_SN", "49", D("250.00"), D("0.00"), True),
        ("COFINS_SN", "49", D("250.00"), D("0.00"), True),
    ]
    assert totals(result) == (D("250.00"), D("0.00"), D("0.00"), D("0.00"), D("250.00"), D("250.00"))
    assert result.cfop_by_line == {"1": cfop, "2": cfop}
    assert result.legal_mentions == (
        "Document issued by a micro or small enterprise under the Simples Nacional. "
        "It does not give the right to an IPI tax credit.",
    )


def test_brazil_simples_nacional_needs_no_state():
    assert len(default_rules("BR", "simples_nacional")) == 4


def test_brazil_regime_normal_sp_to_a_contribuinte():
    # 2 × 100.00 with IPI 10 %: ICMS 18 % por dentro on 200.00 = 36.00; IPI por fora 20.00;
    # PIS 1.65 % = 3.30; COFINS 7.6 % = 15.20. Total 200.00 + IPI 20.00 = 220.00.
    result = compute("BR", "regime_normal", "contribuinte_same_state", [line("1", "2", "100.00", "ipi-10")], state="SP")
    assert summary_of(result) == {
        "ICMS18": (D("200.00"), D("36.00")),
        "IPI10": (D("200.00"), D("20.00")),
        "PIS1_65": (D("200.00"), D("3.30")),
        "COFINS7_6": (D("200.00"), D("15.20")),
    }
    assert [(t.code, t.situation) for t in result.lines[0].taxes] == [
        ("ICMS18", "00"),
        ("IPI10", "50"),
        ("PIS1_65", "01"),
        ("COFINS7_6", "01"),
    ]
    # Included: 36.00 + 3.30 + 15.20 = 54.50.
    assert totals(result) == (D("200.00"), D("20.00"), D("54.50"), D("0.00"), D("220.00"), D("220.00"))
    assert result.cfop_by_line == {"1": "5102"}


def test_brazil_regime_normal_sp_to_a_consumer_puts_ipi_in_the_icms_base():
    # Same sale to a final consumer: ICMS base 200.00 + IPI 20.00 = 220.00 -> 18 % = 39.60.
    result = compute("BR", "regime_normal", "consumer_same_state", [line("1", "2", "100.00", "ipi-10")], state="SP")
    assert summary_of(result)["ICMS18"] == (D("220.00"), D("39.60"))
    assert summary_of(result)["PIS1_65"] == (D("200.00"), D("3.30"))
    # Included: 39.60 + 3.30 + 15.20 = 58.10.
    assert totals(result) == (D("200.00"), D("20.00"), D("58.10"), D("0.00"), D("220.00"), D("220.00"))
    assert result.cfop_by_line == {"1": "5102"}


@pytest.mark.parametrize(
    "position, icms, cfop",
    [
        # Interstate 12 % on 200.00 = 24.00; to a consumer on 220.00 = 26.40 (DIFAL not computed).
        ("contribuinte_other_state", ("ICMS12", "200.00", "24.00"), "6102"),
        ("consumer_other_state", ("ICMS12", "220.00", "26.40"), "6108"),
    ],
)
def test_brazil_regime_normal_interstate_sales_use_12_percent(position, icms, cfop):
    result = compute("BR", "regime_normal", position, [line("1", "2", "100.00", "ipi-10")], state="SP")
    assert summary_of(result)[icms[0]] == (D(icms[1]), D(icms[2]))
    assert result.grand_total == D("220.00")
    assert result.cfop_by_line == {"1": cfop}


@pytest.mark.parametrize(
    "state, code, amount",
    # 200.00 × 20 % = 40.00; × 19.5 % = 39.00; × 17 % = 34.00; × 18 % = 36.00.
    [("RJ", "ICMS20", "40.00"), ("PR", "ICMS19_5", "39.00"), ("rs", "ICMS17", "34.00"), ("MG", "ICMS18", "36.00")],
)
def test_brazil_regime_normal_same_state_icms_follows_the_states_rate(state, code, amount):
    result = compute("BR", "regime_normal", "contribuinte_same_state", [line("1", "2", "100.00")], state=state)
    assert summary_of(result) == {
        code: (D("200.00"), D(amount)),
        "PIS1_65": (D("200.00"), D("3.30")),
        "COFINS7_6": (D("200.00"), D("15.20")),
    }
    assert (result.tax_total, result.grand_total) == (D("0.00"), D("200.00"))


def test_brazil_ipi_zero_category_reports_ipi_at_zero():
    result = compute("BR", "regime_normal", "contribuinte_same_state", [line("1", "1", "10.00", "ipi-0")], state="SP")
    assert [(t.code, t.situation, t.amount) for t in result.summary if t.family == "IPI"] == [("IPI0", "51", D("0.00"))]


@pytest.mark.parametrize("state", ["BA", "", None])
def test_brazil_regime_normal_refuses_a_state_without_a_known_icms_rate(state):
    with pytest.raises(ValidationFailed) as caught:
        default_rules("BR", "regime_normal", state)
    assert caught.value.code == "tax_state_unknown"
    assert caught.value.fields == {"state": ["No default ICMS rate for this state."]}


def test_brazil_refuses_an_unknown_regime():
    with pytest.raises(ValidationFailed) as caught:
        default_taxes("BR", "general")
    assert list(caught.value.fields) == ["regime"]


def test_brazil_spanish_categories_have_no_rule():
    with pytest.raises(TaxRuleMissing):
        compute("BR", "regime_normal", "contribuinte_same_state", [line("1", "1", "10.00", "reduced")], state="SP")


# ---------------------------------------------------------------------------------------------
# Other countries


def test_other_countries_get_one_vat_at_zero_until_the_company_sets_its_rate():
    taxes = default_taxes("FR", "standard")
    assert taxes == {"VAT": TaxDef(code="VAT", family="VAT", rate=D("0"))}
    assert default_rules("FR", "standard") == [default_rules("US", "standard")[0]]
    lines = [line("1", "1", "100.00", "anything")]
    result = taxes_compute(lines=lines, taxes=taxes, rules=default_rules("FR", "standard"), fiscal_position="domestic")
    assert (result.tax_total, result.grand_total) == (D("0.00"), D("100.00"))
    # The company sets 20 %: 100.00 -> 20.00.
    taxes = {"VAT": TaxDef(code="VAT", family="VAT", rate=D("20"))}
    result = taxes_compute(lines=lines, taxes=taxes, rules=default_rules("FR", "standard"), fiscal_position="domestic")
    assert (result.tax_total, result.grand_total) == (D("20.00"), D("120.00"))
    assert [code for code, _label in tax_categories_for("FR")] == ["standard"]
    assert [code for code, _label in fiscal_positions_for("FR")] == ["domestic"]


# ---------------------------------------------------------------------------------------------
# The tables themselves

SETUPS = [
    ("ES", "general", None),
    ("ES", "recargo_equivalencia", None),
    ("ES", "simplificado", None),
    ("BR", "simples_nacional", None),
    *(("BR", "regime_normal", state) for state in BR_ICMS_INTERNAL_RATES),
    ("DE", "standard", None),
]


@pytest.mark.parametrize("country, regime, state", SETUPS)
def test_every_category_and_position_has_exactly_one_best_rule_naming_known_taxes(country, regime, state):
    taxes = default_taxes(country, regime)
    rules = default_rules(country, regime, state)
    for category, _label in tax_categories_for(country):
        for position, _label in fiscal_positions_for(country):
            rule = rules_select(rules, tax_category=category, fiscal_position=position)
            assert set(rule.tax_codes) <= set(taxes), (category, position)
            assert (rule.cfop != "") == (country == "BR")
    assert len({(r.tax_category, r.fiscal_position) for r in rules}) == len(rules)


@pytest.mark.parametrize(
    "country, regime", [("ES", "general"), ("BR", "simples_nacional"), ("BR", "regime_normal"), ("IT", "standard")]
)
def test_default_taxes_are_well_formed(country, regime):
    roles = set(AccountRole.values)
    for code, tax in default_taxes(country, regime).items():
        assert tax.code == code
        assert tax.account_role in roles
        assert tax.rate >= 0 and not (tax.withheld and tax.price_included)
        assert tax.category in {"S", "Z", "E", "AE", "K", "G", "O"}
        # EN 16931 asks for an exemption reason on every exempt or zero-rated VAT category but Z.
        if tax.category not in {"S", "Z"}:
            assert tax.legal_mention
        assert tax.withheld == (tax.family == "IRPF")
        assert tax.price_included == (tax.family in {"ICMS", "PIS", "COFINS"})


def test_spanish_tax_codes():
    assert sorted(default_taxes("ES", "general")) == sorted(
        "IVA21 IVA10 IVA4 IVA0 IVA_EXENTO IVA0_EU IVA0_ISP IVA0_EXP IVA_NS RE5_2 RE1_4 RE0_5 IRPF15 IRPF7".split()
    )
    assert default_taxes("ES", "general")["RE5_2"].rate == D("5.2")


def test_labels_are_translatable():
    for table in (TAX_CATEGORIES, FISCAL_POSITIONS):
        for entries in table.values():
            assert all(isinstance(label, Promise) for _code, label in entries)
    with translation.override("es"):
        assert str(dict(TAX_CATEGORIES["ES"])["standard"]) == "Tipo general"
