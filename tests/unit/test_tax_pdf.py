"""Tax invoice and credit note PDFs (sitegate.tax_pdf), read back with pypdf: what a reader of the
document must find on it, drafts marked as drafts, text Helvetica cannot show replaced without a
crash, long text kept on the page, and many lines flowing onto further pages."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from sitegate.tax_pdf import DocLine, Party, TaxDocument, money, pdf_text, percent, render

A4_WIDTH_PT = 595.28
RIGHT_MARGIN_PT = 18 / 25.4 * 72

SUPPLIER = Party("SiteGate Limited", gst_number="123-456-789",
                 address="Level 2, 10 Customhouse Quay\nWellington 6011\nNew Zealand")
BUYER = Party("Cable World Construction Limited", address="12 Queen Street\nAuckland 1010",
              nzbn="9429041234567", email="accounts@cableworld.co.nz")
LINES = [DocLine("Office users", 61, "3.66", "60.00", "219.60"), DocLine("Site users", 30, "1.00", "25.00", "25.00")]


def invoice(**changes: Any) -> TaxDocument:
    doc = TaxDocument(
        kind="invoice", number="INV-000001", draft=False, issue_date="2026-10-04", period="2026-09",
        supplier=SUPPLIER, buyer=BUYER,
        description="SiteGate site access, September 2026: active user-days", currency="NZD", lines=LINES,
        subtotal="244.60", gst_rate="0.15", gst="36.69", total="281.29",
    )
    return dataclasses.replace(doc, **changes)


def draft(**changes: Any) -> TaxDocument:
    return invoice(**{"draft": True, "number": None, "issue_date": None, **changes})


def credit_note(**changes: Any) -> TaxDocument:
    fields: dict[str, Any] = {"kind": "credit_note", "number": "CN-000001", "invoice_number": "INV-000001",
                              "reason": "Duplicate user-days for 3 September"}
    return invoice(**{**fields, **changes})


def pages(data: bytes) -> list[str]:
    """Each page's text, whitespace collapsed to single spaces."""
    assert data.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return " ".join(pages(data))


# --- what the document says ------------------------------------------------------------------

def test_a_tax_invoice_shows_heading_parties_number_date_lines_and_totals():
    text = text_of(render(invoice()))
    assert text.startswith("Tax invoice")
    for expected in [
        "SiteGate Limited", "Level 2, 10 Customhouse Quay", "Wellington 6011", "GST number 123-456-789",
        "Bill to", "Cable World Construction Limited", "12 Queen Street", "Auckland 1010",
        "NZBN 9429041234567", "accounts@cableworld.co.nz",
        "Invoice number INV-000001", "Date of issue 4 October 2026", "Period September 2026",
        "SiteGate site access, September 2026: active user-days",
        "Description User-days Quantity Unit price (NZD) Amount (NZD)",
        "Office users 61 3.66 $60.00 $219.60", "Site users 30 1.00 $25.00 $25.00",
        "Subtotal (excl. GST) $244.60", "GST at 15% $36.69", "Total (incl. GST) NZD $281.29",
        "Page 1 of 1",
    ]:
        assert expected in text
    assert "Credit" not in text


def test_the_pdf_title_names_the_document():
    meta = PdfReader(io.BytesIO(render(invoice()))).metadata
    assert meta is not None
    assert meta.title == "Tax invoice INV-000001, September 2026"
    assert meta.author == "SiteGate Limited"
    assert meta.creation_date == datetime(2026, 10, 4, tzinfo=UTC)  # from the issue date: same document, same bytes


def test_a_final_document_is_not_marked_draft():
    text = text_of(render(invoice()))
    assert "DRAFT" not in text
    assert "Draft" not in text
    assert "not a tax invoice" not in text


def test_a_draft_is_watermarked_and_says_it_is_not_a_tax_invoice():
    data = render(draft())
    text = text_of(data)
    assert "DRAFT" in text
    assert "Draft invoice" in text
    assert "Draft: not a tax invoice" in text
    assert "Tax invoice" not in text
    assert "Invoice number Not yet assigned" in text
    assert "Date of issue Not yet issued" in text
    assert "Office users 61 3.66 $60.00 $219.60" in text
    assert "Total (incl. GST) NZD $281.29" in text
    assert PdfReader(io.BytesIO(data)).metadata.title == "Draft invoice, September 2026"  # type: ignore[union-attr]


def test_every_page_of_a_long_draft_is_watermarked():
    lines = [DocLine(f"Line {i}", i, "1.00", "1.00", f"{i}.00") for i in range(1, 41)]
    texts = pages(render(draft(lines=lines)))
    assert len(texts) > 1
    assert all("DRAFT" in page for page in texts)
    assert sum(page.count("Draft: not a tax invoice") for page in texts) == 1


