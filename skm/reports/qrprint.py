"""Printed matter of the online channel: the "Scan untuk menilai layanan kami" card (A4 or
A5, xhtml2pdf through skm.reports.render like every narrative document) and sheets of
one-time ticket slips (ReportLab, drawn directly: a batch may hold a thousand slips, and
each QR is drawn as vector squares, sharp at any printer resolution).

Needs an app context (templates, static folder); the caller passes the public base URL
(skm.web.public_base_url, or the CLI's --base-url) so a card never guesses an address."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Optional

from skm.core.errors import DomainError
from skm.models import Service, SurveyTicket, Unit
from skm.online import links
from skm.online import qr as Q
from skm.reports import data as R
from skm.reports.render import finish_pdf, folders, render_pdf, slug
from skm.reports.sheets import register_reportlab_fonts

CARD_SIZES = ("a4", "a5")
VALID_ONCE = "Berlaku untuk satu kali pengisian"


def require_base(base_url: str) -> str:
    base = links.clean_base(base_url)
    if not base.startswith(("http://", "https://")):
        raise DomainError("Alamat publik server belum diatur (SKM_PUBLIC_BASE_URL, mis. https://skm.contoh.go.id).")
    return base


def card_filename(unit: Unit, service: Optional[Service], size: str) -> str:
    parts = ["kartu-qr", unit.code] + ([service.name] if service is not None else []) + [size]
    return slug("-".join(parts)) + ".pdf"


def qr_card_pdf(unit: Unit, service: Optional[Service], size: str, base_url: str) -> bytes:
    """One page: the unit (and service), "Scan untuk menilai layanan kami", the survey's QR and URL."""
    if size not in CARD_SIZES:
        raise DomainError("Ukuran kartu harus A4 atau A5.")
    if service is not None and service.unit_id != unit.id:
        raise DomainError("Layanan itu bukan milik unit ini.")
    url = links.survey_url(require_base(base_url), unit, service)
    body = render_pdf("reports/qr_card.html", size=size, stamped=True, unit=R.unit_header(unit),
                      service=service.name if service is not None else "", url=url, qr=Q.data_uri(url, scale=10))
    title = "Scan untuk menilai layanan kami" + (f" – {service.name}" if service is not None else "")
    return finish_pdf([body], f"{title} – {unit.name}", unit.name)


# --- ticket slips (ReportLab) --------------------------------------------------

MM = 72 / 25.4
SLIP_W, SLIP_H = 95 * MM, 66 * MM  # 2 × 4 on an A4 page
COLS, ROWS = 2, 4
QR_SIZE = 42 * MM


def display_code(code: str) -> str:
    """ACDE-FGHJ: two groups of four read aloud and typed more easily (dashes are ignored)."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


def slips_filename(unit: Unit, count: int) -> str:
    return slug(f"tiket-survei-{unit.code}-{count}") + ".pdf"


def _fit_lines(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines = simpleSplit(text, font, size, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _draw_qr(c, text: str, x: float, y: float, size: float) -> None:
    """The QR of `text` with its quiet zone, bottom-left at (x, y), `size` points square."""
    rows = Q.matrix(text)
    n = len(rows) + 2 * Q.QUIET_ZONE
    m = size / n
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    path = c.beginPath()
    for r, row in enumerate(rows):
        top = y + size - (r + Q.QUIET_ZONE + 1) * m
        col = 0
        while col < len(row):
            if row[col]:
                run = col
                while run < len(row) and row[run]:
                    run += 1
                # A hair of overlap so no white seam shows between neighbouring squares.
                path.rect(x + (col + Q.QUIET_ZONE) * m, top, (run - col) * m + 0.05, m + 0.05)
                col = run
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)


def _draw_slip(c, x: float, y: float, unit: Unit, service_name: str, code: str, url: str) -> None:
    c.saveState()
    c.setStrokeColorRGB(0.55, 0.55, 0.55)
    c.setLineWidth(0.5)
    c.setDash(3, 3)
    c.rect(x, y, SLIP_W, SLIP_H, stroke=1, fill=0)  # cut line
    c.restoreState()
    pad = 4 * MM
    _draw_qr(c, url, x + pad - 2 * MM, y + SLIP_H - pad - QR_SIZE + 2 * MM, QR_SIZE)
    tx = x + pad + QR_SIZE - 1 * MM
    tw = x + SLIP_W - pad - tx
    ty = y + SLIP_H - pad - 3 * MM
    c.setFillColorRGB(0.11, 0.31, 0.56)
    c.setFont("SKM-DejaVu-Bold", 9)
    c.drawString(tx, ty, "Survei Kepuasan")
    c.drawString(tx, ty - 10.5, "Masyarakat")
    c.setFillColorRGB(0, 0, 0)
    ty -= 25
    for line in _fit_lines(unit.name, "SKM-DejaVu-Bold", 8, tw, 3):
        c.setFont("SKM-DejaVu-Bold", 8)
        c.drawString(tx, ty, line)
        ty -= 9.5
    if service_name:
        for line in _fit_lines(service_name, "SKM-DejaVu", 7.5, tw, 2):
            c.setFont("SKM-DejaVu", 7.5)
            c.drawString(tx, ty, line)
            ty -= 9
    # Below the QR, across the slip: the code big, the address, the one-time rule.
    cx = x + SLIP_W / 2
    c.setFont("SKM-DejaVu", 7.5)
    c.drawCentredString(cx, y + 19 * MM, "Kode tiket")
    c.setFont("SKM-DejaVu-Bold", 20)
    c.drawCentredString(cx, y + 11.5 * MM, display_code(code))
    c.setFont("SKM-DejaVu", 7)
    c.drawCentredString(cx, y + 7 * MM, _fit_lines(url, "SKM-DejaVu", 7, SLIP_W - 2 * pad, 1)[0])
    c.setFont("SKM-DejaVu-Bold", 8)
    c.drawCentredString(cx, y + 3 * MM, VALID_ONCE)


def ticket_slips_pdf(unit: Unit, tickets: Sequence[SurveyTicket], base_url: str, single: bool = False) -> bytes:
    """The slips of `tickets`, 8 to an A4 page with dashed cut lines; `single`: one page the
    size of a slip per ticket (the front desk's "cetak satu tiket")."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    if not tickets:
        raise DomainError("Tidak ada tiket untuk dicetak.")
    base = require_base(base_url)
    static_dir, _ = folders()
    register_reportlab_fonts(static_dir)
    out = io.BytesIO()
    page = (SLIP_W, SLIP_H) if single else A4
    c = canvas.Canvas(out, pagesize=page, pageCompression=1)
    c.setTitle(f"Tiket survei – {unit.name}")
    c.setAuthor(unit.name)
    c.setCreator("SKM Kiosk")
    margin_x = (A4[0] - COLS * SLIP_W) / 2
    margin_y = (A4[1] - ROWS * SLIP_H) / 2
    per_page = 1 if single else COLS * ROWS
    for i, ticket in enumerate(tickets):
        slot = i % per_page
        if i and slot == 0:
            c.showPage()
        if single:
            x, y = 0.0, 0.0
        else:
            x = margin_x + (slot % COLS) * SLIP_W
            y = A4[1] - margin_y - (slot // COLS + 1) * SLIP_H
        service_name = ticket.service.name if ticket.service is not None else ""
        _draw_slip(c, x, y, unit, service_name, ticket.code, links.ticket_url(base, ticket.code))
    c.showPage()
    c.save()
    return out.getvalue()
