"""ReportLab, drawn directly: the data sheet (one fixed-size table per page), the suggestions
appendix and page-numbered canvases. xhtml2pdf's table layout grows faster than the rows.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from skm.reports.pdf import FONT_BOLD, FONT_REGULAR

# --- ReportLab: the data sheet ------------------------------------------------

_font_lock = threading.Lock()
_fonts_registered = False


def register_reportlab_fonts(static_dir) -> None:
    """Register DejaVu from the app's static folder with ReportLab (once per process)."""
    global _fonts_registered
    with _font_lock:
        if _fonts_registered:
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        fonts = Path(static_dir) / "fonts"
        pdfmetrics.registerFont(TTFont("SKM-DejaVu", str(fonts / FONT_REGULAR)))
        pdfmetrics.registerFont(TTFont("SKM-DejaVu-Bold", str(fonts / FONT_BOLD)))
        addMapping("SKM-DejaVu", 0, 0, "SKM-DejaVu")
        addMapping("SKM-DejaVu", 1, 0, "SKM-DejaVu-Bold")
        _fonts_registered = True


def numbered_canvas(font: str, size: float, x_right: float, y: float, prefix: str = ""):
    """A ReportLab canvas class that writes "<prefix>Halaman n dari N" on every page.

    Pages are kept until the end (their drawing operations only, a few KB each) so that
    N is known; the usual ReportLab two-pass recipe.
    """
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(font, size)
                self.setFillColor("#555555")
                self.drawRightString(x_right, y, f"{prefix}Halaman {self._pageNumber} dari {total}")
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


def _sheet_page_class():
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Flowable

    class SheetPage(Flowable):
        """One page of the data sheet: the header row and up to a page of respondent rows.

        Drawn straight on the canvas -- one grid call, one text object, cached string
        widths -- because the cells are short numbers of one fixed size: a ReportLab Table
        spends most of its time on per-cell styles and text objects (~3x slower here).
        """

        def __init__(self, header, rows, col_widths, header_h, row_h, font, bold, size):
            super().__init__()
            self.header, self.rows = header, rows
            self.col_widths, self.header_h, self.row_h = col_widths, header_h, row_h
            self.font, self.bold, self.size = font, bold, size
            self.width = sum(col_widths)
            self.height = header_h + row_h * len(rows)

        def wrap(self, aw, ah):
            return self.width, self.height

        def draw(self):
            c = self.canv
            xs = [0.0]
            for w in self.col_widths:
                xs.append(xs[-1] + w)
            centres = [(a + b) / 2 for a, b in zip(xs, xs[1:])]
            top = self.height
            ys = [top, top - self.header_h] + [top - self.header_h - self.row_h * (i + 1)
                                                for i in range(len(self.rows))]
            c.saveState()
            c.setFillColor(colors.HexColor("#dfe7f2"))
            c.rect(0, top - self.header_h, self.width, self.header_h, stroke=0, fill=1)
            c.setStrokeColor(colors.HexColor("#555555"))
            c.setLineWidth(0.4)
            c.grid(xs, ys)
            c.setFillColor(colors.black)
            widths: dict = {}

            def put(text, font, cx, y):
                key = (text, font)
                w = widths.get(key)
                if w is None:
                    w = widths[key] = stringWidth(text, font, self.size)
                t.setTextOrigin(cx - w / 2, y)
                t.textOut(text)

            t = c.beginText()
            t.setFont(self.bold, self.size)
            base = top - self.header_h + (self.header_h - self.size) / 2 + 1
            for cx, text in zip(centres, self.header):
                put(str(text), self.bold, cx, base)
            t.setFont(self.font, self.size)
            for i, row in enumerate(self.rows):
                y = ys[i + 2] + (self.row_h - self.size) / 2 + 1
                for cx, text in zip(centres, row):
                    if text:
                        put(text, self.font, cx, y)
            c.drawText(t)
            c.restoreState()

    return SheetPage


@dataclass
class SheetLayout:
    title: str
    subtitle: str
    header: list[str]
    footer_rows: list[list[str]]  # Jumlah, NRR, NRR tertimbang, Σ, IKM
    legend: list[str]  # "U1 = Persyaratan", ...
    footer_note: str = ""
    header_lines: Sequence[str] = ()  # "Alamat : …", "Telp. : …" under the subtitle