def test_a_credit_note_names_the_invoice_it_credits_and_why():
    text = text_of(render(credit_note()))
    assert text.startswith("Credit note")
    assert "Credit note number CN-000001" in text
    assert "Credits invoice INV-000001" in text
    assert "Reason: Duplicate user-days for 3 September" in text
    assert "Total (incl. GST) NZD $281.29" in text
    assert "Tax invoice" not in text


def test_a_draft_credit_note_says_it_is_not_a_credit_note():
    text = text_of(render(credit_note(draft=True, number=None, issue_date=None)))
    assert "DRAFT" in text
    assert "Draft credit note" in text
    assert "Draft: not a credit note" in text
    assert "Credits invoice INV-000001" in text


def test_optional_buyer_details_are_left_out_when_absent():
    text = text_of(render(invoice(buyer=Party("Solo Builder"))))
    assert "Bill to Solo Builder" in text
    assert "NZBN" not in text
    assert "@" not in text


def test_a_draft_without_parties_or_lines_still_renders():
    text = text_of(render(draft(supplier=Party(None), buyer=Party(None), lines=[])))
    assert "Draft: not a tax invoice" in text
    assert "Bill to" in text
    assert "GST number" not in text
    assert "Description User-days Quantity Unit price (NZD) Amount (NZD)" in text
    assert "Total (incl. GST) NZD $281.29" in text


def test_other_gst_rates_and_large_amounts_are_shown_as_read():
    lines = [DocLine("Office users", 1234567, "12345.6789", "1234567.00", "1234567890.00")]
    text = text_of(render(invoice(lines=lines, gst_rate="0.125", subtotal="1234567890.00", gst="154320986.25",
                                  total="1388888876.25")))
    assert "Office users 1,234,567 12,345.6789 $1,234,567.00 $1,234,567,890.00" in text
    assert "GST at 12.5% $154,320,986.25" in text
    assert "Total (incl. GST) NZD $1,388,888,876.25" in text


def test_the_same_document_renders_the_same_bytes():
    assert render(invoice()) == render(invoice())


@pytest.mark.parametrize("doc", [invoice(kind="quote"), invoice(number=None), invoice(issue_date=None)])
def test_unknown_kinds_and_final_documents_without_number_or_date_are_refused(doc):
    with pytest.raises(ValueError, match=r"kind|number"):
        render(doc)


# --- text Helvetica cannot show ----------------------------------------------------------------

def test_text_outside_latin_1_does_not_crash_and_the_rest_is_still_there():
    buyer = Party("Māori Construction 🏗️ Ltd", address="1 Kōwhai Street\nŌtautahi Christchurch 8011",
                  nzbn="9429041234567", email="accounts@māori.example")
    lines = [DocLine("Office users 😀 中文", 61, "3.66", "60.00", "219.60"), LINES[1]]
    description = "Site access — \u201cSeptember\u201d \u20182026\u2019 • ≥ 5 users"
    data = render(invoice(buyer=buyer, lines=lines, description=description))
    text = text_of(data)
    for expected in ["Bill to Maori Construction ? Ltd", "1 Kowhai Street", "Otautahi Christchurch 8011",
                     "NZBN 9429041234567", "accounts@maori.example", "Office users ? ?? 61 3.66 $60.00 $219.60",
                     "Site access — \u201cSeptember\u201d \u20182026\u2019 • ? 5 users", "Invoice number INV-000001",
                     "Total (incl. GST) NZD $281.29"]:
        assert expected in text
    supplier = Party("Ngā Hau e Whā Limited", gst_number="123-456-789")
    meta = PdfReader(io.BytesIO(render(invoice(supplier=supplier)))).metadata
    assert meta is not None
    assert meta.author == "Ngā Hau e Whā Limited"  # metadata is Unicode: kept as given


CP1252_PUNCTUATION = "\u201cSmart\u201d \u2018quotes\u2019 \u2013 dashes — € … •"


