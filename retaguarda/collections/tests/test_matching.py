"""Match proposals between statement lines and open items: exact proposals for each signal."""

import random
import time
from datetime import date
from decimal import Decimal

from retaguarda.collections.matching import (
    PAYABLE,
    OpenItem,
    Proposal,
    name_key,
    names_similar,
    proposals_for,
    reference_key,
)
from retaguarda.collections.statements import StatementLine

D = Decimal
GARCIA_IBAN = "ES6000750001830209876543"
ANA_IBAN = "ES2301825322230209876543"


def item(key, party_id, party_name, number, residual, due, *, reference="", currency="EUR", side="receivable"):
    return OpenItem(
        key=key,
        party_id=party_id,
        party_name=party_name,
        number=number,
        reference=reference,
        residual=D(residual),
        due_date=date(2026, 2, due),
        currency=currency,
        side=side,
    )


ITEMS = [
    item(1, 10, "Distribuciones García S.L.", "F2026-000123", "1210.00", 1),
    item(2, 10, "Distribuciones García S.L.", "F2026-000126", "300.00", 10),
    item(3, 10, "Distribuciones García S.L.", "F2026-000127", "200.00", 15),
    item(4, 20, "Hostal Brisa SL", "F2026-000125", "500.00", 5),
    item(5, 30, "Ana Martínez Ruiz", "F2026-000124", "1000.00", 3),
    item(6, 50, "Padaria Pão Quente Ltda", "000457", "350.75", 20, reference="RTG2026NF000457", currency="BRL"),
    item(7, 60, "Mercado Azul Ltda", "F2026-000200", "250.50", 20),
    item(101, 40, "Suministros López SA", "7788", "250.50", 25, side=PAYABLE),
]
IBANS = {"ES60 0075 0001 8302 0987 6543": 10, ANA_IBAN: 30}


def line(amount, reference="", *, name="", account="", currency="EUR"):
    return StatementLine(
        booking_date=date(2026, 3, 2),
        value_date=None,
        amount=D(amount),
        currency=currency,
        counterparty_name=name,
        counterparty_account=account,
        reference=reference,
        bank_reference="ref",
        raw={},
    )


def test_reference_amount_iban_and_name_together():
    lines = [line("1210.00", "PAGO FRA F2026-000123", name="DISTRIBUCIONES GARCIA SL", account=GARCIA_IBAN)]
    assert proposals_for(lines, ITEMS, IBANS) == [
        Proposal(
            line_index=0, items=((1, D("1210.00")),), score=115, reasons=("reference", "amount", "iban", "party_name")
        )
    ]


def test_reference_is_found_whatever_the_case_spaces_and_dashes():
    lines = [line("500.00", "transferencia f2026 000125 gracias"), line("1000.00", "F2026/000124")]
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=0, items=((4, D("500.00")),), score=80, reasons=("reference", "amount")),
        Proposal(line_index=1, items=((5, D("1000.00")),), score=80, reasons=("reference", "amount")),
    ]


def test_reference_inside_a_longer_number_does_not_match():
    assert proposals_for([line("123.45", "F2026-0001234")], ITEMS) == []


def test_partial_payment_by_reference_applies_the_line_amount_only():
    assert proposals_for([line("700.00", "F2026-000123")], ITEMS) == [
        Proposal(line_index=0, items=((1, D("700.00")),), score=50, reasons=("reference",))
    ]


def test_overpayment_by_reference_never_applies_more_than_the_residual():
    [proposal] = proposals_for([line("1300.00", "F2026-000123")], ITEMS)
    assert proposal.items == ((1, D("1210.00")),)
    assert proposal.amount == D("1210.00")


def test_several_references_in_one_line_are_split_oldest_first():
    lines = [line("450.00", "Facturas F2026-000127 y F2026-000126", name="GARCIA & HIJOS SL")]
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=0, items=((2, D("300.00")), (3, D("150.00"))), score=50, reasons=("reference",))
    ]


def test_pix_txid_printed_on_the_invoice_matches():
    lines = [line("350.75", "PIX RTG2026NF000457", name="Padaria Pao Quente", currency="BRL")]
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=0, items=((6, D("350.75")),), score=90, reasons=("reference", "amount", "party_name"))
    ]


def test_exact_amount_alone_beats_a_combination_of_another_party():
    # 500.00 is item 4's residual, and also items 2 + 3 of party 10: the single item wins.
    assert proposals_for([line("500.00", "TRANSFERENCIA")], ITEMS) == [
        Proposal(line_index=0, items=((4, D("500.00")),), score=30, reasons=("amount",))
    ]


def test_items_of_one_party_adding_up_to_the_amount():
    lines = [line("500.00", "TRANSFERENCIA", account=GARCIA_IBAN)]
    assert proposals_for(lines, ITEMS, IBANS) == [
        Proposal(line_index=0, items=((2, D("300.00")), (3, D("200.00"))), score=45, reasons=("amount", "iban"))
    ]