def data_sheet_pdf(
    layout: SheetLayout,
    rows: Iterable[Sequence[str]],
    static_dir,
    progress: Optional[Callable[[int], None]] = None,
    number_pages: bool = True,
) -> bytes:
    """The Pengolahan data sheet, landscape A4, header row on every page.

    Why ReportLab and not xhtml2pdf: xhtml2pdf lays a table out through its HTML/CSS
    machinery and then hands ReportLab one table whose split cost grows faster than its
    length (one 1 000-row table ~14 s here; 40-row tables ~9 ms a row, ~90 s for
    10 000). Even ReportLab's LongTable with repeatRows measures ~8,5 s for 10 000 rows,
    because splitting re-measures the remaining rows. A data sheet is a grid of short
    numbers of one fixed height, so we paginate ourselves: every page is one SheetPage
    flowable (header row + a page of rows, drawn straight on the canvas), rows are
    consumed from an iterator page by page, and the cost is linear. 10 000 respondents:
    ~1,1 s idle (~2,6 s with the 2 cores busy) and ~140 MB peak RSS for the whole
    process (bench/bench_reports.py), with
    rl-accel. The small summary block stays a ReportLab Table.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle
    from reportlab.platypus.flowables import KeepTogether

    register_reportlab_fonts(static_dir)
    SheetPage = _sheet_page_class()
    from reportlab.lib.utils import simpleSplit

    page_w, page_h = landscape(A4)
    margin = 12 * mm
    font, bold, size = "SKM-DejaVu", "SKM-DejaVu-Bold", 7.5
    # The running title and header lines wrap (a unit name may be 120 characters);
    # the body starts below however many lines they take.
    title_lines = simpleSplit(layout.title, bold, 11, page_w - 2 * margin)
    head_lines = [part for line in [layout.subtitle, *layout.header_lines]
                  for part in simpleSplit(line, font, 8.5, page_w - 2 * margin)]
    top = 8 * mm + len(title_lines) * 13.5 + len(head_lines) * 10.5 + 4 * mm
    bottom = 14 * mm
    usable_w = page_w - 2 * margin
    usable_h = page_h - top - bottom
    row_h = 4.6 * mm
    header_h = 6 * mm
    rows_per_page = int((usable_h - header_h) // row_h) - 1

    ncols = len(layout.header)
    # No, Tanggal, then one column per element, then Total.
    fixed = [12 * mm, 26 * mm]
    rest = (usable_w - sum(fixed)) / (ncols - 2)
    col_widths = fixed + [rest] * (ncols - 2)
    grid = [
        ("FONT", (0, 0), (-1, -1), font, size),
        ("FONT", (0, 0), (-1, 0), bold, size),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#555555")),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]

    def page_table(chunk):
        return SheetPage(layout.header, chunk, col_widths, header_h, row_h, font, bold, size)

    story: list = []
    chunk: list = []
    count = 0
    for row in rows:
        chunk.append(list(row))
        count += 1
        if len(chunk) == rows_per_page:
            story.append(page_table(chunk))
            story.append(PageBreak())
            chunk = []
            if progress:
                progress(count)
    if chunk:
        story.append(page_table(chunk))
    # The summary rows: their own table (with the header) so they are never split.
    summary_style = TableStyle(grid + [
        ("FONT", (0, 1), (1, -1), bold, size),
        ("SPAN", (0, 0), (1, 0)), ("SPAN", (0, 1), (1, 1)), ("SPAN", (0, 2), (1, 2)), ("SPAN", (0, 3), (1, 3)),
        ("SPAN", (0, 4), (1, 4)), ("SPAN", (0, 5), (1, 5)),
        ("SPAN", (2, 4), (-1, 4)), ("SPAN", (2, 5), (-1, 5)),
        ("BACKGROUND", (0, 1), (-1, -1), colors.HexColor("#f3f3f3")),
        ("FONT", (2, 4), (-1, 5), bold, size + 1),
    ])
    summary_header = ["Unsur", ""] + list(layout.header[2:-1]) + [""]
    summary = Table([summary_header] + layout.footer_rows, colWidths=col_widths,
                    rowHeights=[header_h] + [row_h + 1 * mm] * len(layout.footer_rows), style=summary_style)
    legend_style = ParagraphStyle("legend", fontName=font, fontSize=7.5, leading=9.5)
    # The legend carries element names (user text): escaped like every Paragraph text.
    legend = [Spacer(1, 3 * mm)] + [Paragraph(_para_text(line), legend_style) for line in layout.legend]
    if layout.footer_note:
        legend.append(Paragraph(_para_text(layout.footer_note), legend_style))
    story.append(Spacer(1, 3 * mm))
    story.append(KeepTogether([summary] + legend))

    def on_page(canvas, doc):
        canvas.saveState()
        y = page_h - 12 * mm
        canvas.setFont(bold, 11)
        for line in title_lines:
            canvas.drawString(margin, y, line)
            y -= 13.5
        canvas.setFont(font, 8.5)
        y -= 1.5
        for line in head_lines:
            canvas.drawString(margin, y, line)
            y -= 10.5
        canvas.restoreState()

    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=landscape(A4), leftMargin=margin, rightMargin=margin,
                          topMargin=top, bottomMargin=bottom, title=layout.title, author="SKM Kiosk")
    frame = Frame(margin, bottom, usable_w, usable_h, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="sheet", frames=[frame], onPage=on_page)])
    if number_pages:
        doc.build(story, canvasmaker=numbered_canvas(font, 7.5, page_w - margin, 8 * mm))
    else:  # part of a larger document, numbered once by skm.reports.render.finish_pdf
        doc.build(story)
    return buf.getvalue()


def _para_text(text: str) -> str:
    """User text for a ReportLab Paragraph: escaped, so markup in it (<img src=…>, <a href=…>)
    prints as text and is never parsed -- Paragraph would otherwise fetch an <img src>."""
    from xml.sax.saxutils import escape

    return escape(text).replace("\n", "<br/>")


def suggestions_pdf(title: str, subtitle: str, items: Sequence[dict], static_dir, footer: str = "",
                    number_pages: bool = True) -> bytes:
    """Appendix: the suggestions received, one numbered paragraph each (date · service, text).

    ReportLab paragraphs rather than an xhtml2pdf table: a period can bring thousands of
    suggestions, and an xhtml2pdf table of 1 000 rows took ~38 s here (its cost grows
    faster than the rows), while flowing paragraphs is linear (~0,2 s per 1 000) and
    wraps long words (splitLongWords).
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm, mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

    register_reportlab_fonts(static_dir)
    font, bold = "SKM-DejaVu", "SKM-DejaVu-Bold"
    page_w, page_h = A4
    left, right, top, bottom = 2.5 * cm, 2 * cm, 2 * cm, 2.2 * cm
    h1 = ParagraphStyle("h1", fontName=bold, fontSize=15, leading=19, spaceAfter=4)
    sub = ParagraphStyle("sub", fontName=font, fontSize=9, leading=12, spaceAfter=8, textColor="#444444")
    meta = ParagraphStyle("meta", fontName=bold, fontSize=8.5, leading=11, textColor="#333333", spaceBefore=5,
                          keepWithNext=1)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=13.5, splitLongWords=1, leftIndent=14)
    story = [Paragraph(_para_text(title), h1), Paragraph(_para_text(subtitle), sub)]
    if not items:
        story.append(Paragraph("Tidak ada saran yang diterima pada periode ini.", body))
    for n, item in enumerate(items, start=1):
        story.append(Paragraph(f"{n}. {_para_text(item['date'])} · {_para_text(item['service'])}", meta))
        story.append(Paragraph(_para_text(item["text"]), body))
    story.append(Spacer(1, 4 * mm))

    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=left, rightMargin=right, topMargin=top,
                          bottomMargin=bottom, title=title, author="SKM Kiosk")
    frame = Frame(left, bottom, page_w - left - right, page_h - top - bottom, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0, id="body")

    def running_title(canvas, doc):  # continuation pages name the appendix at the top
        if doc.page > 1:
            canvas.saveState()
            canvas.setFont(font, 8)
            canvas.setFillColor("#555555")
            canvas.drawString(left, page_h - 1.3 * cm, f"{title} (lanjutan)")
            canvas.restoreState()

    doc.addPageTemplates([PageTemplate(id="plain", frames=[frame], onPage=running_title)])
    if number_pages:
        doc.build(story, canvasmaker=numbered_canvas(font, 8, page_w - right, 1.1 * cm, f"{footer}{title} · "))
    else:  # part of a larger document, numbered once by skm.reports.render.finish_pdf
        doc.build(story)
    return buf.getvalue()


