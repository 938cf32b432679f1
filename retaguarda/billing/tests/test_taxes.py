"""The tax engine on small hand-made tax setups: rule choice, bases, rounding per line and per
document, included and withheld taxes, refusals, and the invariants of the totals."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.billing.taxes import (
    ANY,
    POSITION_CONSUMER_OTHER_STATE,
    POSITION_CONSUMER_SAME_STATE,
    POSITION_CONTRIBUINTE_SAME_STATE,
    DocumentTaxes,
    LineInput,
    LineTaxes,
    TaxConfigurationError,
    TaxDef,
    TaxLine,
    TaxRule,
    TaxRuleMissing,
    rules_select,
    taxes_compute,
)
from retaguarda.common.errors import DomainError, ValidationFailed
from retaguarda.common.fields import round_money

D = Decimal

TAXES = {
    tax.code: tax
    for tax in (
        TaxDef(code="IVA21", family="IVA", rate=D("21")),
        TaxDef(code="IVA10", family="IVA", rate=D("10")),
        TaxDef(code="RE5_2", family="RE", rate=D("5.2")),
        TaxDef(code="IRPF15", family="IRPF", rate=D("15"), withheld=True, account_role="tax_withheld"),
        TaxDef(code="IVA0_EU", family="IVA", rate=D("0"), category="K", legal_mention="Intra-Community supply."),
        TaxDef(code="ICMS18", family="ICMS", rate=D("18"), price_included=True, situation="00"),
        TaxDef(code="IPI10", family="IPI", rate=D("10"), situation="50"),
        TaxDef(code="PIS1_65", family="PIS", rate=D("1.65"), price_included=True, situation="01"),
    )
}
RULES = [
    TaxRule("standard", ANY, ("IVA21",)),
    TaxRule("reduced", ANY, ("IVA10",)),
    TaxRule("standard", "retailer", ("IVA21", "RE5_2")),
    TaxRule("pro", ANY, ("IVA21",)),
    TaxRule("pro", "business", ("IVA21", "IRPF15")),
    TaxRule(ANY, "eu", ("IVA0_EU",)),
    TaxRule("ipi", ANY, ("ICMS18", "IPI10", "PIS1_65"), cfop="5102"),
]


def line(key, quantity, price, category="standard", discount="0"):
    return LineInput(
        key=key, quantity=D(quantity), unit_price=D(price), discount_percent=D(discount), tax_category=category
    )


def compute(lines, position="domestic", rounding="line", rules=RULES, taxes=TAXES):
    return taxes_compute(lines=lines, taxes=taxes, rules=rules, fiscal_position=position, rounding=rounding)


def amounts(result: DocumentTaxes, code: str) -> list[Decimal]:
    return [tax.amount for ln in result.lines for tax in ln.taxes if tax.code == code]


def summary_of(result: DocumentTaxes) -> dict[str, tuple[Decimal, Decimal]]:
    return {tax.code: (tax.base, tax.amount) for tax in result.summary}


# ---------------------------------------------------------------------------------------------
# Rounding


def test_per_line_and_per_document_rounding_differ_by_a_cent():
    lines = [line("a", "1", "1.05", "reduced"), line("b", "1", "1.05", "reduced")]
    # Per line: 1.05 × 10 % = 0.105 -> 0.11 on each line; 0.11 + 0.11 = 0.22.
    by_line = compute(lines, rounding="line")
    assert amounts(by_line, "IVA10") == [D("0.11"), D("0.11")]
    assert summary_of(by_line) == {"IVA10": (D("2.10"), D("0.22"))}
    assert (by_line.net_total, by_line.tax_total, by_line.grand_total) == (D("2.10"), D("0.22"), D("2.32"))
    # Per document: 2.10 × 10 % = 0.21, once. Spread back: both lines 0.10 rounded down, the one
    # cent left goes to the first line (equal losses of 0.005).
    by_document = compute(lines, rounding="document")
    assert summary_of(by_document) == {"IVA10": (D("2.10"), D("0.21"))}
    assert amounts(by_document, "IVA10") == [D("0.11"), D("0.10")]
    assert [ln.total for ln in by_document.lines] == [D("1.16"), D("1.15")]
    assert (by_document.tax_total, by_document.grand_total, by_document.payable) == (D("0.21"), D("2.31"), D("2.31"))
    assert by_document.rounding == "document"


def test_both_roundings_agree_when_the_half_cents_do_not_add_up():
    lines = [line(key, "1", "0.15") for key in "abc"]
    # Per line 0.15 × 21 % = 0.0315 -> 0.03, three times 0.09; per document 0.45 × 21 % = 0.0945 -> 0.09.
    for rounding in ("line", "document"):
        result = compute(lines, rounding=rounding)
        assert amounts(result, "IVA21") == [D("0.03")] * 3
        assert (result.tax_total, result.grand_total) == (D("0.09"), D("0.54"))


def test_document_rounding_gives_the_cents_left_to_the_lines_that_lost_most():
    lines = [line("a", "1", "1.04", "reduced"), line("b", "1", "1.06", "reduced"), line("c", "1", "1.04", "reduced")]
    # Exact 0.104 + 0.106 + 0.104 = 0.314 -> 0.31. Rounded down 0.10 each = 0.30; the cent left
    # goes to b, which lost 0.006 (a and c lost 0.004).
    result = compute(lines, rounding="document")
    assert amounts(result, "IVA10") == [D("0.10"), D("0.11"), D("0.10")]
    assert summary_of(result) == {"IVA10": (D("3.14"), D("0.31"))}


def test_document_rounding_never_gives_a_line_more_than_a_cent_over_its_exact_tax():
    lines = [line(key, "1", "0.05", "reduced") for key in "abc"]
    # Each line 0.05 × 10 % = 0.005. Per line: 0.01 × 3 = 0.03. Per document: 0.15 × 10 % = 0.015
    # -> 0.02, spread as 0.01, 0.01, 0.00 (earlier lines first on equal losses).
    assert amounts(compute(lines, rounding="line"), "IVA10") == [D("0.01")] * 3
    result = compute(lines, rounding="document")
    assert amounts(result, "IVA10") == [D("0.01"), D("0.01"), D("0.00")]
    assert result.tax_total == D("0.02")


@pytest.mark.parametrize("rounding", ["line", "document"])
def test_half_a_cent_rounds_up_not_to_even(rounding):
    # 2.50 × 21 % = 0.525 -> 0.53 (banker's rounding would give 0.52).
    result = compute([line("a", "1", "2.50")], rounding=rounding)
    assert amounts(result, "IVA21") == [D("0.53")]
    assert result.grand_total == D("3.03")
    # The net amount too: 1 × 0.125 = 0.125 -> 0.13 (not 0.12); 0.13 × 10 % = 0.013 -> 0.01.
    result = compute([line("a", "1", "0.125", "reduced")], rounding=rounding)
    assert (result.net_total, result.tax_total, result.grand_total) == (D("0.13"), D("0.01"), D("0.14"))


def test_discount_is_taken_off_the_net_before_tax():
    # 3 × 19.99 = 59.97, less 10 % = 53.973 -> 53.97; IVA 21 % = 11.3337 -> 11.33; total 65.30.
    result = compute([line("a", "3", "19.99", discount="10")])
    assert result.lines == (
        LineTaxes(
            key="a",
            net_amount=D("53.97"),
            taxes=(
                TaxLine(
                    code="IVA21",
                    family="IVA",
                    rate=D("21"),
                    base=D("53.97"),
                    amount=D("11.33"),
                    withheld=False,
                    included=False,
                    category="S",
                ),
            ),
            total=D("65.30"),
        ),
    )
    assert (result.net_total, result.tax_total, result.grand_total) == (D("53.97"), D("11.33"), D("65.30"))


def test_full_discount_and_free_lines_carry_zero_tax():
    result = compute([line("a", "2", "10", discount="100"), line("b", "1", "0")])
    assert amounts(result, "IVA21") == [D("0.00"), D("0.00")]
    assert (result.net_total, result.grand_total) == (D("0.00"), D("0.00"))


# ---------------------------------------------------------------------------------------------
# Kinds of tax


def test_taxes_added_on_top_sum_per_code_over_the_lines():
    result = compute(
        [line("a", "2", "50.00"), line("b", "1", "30.00", "reduced"), line("c", "1", "100.00")],
        position="retailer",
    )
    # a: 100.00 -> IVA 21.00, RE 5.20. b: reduced has no retailer rule, so the "*" one: IVA10 3.00.
    # c: 100.00 -> IVA 21.00, RE 5.20.
    assert summary_of(result) == {
        "IVA21": (D("200.00"), D("42.00")),
        "RE5_2": (D("200.00"), D("10.40")),
        "IVA10": (D("30.00"), D("3.00")),
    }
    assert (result.net_total, result.tax_total, result.grand_total) == (D("230.00"), D("55.40"), D("285.40"))
    assert [ln.total for ln in result.lines] == [D("126.20"), D("33.00"), D("126.20")]


def test_withheld_tax_lowers_what_is_payable_not_the_invoice_total():
    # 1,000.00 of professional services to a business: IVA 210.00, IRPF 150.00 withheld.
    result = compute([line("a", "1", "1000.00", "pro")], position="business")
    assert summary_of(result) == {"IVA21": (D("1000.00"), D("210.00")), "IRPF15": (D("1000.00"), D("150.00"))}
    assert [tax.withheld for tax in result.summary] == [False, True]
    assert (result.tax_total, result.withheld_total, result.grand_total, result.payable) == (
        D("210.00"),
        D("150.00"),
        D("1210.00"),
        D("1060.00"),
    )
    assert result.lines[0].total == D("1210.00")


def test_price_included_tax_is_inside_the_net_amount():
    # 2 × 100.00 to a contribuinte: ICMS 18 % of 200.00 = 36.00 and PIS 1.65 % = 3.30, both
    # inside the 200.00; IPI 10 % = 20.00 on top.
    result = compute([line("a", "2", "100.00", "ipi")], position=POSITION_CONTRIBUINTE_SAME_STATE)
    assert summary_of(result) == {
        "ICMS18": (D("200.00"), D("36.00")),
        "IPI10": (D("200.00"), D("20.00")),
        "PIS1_65": (D("200.00"), D("3.30")),
    }
    assert [(tax.code, tax.included, tax.situation) for tax in result.lines[0].taxes] == [
        ("ICMS18", True, "00"),
        ("IPI10", False, "50"),
        ("PIS1_65", True, "01"),
    ]
    assert (result.net_total, result.tax_total, result.included_tax_total) == (D("200.00"), D("20.00"), D("39.30"))
    assert (result.grand_total, result.payable) == (D("220.00"), D("220.00"))
    assert result.cfop_by_line == {"a": "5102"}
    assert result.lines[0].cfop == "5102"


@pytest.mark.parametrize("position", [POSITION_CONSUMER_SAME_STATE, POSITION_CONSUMER_OTHER_STATE])
@pytest.mark.parametrize("rounding", ["line", "document"])
def test_icms_base_includes_ipi_on_sales_to_final_consumers(position, rounding):
    # 2 × 100.00 to a consumer: IPI 20.00, so the ICMS base is 220.00 -> 18 % = 39.60. PIS keeps
    # the 200.00 base. The total is still 220.00: ICMS is inside the price.
    result = compute([line("a", "2", "100.00", "ipi")], position=position, rounding=rounding)
    assert summary_of(result) == {
        "ICMS18": (D("220.00"), D("39.60")),
        "IPI10": (D("200.00"), D("20.00")),
        "PIS1_65": (D("200.00"), D("3.30")),
    }
    assert (result.tax_total, result.included_tax_total, result.grand_total) == (D("20.00"), D("42.90"), D("220.00"))


def test_icms_base_takes_each_lines_own_rounded_ipi():
    # a: 0.35 × 10 % = 0.035 -> IPI 0.04, ICMS base 0.39 -> 18 % = 0.0702 -> 0.07.
    # b: 10.00 -> IPI 1.00, ICMS base 11.00 -> 1.98.
    result = compute(
        [line("a", "1", "0.35", "ipi"), line("b", "1", "10.00", "ipi")], position=POSITION_CONSUMER_SAME_STATE
    )
    assert [tax.base for ln in result.lines for tax in ln.taxes if tax.code == "ICMS18"] == [D("0.39"), D("11.00")]
    assert amounts(result, "ICMS18") == [D("0.07"), D("1.98")]
    assert summary_of(result)["ICMS18"] == (D("11.39"), D("2.05"))


def test_zero_rated_tax_keeps_its_category_and_legal_mention_once():
    result = compute([line("a", "1", "80.00"), line("b", "2", "10.00", "reduced")], position="eu")
    assert result.summary == (
        TaxLine(
            code="IVA0_EU",
            family="IVA",
            rate=D("0"),
            base=D("100.00"),
            amount=D("0.00"),
            withheld=False,
            included=False,
            category="K",
            legal_mention="Intra-Community supply.",
        ),
    )
    assert result.legal_mentions == ("Intra-Community supply.",)
    assert (result.tax_total, result.grand_total) == (D("0.00"), D("100.00"))


def test_a_document_without_lines_is_all_zero():
    result = compute([])
    assert (result.lines, result.summary, result.grand_total, result.payable) == ((), (), D("0.00"), D("0.00"))


# ---------------------------------------------------------------------------------------------
# Rules


def test_the_most_specific_rule_wins_the_fiscal_position_before_the_category():
    wildcard = TaxRule(ANY, ANY, ("IVA21",))
    by_category = TaxRule("food", ANY, ("IVA10",), priority=9)
    by_position = TaxRule(ANY, "eu", ("IVA0_EU",))
    by_both = TaxRule("food", "retailer", ("IVA10", "RE5_2"))
    rules = [wildcard, by_category, by_position, by_both]
    assert rules_select(rules, tax_category="food", fiscal_position="retailer") is by_both
    assert rules_select(rules, tax_category="food", fiscal_position="domestic") is by_category
    # The position's exception beats the product's usual tax, whatever the priority.
    assert rules_select(rules, tax_category="food", fiscal_position="eu") is by_position
    assert rules_select(rules, tax_category="toys", fiscal_position="retailer") is wildcard


def test_priority_decides_between_equally_specific_rules():
    low = TaxRule("food", ANY, ("IVA10",))
    high = TaxRule("food", ANY, ("IVA21",), priority=1)
    assert rules_select([low, high], tax_category="food", fiscal_position="domestic") is high


def test_two_rules_that_fit_equally_well_are_refused():
    rules = [TaxRule("food", ANY, ("IVA10",)), TaxRule("food", ANY, ("IVA21",))]
    with pytest.raises(TaxConfigurationError) as caught:
        rules_select(rules, tax_category="food", fiscal_position="eu")
    assert caught.value.code == "tax_rule_ambiguous"
    assert caught.value.message == (
        "Two tax rules apply equally to tax category “food” and fiscal position “eu”; "
        "give one of them a higher priority."
    )


def test_a_line_without_a_rule_is_refused_with_the_category_and_position():
    with pytest.raises(TaxRuleMissing) as caught:
        compute([line("a", "1", "10"), line("b", "1", "10", "luxury")], position="domestic")
    error = caught.value
    assert isinstance(error, DomainError) and (error.code, error.status) == ("tax_rule_missing", 422)
    message = "No tax rule applies to tax category “luxury” for fiscal position “domestic”."
    assert error.message == message
    assert error.fields == {"lines.1.tax_category": [message]}
    assert error.details == [{"tax_category": "luxury", "fiscal_position": "domestic"}]


def test_rules_select_alone_refuses_when_nothing_matches():
    with pytest.raises(TaxRuleMissing):
        rules_select([TaxRule("food", "domestic", ("IVA10",))], tax_category="food", fiscal_position="eu")


def test_a_rule_naming_an_unknown_tax_is_refused():
    with pytest.raises(TaxConfigurationError) as caught:
        compute([line("a", "1", "10")], rules=[TaxRule(ANY, ANY, ("IVA21", "IVA99"))])
    assert caught.value.code == "tax_unknown"
    assert caught.value.message == "The tax rule for “*” and “*” names the tax “IVA99”, which does not exist."


@pytest.mark.parametrize(
    "tax, message",
    [
        (TaxDef(code="X", family="X", rate=D("-1")), "The tax “X” has a negative rate."),
        (
            TaxDef(code="X", family="X", rate=D("1"), withheld=True, price_included=True),
            "The tax “X” cannot be both withheld and included in the price.",
        ),
    ],
)
def test_impossible_taxes_are_refused(tax, message):
    with pytest.raises(TaxConfigurationError) as caught:
        compute([line("a", "1", "10")], taxes={"X": tax}, rules=[TaxRule(ANY, ANY, ("X",))])
    assert caught.value.message == message


def test_a_rule_naming_a_tax_twice_is_refused():
    with pytest.raises(TaxConfigurationError):
        compute([line("a", "1", "10")], rules=[TaxRule(ANY, ANY, ("IVA21", "IVA21"))])


# ---------------------------------------------------------------------------------------------
# Bad lines


def test_zero_quantity_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        compute([line("a", "1", "10"), line("b", "0", "10")])
    assert caught.value.fields == {"lines.1.quantity": ["Enter a quantity greater than zero."]}


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationFailed) as caught:
        compute([line("a", "-1", "-0.01", discount="100.01"), line("a", "NaN", "1", category="")])
    assert caught.value.fields == {
        "lines.0.quantity": ["Enter a quantity greater than zero."],
        "lines.0.unit_price": ["Enter a price of zero or more."],
        "lines.0.discount_percent": ["Enter a discount between 0 and 100 %."],
        "lines.1.quantity": ["Enter a quantity greater than zero."],
        "lines.1.key": ["Each line needs its own key."],
        "lines.1.tax_category": ["Choose a tax category."],
    }


def test_floats_are_a_programming_error():
    bad = LineInput(key="a", quantity=1.5, unit_price=D("1"), discount_percent=D("0"), tax_category="standard")
    with pytest.raises(TypeError):
        compute([bad])


def test_unknown_rounding_is_a_programming_error():
    with pytest.raises(ValueError):
        compute([line("a", "1", "10")], rounding="banker")


# ---------------------------------------------------------------------------------------------
# Invariants

quantities = st.integers(min_value=1, max_value=100_000).map(lambda n: D(n) / 1000)  # 0.001 .. 100
prices = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n) / 10_000)  # 0 .. 1,000 by 0.0001
discounts = st.integers(min_value=0, max_value=10_000).map(lambda n: D(n) / 100)
line_inputs = st.lists(
    st.tuples(quantities, prices, discounts, st.sampled_from(["standard", "reduced", "pro", "ipi"])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    raw=line_inputs,
    position=st.sampled_from(["domestic", "retailer", "business", POSITION_CONSUMER_SAME_STATE]),
    rounding=st.sampled_from(["line", "document"]),
)
def test_totals_are_the_sums_of_the_lines_and_the_rounding_is_where_it_says(raw, position, rounding):
    lines = [
        LineInput(key=str(i), quantity=q, unit_price=p, discount_percent=d, tax_category=c)
        for i, (q, p, d, c) in enumerate(raw)
    ]
    result = compute(lines, position=position, rounding=rounding)

    nets = [round_money(q * p * (100 - d) / 100) for q, p, d, _c in raw]
    assert [ln.net_amount for ln in result.lines] == nets
    assert result.net_total == sum(nets)
    for tax in result.summary:
        on_lines = [t for ln in result.lines for t in ln.taxes if t.code == tax.code]
        assert tax.amount == sum(t.amount for t in on_lines)
        assert tax.base == sum(t.base for t in on_lines)
        for t in on_lines:
            exact = t.base * t.rate / 100
            if rounding == "line":
                assert t.amount == round_money(exact)
            else:
                assert abs(t.amount - exact) < D("0.01")
        if rounding == "document":
            assert tax.amount == round_money(tax.base * tax.rate / 100)
    for ln in result.lines:
        added = sum((t.amount for t in ln.taxes if not t.included and not t.withheld), D(0))
        assert ln.total == ln.net_amount + added
    assert result.tax_total == sum(t.amount for t in result.summary if not t.included and not t.withheld)
    assert result.withheld_total == sum(t.amount for t in result.summary if t.withheld)
    assert result.included_tax_total == sum(t.amount for t in result.summary if t.included)
    assert result.grand_total == result.net_total + result.tax_total == sum(ln.total for ln in result.lines)
    assert result.payable == result.grand_total - result.withheld_total
    for amount in (result.grand_total, result.payable, *(t.amount for t in result.summary)):
        assert amount == amount.quantize(D("0.01"))
