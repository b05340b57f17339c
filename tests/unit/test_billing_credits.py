"""Credit-note arithmetic (no AWS): GST on a credit, and credits that always add up to the invoice."""

from decimal import Decimal

import pytest

from sitegate import billing


def _left(subtotal: str, gst: str) -> billing.Left:
    return billing.Left(Decimal(subtotal), Decimal(gst), Decimal(subtotal) + Decimal(gst))


@pytest.mark.parametrize(("amount", "gst"), [("10.01", "1.50"), ("10.03", "1.50"), ("10.04", "1.51"),
                                             ("0.03", "0.00"), ("0.04", "0.01")])
def test_a_credits_gst_is_half_up_on_its_amount(amount, gst):
    assert billing.credit_gst(Decimal(amount), _left("529.50", "79.43"), Decimal("0.15")) == Decimal(gst)


def test_crediting_all_that_is_left_takes_exactly_the_gst_left():
    # 529.50 at 15% is 79.425 -> 79.43 on the invoice; a credit of it all must not be 79.42 or 79.43 by chance
    left = _left("529.50", "79.43")
    assert billing.credit_gst(Decimal("529.50"), left, Decimal("0.15")) == Decimal("79.43")


def test_many_small_credits_then_the_rest_add_up_to_the_invoice_to_the_cent():
    subtotal, gst = Decimal("529.50"), Decimal("79.43")
    credited_sub, credited_gst = Decimal(0), Decimal(0)
    for _ in range(52):  # 52 credits of 10.03 (GST 1.5045 -> 1.50 each)
        left = billing.Left(subtotal - credited_sub, gst - credited_gst, subtotal + gst - credited_sub - credited_gst)
        credited_gst += billing.credit_gst(Decimal("10.03"), left, Decimal("0.15"))
        credited_sub += Decimal("10.03")
    left = billing.Left(subtotal - credited_sub, gst - credited_gst, subtotal + gst - credited_sub - credited_gst)
    last_gst = billing.credit_gst(left.subtotal, left, Decimal("0.15"))
    assert credited_sub + left.subtotal == subtotal
    assert credited_gst + last_gst == gst


def test_a_credit_never_takes_more_gst_than_is_left():
    left = billing.Left(Decimal("100.00"), Decimal("0.01"), Decimal("100.01"))
    assert billing.credit_gst(Decimal("50.00"), left, Decimal("0.15")) == Decimal("0.01")


def test_a_line_credit_is_rounded_down_as_lines_are():
    assert billing.line_credit(Decimal("0.33"), Decimal("60.00")) == Decimal("19.80")
    assert billing.line_credit(Decimal("0.333"), Decimal("60.00")) == Decimal("19.98")


def test_the_supply_is_described_by_its_month():
    assert billing.supply_of("2026-09") == "SiteGate site access control: active user-days in September 2026"