def page_footer_overlay(sizes: Sequence[tuple[float, float]], footer: str, static_dir) -> bytes:
    """One overlay page per page size given: `footer` (wrapped, at most two lines) at the
    left and "Halaman n dari N" at the right, so a document joined from several engines
    carries one page sequence (skm.reports.render.finish_pdf merges it onto the pages)."""
    from reportlab.lib.units import cm, mm
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    register_reportlab_fonts(static_dir)
    font, size = "SKM-DejaVu", 8
    buf = io.BytesIO()
    c = Canvas(buf)
    total = len(sizes)
    for n, (w, h) in enumerate(sizes, start=1):
        c.setPageSize((w, h))
        # The margins of the pages below: xhtml2pdf portrait (2,5 cm / 2 cm), ReportLab landscape 12 mm.
        left, right = (12 * mm, 12 * mm) if w > h else (2.5 * cm, 2 * cm)
        number = f"Halaman {n} dari {total}"
        c.setFont(font, size)
        c.setFillColor("#555555")
        c.drawRightString(w - right, 0.9 * cm, number)
        room = w - left - right - stringWidth(number, font, size) - 6 * mm
        lines = simpleSplit(footer, font, size, room)[:2]
        y = 0.9 * cm + (len(lines) - 1) * (size + 2)
        for line in lines:
            c.drawString(left, y, line)
            y -= size + 2
        c.showPage()
    c.save()
    return buf.getvalue()