@pytest.mark.parametrize(("given", "shown"), [
    ("Māori", "Maori"), ("ĀĒĪŌŪ āēīōū", "AEIOU aeiou"),
    ("Ma\u0304ori", "Maori"),  # decomposed macron
    ("Café Crème Brûlée", "Café Crème Brûlée"),  # Latin-1 kept
    (CP1252_PUNCTUATION, CP1252_PUNCTUATION),  # Windows-1252 kept
    ("non\u2011breaking \u2212minus", "non-breaking -minus"),
    ("\uff23\uff41\uff42\uff4c\uff45", "Cable"),  # full-width letters
    ("zero\u200bwidth\u200d joiner", "zerowidth joiner"),
    ("thin\u2009space", "thin space"),
    ("emoji 😀 👍🏽 ❤️", "emoji ? ? ?"),
    ("中文", "??"),
    ("tab\there\x00null", "tab here null"),
    ("two\nlines", "two lines"),
])
def test_pdf_text_replaces_what_helvetica_cannot_show(given, shown):
    assert pdf_text(given) == shown
    shown.encode("cp1252")


def test_pdf_text_keeps_newlines_where_asked():
    assert pdf_text("Level 2\r\n  10 Quay \n\nWellington", multiline=True) == "Level 2\n10 Quay\n\nWellington"


def test_money_and_percent():
    assert money("219.60") == "$219.60"
    assert money("1234567.5") == "$1,234,567.5"
    assert money("-5.00") == "-$5.00"
    assert money("n/a") == "n/a"
    assert percent("0.15") == "15%"
    assert percent("0.125") == "12.5%"
    assert percent("0.1") == "10%"


# --- long text stays on the page ---------------------------------------------------------------

def overflowing_runs(data: bytes) -> list[tuple[str, float]]:
    """Every horizontal text run whose right end lies beyond the right margin: (text, right end in pt)."""
    from fpdf import FPDF

    measure = FPDF(unit="pt")
    measure.core_fonts_encoding = "cp1252"
    measure.add_page()
    limit = A4_WIDTH_PT - RIGHT_MARGIN_PT + 0.5
    found: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip() or font is None or abs(tm[1]) > 1e-6 or abs(cm[1]) > 1e-6:
            return  # nothing shown, or the rotated watermark
        base = str(font.get("/BaseFont", ""))
        style = ("B" if "Bold" in base else "") + ("I" if "Oblique" in base else "")
        measure.set_font("helvetica", style, size * tm[0] * cm[0])
        right = tm[4] * cm[0] + cm[4] + measure.get_string_width(text.strip())
        if right > limit:
            found.append((text, right))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return found


def test_the_overflow_check_can_see_an_overflow():
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(text="An overflowing name " * 12)
    assert overflowing_runs(bytes(pdf.output()))


def test_long_names_and_descriptions_wrap_or_are_cut_within_the_page():
    name = "Cable World Construction and Civil Engineering Services " * 8 + "X" * 200
    supplier = Party(name, gst_number="123-456-789" * 10, address=("Level 22, " * 30 + "\n") * 12)
    buyer = Party(name, address="12 Queen Street " * 20, nzbn="9429041234567" * 5, email="a" * 300 + "@example.com")
    lines = [DocLine("Office users " + "W" * 300, 61, "3.66", "60.00", "219.60"), LINES[1]]
    doc = credit_note(supplier=supplier, buyer=buyer, lines=lines, description="Access " * 200,
                      invoice_number="INV-" + "9" * 120, reason="Because " * 120)
    data = render(doc)
    assert overflowing_runs(render(invoice())) == []
    assert overflowing_runs(data) == []
    text = text_of(data)
    assert "Cable World Construction and Civil" in text
    assert "…" in text  # cut with an ellipsis
    assert "$219.60" in text
    assert "Total (incl. GST) NZD $281.29" in text


# --- many lines ----------------------------------------------------------------------------------

def test_thirty_lines_flow_onto_further_pages_with_the_table_heading_repeated():
    lines = [DocLine(f"Site {i:02d} users", 100 + i, f"{i}.50", "25.00", f"{1000 + i}.75") for i in range(1, 31)]
    texts = pages(render(invoice(lines=lines)))
    assert len(texts) > 1
    text = " ".join(texts)
    for i in range(1, 31):
        assert f"Site {i:02d} users {100 + i} {i}.50 $25.00 $1,{i:03d}.75" in text
    heading = "Description User-days Quantity Unit price (NZD) Amount (NZD)"
    pages_with_lines = [page for page in texts if "users" in page]
    assert len(pages_with_lines) > 1
    assert all(heading in page for page in pages_with_lines)
    assert all(f"Page {n} of {len(texts)}" in page for n, page in enumerate(texts, 1))
    assert "Total (incl. GST) NZD $281.29" in texts[-1]


# --- cost ------------------------------------------------------------------------------------------

def test_importing_the_module_does_not_import_fpdf():
    code = "import sys, sitegate.tax_pdf; sys.exit('fpdf' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers" / "shared"), str(root)])}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0
