"""New Zealand tax invoices and credit notes as PDF (fpdf2, pure Python, core font Helvetica only).

`render(TaxDocument) -> bytes` lays out one A4 document the way a reader expects a tax invoice:
heading, supplier (legal name, GST number, address), "Bill to" buyer, number / date of issue /
period, the credited invoice and reason for a credit note, the description of the supply, a table
of lines (heading row repeated on every page the table flows onto), then subtotal, GST and total.
A draft has the heading "Draft invoice" (or "Draft credit note"), the line "Draft: not a tax invoice"
(or "... not a credit note") and a light grey "DRAFT" diagonally behind the content of every page.

Text the core font cannot show: Helvetica (a PDF core font, no font file embedded) covers only the
Windows-1252 character set, so every piece of caller text goes through `pdf_text` first: NFC; then
each character Windows-1252 has is kept; any other is replaced by its compatibility decomposition
with the combining marks dropped, when that is showable ("Māori" -> "Maori", full-width letters ->
ASCII, a thin space -> a space); dashes and minus signs Windows-1252 lacks become "-"; invisible
characters (format characters, stray combining marks, variation selectors, emoji skin-tone
modifiers) are dropped; control characters become a space (a newline is kept where the field may
have several lines); whatever is left (emoji, CJK, ...) becomes "?". The PDF metadata (title,
author, subject) is Unicode and keeps the original text.

Long text never overflows the page: free text wraps to its column (a word longer than the column
is broken), and each field is first cut to a sane length with an ellipsis (`_LIMITS`).

fpdf is imported only inside `render` (and its helpers), so importing this module stays cheap for
Lambda functions that never produce a PDF. The output is deterministic for a document with an
issue date: the PDF creation date is that date (00:00 UTC); a draft without one gets the current time.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from fpdf import FPDF

__all__ = ["KINDS", "DocLine", "Party", "TaxDocument", "long_date", "long_period", "money", "pdf_text", "percent", "render"]


@dataclass(frozen=True)
class Party:
    legal_name: str | None
    gst_number: str | None = None  # supplier
    address: str | None = None  # may contain newlines
    nzbn: str | None = None  # buyer
    email: str | None = None  # buyer's billing email


@dataclass(frozen=True)
class DocLine:
    description: str  # e.g. "Office users"
    user_days: int | None  # None: a line that counts no user-days (a credit of an amount), shown as "-"
    quantity: str | None  # decimal text, e.g. "3.66" (average users per day); None shown as "-"
    unit_price: str | None  # money text "60.00"; None shown as "-"
    amount: str  # money text "219.60"


@dataclass(frozen=True)
class TaxDocument:
    kind: str  # "invoice" or "credit_note"
    number: str | None  # "INV-000001" / "CN-000001"; None for a draft
    draft: bool  # watermarked "DRAFT" on every page, says it is not a tax invoice
    issue_date: str | None  # "2026-10-04"
    period: str  # "2026-09"
    supplier: Party
    buyer: Party
    description: str  # the supply, e.g. "SiteGate site access, September 2026: active user-days"
    currency: str  # "NZD"
    lines: list[DocLine]
    subtotal: str  # GST-exclusive
    gst_rate: str  # "0.15"
    gst: str
    total: str
    invoice_number: str | None = None  # a credit note: the invoice it credits
    reason: str | None = None  # a credit note's reason


KINDS = ("invoice", "credit_note")

# ---------------------------------------------------------------------------------------------
# Text the core font can show
# ---------------------------------------------------------------------------------------------

_ENCODING = "cp1252"  # what fpdf2 writes for core fonts (/WinAnsiEncoding), set on the FPDF object
_REPLACEMENT = "?"
_DASHES = frozenset("\u2010\u2011\u2012\u2015\u2043\u2212\ufe58\ufe63\uff0d")
_DROP = frozenset(range(0x1F3FB, 0x1F400)) | frozenset(range(0xFE00, 0xFE10)) | frozenset(range(0xE0100, 0xE01F0))

# Longest text kept per field, before wrapping (then cut with an ellipsis).
_LIMITS = {"name": 160, "address_line": 120, "address_lines": 6, "short": 60, "line": 200, "free": 600}


def _showable(char: str) -> bool:
    try:
        char.encode(_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _char(char: str) -> str:
    category = unicodedata.category(char)
    if char == "\n":
        return char
    if category == "Cc" or char in "\u2028\u2029":
        return " "
    if category == "Cf" or ord(char) in _DROP:
        return ""
    if _showable(char):
        return char
    if char in _DASHES:
        return "-"
    if category.startswith("M"):  # a combining mark with no showable base
        return ""
    if category.startswith("Z"):
        return " "
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.category(c).startswith("M"))
    if folded and all(_showable(c) and unicodedata.category(c) != "Cc" for c in folded):
        return folded
    return _REPLACEMENT


def pdf_text(text: str, *, multiline: bool = False) -> str:
    """`text` as Helvetica can show it (see the module docstring); one line unless `multiline`."""
    shown = "".join(_char(c) for c in unicodedata.normalize("NFC", text.replace("\r\n", "\n")))
    if not multiline:
        shown = shown.replace("\n", " ")
    return "\n".join(" ".join(line.split()) for line in shown.split("\n")).strip("\n")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _field(text: str | None, limit: str = "short") -> str:
    return _cut(pdf_text(text or ""), _LIMITS[limit])


def _address_lines(address: str | None) -> list[str]:
    lines = [line for line in pdf_text(address or "", multiline=True).split("\n") if line]
    if len(lines) > _LIMITS["address_lines"]:
        lines = [*lines[: _LIMITS["address_lines"] - 1], ", ".join(lines[_LIMITS["address_lines"] - 1 :])]
    return [_cut(line, _LIMITS["address_line"]) for line in lines]


# ---------------------------------------------------------------------------------------------
# Numbers, money and dates as a reader expects them
# ---------------------------------------------------------------------------------------------

def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def money(text: str) -> str:
    """'1234.50' -> '$1,234.50', '-5.00' -> '-$5.00'; text that is not a number is shown as given."""
    value = _decimal(text)
    if value is None:
        return _field(text)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,f}"


def percent(rate: str) -> str:
    """'0.15' -> '15%', '0.125' -> '12.5%'."""
    value = _decimal(rate)
    if value is None:
        return _field(rate)
    shown = format((value * 100).normalize(), "f")
    return f"{shown}%"


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text else None
    except ValueError:
        return None


def long_date(text: str | None) -> str:
    """'2026-10-04' -> '4 October 2026'; anything else is shown as given."""
    day = _date(text)
    return f"{day.day} {day:%B %Y}" if day else _field(text)


def long_period(text: str) -> str:
    """'2026-09' -> 'September 2026'; anything else is shown as given."""
    day = _date(f"{text.strip()}-01") if len(text.strip()) == 7 else None
    return f"{day:%B %Y}" if day else _field(text)


def _plain_number(text: str) -> str:
    value = _decimal(text)
    return f"{value:,f}" if value is not None else _field(text)


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------

_FONT = "helvetica"
_MARGIN = 18.0  # mm, left/right/top
_BOTTOM = 20.0  # mm kept free at the bottom for the footer
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_ALERT = (176, 42, 55)
_RULE = (200, 204, 208)
_HEAD_FILL = (236, 239, 242)
_WATERMARK = (232, 232, 232)
_CELL_PADDING = (1.6, 1.8)  # table cells: top/bottom, left/right (mm)
_PAGES_ALIAS = "\x01"  # total-pages placeholder: caller text never contains a control character

# Table columns: (heading, share of the width, alignment)
_COLUMNS = (("Description", 0.36, "LEFT"), ("User-days", 0.14, "RIGHT"), ("Quantity", 0.14, "RIGHT"),
            ("Unit price", 0.17, "RIGHT"), ("Amount", 0.19, "RIGHT"))


def _line_height(size: float) -> float:
    return size * 0.3528 * 1.35  # points to mm, with leading


@functools.cache
def _document_class() -> Callable[[bool, str], FPDF]:
    """The FPDF subclass (defined on first use: fpdf is imported lazily, see the module docstring)."""
    from fpdf import FPDF

    class _Document(FPDF):
        def __init__(self, draft: bool, footer_text: str) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self.draft = draft
            self.footer_text = footer_text

        def header(self) -> None:
            if not self.draft:
                return
            with self.local_context(text_color=_WATERMARK):
                self.set_font(_FONT, "B", 120)
                cx, cy = self.w / 2, self.h / 2
                width = self.get_string_width("DRAFT")
                with self.rotation(45, cx, cy):
                    self.text(cx - width / 2, cy + self.font_size * 0.35, "DRAFT")

        def footer(self) -> None:
            self.set_y(-_BOTTOM + 6)
            self.set_font(_FONT, "", 8)
            self.set_text_color(*_MUTED)
            half = self.epw / 2
            self.cell(half, 4, self.footer_text, align="L")
            self.cell(half, 4, f"Page {self.page_no()} of {_PAGES_ALIAS}", align="R")

    return _Document


def _title(doc: TaxDocument) -> str:
    noun = "invoice" if doc.kind == "invoice" else "credit note"
    if doc.draft:
        return f"Draft {noun}"
    return "Tax invoice" if doc.kind == "invoice" else "Credit note"


def _check(doc: TaxDocument) -> None:
    if doc.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {doc.kind!r}")
    if not doc.draft and not (doc.number and doc.issue_date):
        raise ValueError("a final tax invoice or credit note needs its number and date of issue")


_Row = tuple[str, str, float, tuple[int, int, int]]  # text, style ("", "B"), size in points, colour


def _text_block(pdf: FPDF, x: float, y: float, width: float, rows: Sequence[_Row]) -> float:
    """Rows of (text, style, size, colour), each wrapped to `width`; returns the y below the block."""
    pdf.set_xy(x, y)
    for text, style, size, colour in rows:
        if not text:
            continue
        pdf.set_font(_FONT, style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(x)
        pdf.multi_cell(width, _line_height(size), text, align="L", new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def _key_values(pdf: FPDF, x: float, y: float, width: float, pairs: list[tuple[str, str]]) -> float:
    label_width = 34.0
    pdf.set_xy(x, y)
    for label, value in pairs:
        top = pdf.get_y()
        pdf.set_font(_FONT, "", 9)
        pdf.set_text_color(*_MUTED)
        pdf.set_xy(x, top)
        pdf.multi_cell(label_width, _line_height(9), label, align="L", new_x="RIGHT", new_y="TOP")
        below_label = pdf.get_y()
        pdf.set_font(_FONT, "B", 9)
        pdf.set_text_color(*_INK)
        pdf.set_xy(x + label_width, top)
        pdf.multi_cell(width - label_width, _line_height(9), value, align="L", new_x="LEFT", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), below_label + _line_height(9)))
    return pdf.get_y()


def _totals(pdf: FPDF, doc: TaxDocument) -> None:
    """Subtotal, GST and total, right-aligned under the Amount column (widened for huge amounts)."""
    currency = _field(doc.currency)
    rows = [
        ("Subtotal (excl. GST)", money(doc.subtotal), "", 10.0),
        (f"GST at {percent(doc.gst_rate)}", money(doc.gst), "", 10.0),
        ("Total (incl. GST)", f"{currency} {money(doc.total)}".strip(), "B", 11.0),
    ]
    row_height = 7.0
    if pdf.will_page_break(row_height * len(rows) + 4):
        pdf.add_page()

    def width(text: str, style: str, size: float) -> float:
        pdf.set_font(_FONT, style, size)
        return pdf.get_string_width(text)

    value_width = max(38.0, *(width(value, style, size) + 4 for _, value, style, size in rows))
    label_width = max(width(label, style, size) + 6 for label, _, style, size in rows)
    end = pdf.l_margin + pdf.epw - _CELL_PADDING[1]  # the table's right-hand text edge
    x = max(pdf.l_margin, end - value_width - label_width)
    label_width = end - value_width - x
    pdf.ln(3)
    for label, value, style, size in rows:
        if style:
            pdf.set_draw_color(*_INK)
            pdf.set_line_width(0.4)
            pdf.line(x, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        pdf.set_x(x)
        pdf.set_text_color(*_INK)
        pdf.set_font(_FONT, style, size)
        pdf.cell(label_width, row_height, label, align="R")
        pdf.cell(value_width, row_height, value, align="R", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, doc: TaxDocument) -> None:
    from fpdf.fonts import FontFace

    currency = _field(doc.currency)
    headings = [f"{name} ({currency})" if name in ("Unit price", "Amount") and currency else name for name, _, _ in _COLUMNS]
    pdf.set_font(_FONT, "", 9)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=tuple(share for _, share, _ in _COLUMNS),
        text_align=tuple(align for _, _, align in _COLUMNS),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=_HEAD_FILL, color=_INK),
        line_height=_line_height(9),
        padding=_CELL_PADDING,
        v_align="TOP",
        repeat_headings=1,
        width=pdf.epw,
    ) as table:
        table.row(headings)
        for line in doc.lines:
            table.row([
                _field(line.description, "line"),
                "-" if line.user_days is None else f"{line.user_days:,}",
                "-" if line.quantity is None else _plain_number(line.quantity),
                "-" if line.unit_price is None else money(line.unit_price),
                money(line.amount),
            ])


def render(doc: TaxDocument) -> bytes:
    """The document as PDF bytes (A4). Raises ValueError for an unknown kind, or a final document
    without its number or date of issue."""
    _check(doc)
    title = _title(doc)
    number = _field(doc.number)
    pdf = _document_class()(doc.draft, " \u00b7 ".join(p for p in (title, number) if p))
    pdf.core_fonts_encoding = _ENCODING
    pdf.alias_nb_pages(_PAGES_ALIAS)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=_BOTTOM)
    pdf.c_margin = 0

    issue = _date(doc.issue_date)
    pdf.set_title(f"{' '.join(p for p in (title, doc.number) if p)}, {long_period(doc.period)}")
    pdf.set_subject(doc.description)
    if doc.supplier.legal_name:
        pdf.set_author(doc.supplier.legal_name)
    pdf.set_creator("SiteGate")
    pdf.set_lang("en-NZ")
    if issue:
        pdf.set_creation_date(datetime(issue.year, issue.month, issue.day, tzinfo=UTC))
    pdf.add_page()

    left, gap = pdf.l_margin, 10.0
    right_width = 72.0
    left_width = pdf.epw - right_width - gap
    right = left + left_width + gap
    top = pdf.get_y()

    # Heading (left) and supplier (right)
    heading_rows = [(title, "B", 22, _INK)]
    if doc.draft:
        heading_rows.append((f"Draft: not a {'tax invoice' if doc.kind == 'invoice' else 'credit note'}", "B", 11, _ALERT))
    heading_end = _text_block(pdf, left, top, left_width, heading_rows)
    supplier = doc.supplier
    supplier_rows = [(_field(supplier.legal_name, "name"), "B", 11, _INK)]
    supplier_rows += [(line, "", 9, _INK) for line in _address_lines(supplier.address)]
    if supplier.gst_number:
        supplier_rows.append((f"GST number {_field(supplier.gst_number)}", "", 9, _INK))
    supplier_end = _text_block(pdf, right, top + 1.5, right_width, supplier_rows)

    # Buyer (left) and the document's number and dates (right)
    band = max(heading_end, supplier_end) + 8
    buyer = doc.buyer
    buyer_rows = [("Bill to", "B", 8, _MUTED), (_field(buyer.legal_name, "name"), "B", 11, _INK)]
    buyer_rows += [(line, "", 9, _INK) for line in _address_lines(buyer.address)]
    if buyer.nzbn:
        buyer_rows.append((f"NZBN {_field(buyer.nzbn)}", "", 9, _INK))
    if buyer.email:
        buyer_rows.append((_field(buyer.email, "name"), "", 9, _INK))
    buyer_end = _text_block(pdf, left, band, left_width, buyer_rows)
    noun = "Invoice number" if doc.kind == "invoice" else "Credit note number"
    details = [
        (noun, number or "Not yet assigned"),
        ("Date of issue", long_date(doc.issue_date) if doc.issue_date else "Not yet issued"),
        ("Period", long_period(doc.period)),
    ]
    details_end = _key_values(pdf, right, band + _line_height(8), right_width, details)
    pdf.set_y(max(buyer_end, details_end) + 7)

    # What is supplied (and, for a credit note, what it credits and why)
    if doc.kind == "credit_note" and (doc.invoice_number or doc.reason):
        credit: list[_Row] = []
        if doc.invoice_number:
            credit.append((f"Credits invoice {_field(doc.invoice_number)}", "B", 10, _INK))
        if doc.reason:
            credit.append((f"Reason: {_field(doc.reason, 'free')}", "", 10, _INK))
        pdf.set_y(_text_block(pdf, left, pdf.get_y(), pdf.epw, credit) + 3)
    end = _text_block(pdf, left, pdf.get_y(), pdf.epw, [(_field(doc.description, "free"), "", 10, _INK)])
    pdf.set_y(end + 4)

    _table(pdf, doc)
    _totals(pdf, doc)
    return bytes(pdf.output())