def test_known_iban_restricts_amount_matches_to_its_party():
    # Item 4 (another party) owes exactly 500.00, but the money came from Ana: her oldest item.
    lines = [line("500.00", "TRANSFERENCIA", account=ANA_IBAN)]
    assert proposals_for(lines, ITEMS, IBANS) == [
        Proposal(line_index=0, items=((5, D("500.00")),), score=25, reasons=("iban",))
    ]


def test_party_name_alone_is_the_weakest_proposal():
    assert proposals_for([line("100.00", "", name="Hostal Brisa, S.L.")], ITEMS) == [
        Proposal(line_index=0, items=((4, D("100.00")),), score=10, reasons=("party_name",))
    ]


def test_party_name_written_in_the_reference_text():
    assert proposals_for([line("99.00", "TRANSFERENCIA DE HOSTAL BRISA SL")], ITEMS) == [
        Proposal(line_index=0, items=((4, D("99.00")),), score=10, reasons=("party_name",))
    ]


def test_one_item_goes_to_one_line_by_score_not_by_position():
    lines = [line("1210.00", "TRANSFERENCIA"), line("1210.00", "F2026-000123")]
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=1, items=((1, D("1210.00")),), score=80, reasons=("reference", "amount"))
    ]


def test_equal_scores_go_to_the_earlier_line_and_the_next_best_to_the_other():
    lines = [line("500.00", "TRANSFERENCIA A"), line("500.00", "TRANSFERENCIA B")]
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=0, items=((4, D("500.00")),), score=30, reasons=("amount",)),
        Proposal(line_index=1, items=((2, D("300.00")), (3, D("200.00"))), score=20, reasons=("amount",)),
    ]


def test_money_out_matches_payables_only():
    lines = [line("-250.50", "Factura proveedor 7788", name="SUMINISTROS LOPEZ SA"), line("250.50", "COBRO")]
    # "7788" is too short a number to be trusted as a reference; the amount and name are.
    assert proposals_for(lines, ITEMS) == [
        Proposal(line_index=0, items=((101, D("250.50")),), score=40, reasons=("amount", "party_name")),
        Proposal(line_index=1, items=((7, D("250.50")),), score=30, reasons=("amount",)),
    ]


def test_other_currency_and_zero_lines_get_nothing():
    lines = [line("1210.00", "F2026-000123", currency="BRL"), line("0.00", "F2026-000124")]
    assert proposals_for(lines, ITEMS) == []


def test_combinations_are_bounded_in_size():
    # Five items of 100.00 make 500.00, but combinations stop at four items: only the known
    # IBAN proposes the oldest items up to the amount.
    items = [item(k, 70, "Cinco Facturas SL", f"G-{k:06d}", "100.00", k) for k in range(1, 6)]
    lines = [line("500.00", "TRANSFERENCIA", account=GARCIA_IBAN)]
    assert proposals_for(lines, items, {GARCIA_IBAN: 70}) == [
        Proposal(
            line_index=0,
            items=tuple((k, D("100.00")) for k in range(1, 6)),
            score=25,
            reasons=("iban",),
        )
    ]


def test_large_ledgers_stay_bounded():
    # 60 parties with 30 items of 7.00 each: four of them come within a cent of 27.99 without
    # ever reaching it, the worst case for the search, which stops at its step budget.
    items = [
        item(p * 100 + k, p, f"Cliente {p}", f"H-{p:03d}-{k:04d}", "7.00", 1 + k % 28)
        for p in range(1, 61)
        for k in range(30)
    ]
    started = time.perf_counter()
    assert proposals_for([line("27.99", "TRANSFERENCIA")] * 20, items) == []
    assert time.perf_counter() - started < 5


def test_proposals_do_not_depend_on_input_order():
    lines = [
        line("500.00", "TRANSFERENCIA A"),
        line("500.00", "TRANSFERENCIA B"),
        line("1210.00", "PAGO F2026-000123", account=GARCIA_IBAN),
        line("100.00", "", name="Ana Martinez Ruiz"),
    ]
    expected = proposals_for(lines, ITEMS, IBANS)
    shuffled = list(ITEMS)
    random.Random(7).shuffle(shuffled)
    assert proposals_for(lines, shuffled, IBANS) == expected
    assert [p.line_index for p in expected] == [0, 1, 2, 3]


def test_normalisation_helpers():
    assert reference_key(" f2026-000.123/ ") == "F2026000123"
    assert name_key("Distribuciones García, S.L.U.") == "distribuciones garcia"
    assert name_key("Padaria Pão Quente Ltda - ME") == "padaria pao quente"
    assert names_similar("distribuciones garcia", "distribuciones garcia hermanos")
    assert not names_similar("hostal brisa", "hostal mar")
    assert not names_similar("", "hostal brisa")
