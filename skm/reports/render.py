"""Turn skm.reports data into files: templates rendered with the app's Jinja (autoescaped),
then skm.pdf. Needs an app context (for templates and the two resource folders);
shared by admin/reports.py and the CLI so both produce the same bytes.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Optional

from flask import current_app, has_request_context, render_template
from markupsafe import Markup

from skm.core.clock import unit_today
from skm.models import Period, Unit
from skm.reports import data as R
from skm.reports.pdf import RestrictedLinks, font_face_css, html_to_pdf
from skm.reports.settings import report_choice
from skm.reports.sheets import SheetLayout, data_sheet_pdf, page_footer_overlay, suggestions_pdf
from skm.survey.reporting import require_respondents

PDF_KINDS = ("laporan", "pengolahan", "poster", "poster-a3", "kuesioner", "tindak-lanjut")


def folders() -> tuple[Path, Path]:
    assert current_app.static_folder is not None  # create_app() sets it
    return Path(current_app.static_folder), Path(current_app.config["UPLOAD_FOLDER"])


def render_pdf(template: str, links: Optional[RestrictedLinks] = None, **context) -> bytes:
    static_dir, upload_dir = folders()
    # The app's context processors read the request; the CLI and job threads have none.
    ctx = nullcontext() if has_request_context() else current_app.test_request_context("/", method="GET")
    with ctx:
        html = _render(template, **context)
    return html_to_pdf(html, static_dir, upload_dir, links=links)


def _render(template: str, **context) -> str:
    # font_css is our own constant, not user text, so it may go in unescaped.
    return render_template(template, font_css=Markup(font_face_css()), channel_labels=R.CHANNEL_LABELS, **context)


def data_sheet_bytes(session, unit: Unit, period: Period, progress: Optional[Callable[[int], None]] = None,
                     prefix: str = "", number_pages: bool = True) -> bytes:
    sheet = R.data_sheet(session, unit, period)
    layout = SheetLayout(prefix + sheet.title, sheet.subtitle, sheet.header, sheet.footer_rows, sheet.legend,
                         header_lines=sheet.header_lines)
    static_dir, _ = folders()
    return data_sheet_pdf(layout, sheet.rows, static_dir, progress=progress, number_pages=number_pages)


def finish_pdf(parts: list[bytes], title: str, author: str, footer: Optional[str] = None) -> bytes:
    """Join the parts into one file with Title and Author metadata. With `footer`, the
    parts were rendered without page numbers and every page gets the footer and one
    "Halaman n dari N" sequence over the whole document."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    if footer is not None:
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in writer.pages]
        overlay = PdfReader(io.BytesIO(page_footer_overlay(sizes, footer, folders()[0])))
        for page, stamp in zip(writer.pages, overlay.pages):
            page.merge_page(stamp)
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "SKM Kiosk"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


TITLES = {
    "laporan": "Laporan Hasil Survei Kepuasan Masyarakat",
    "pengolahan": "Pengolahan Data Survei Kepuasan Masyarakat",
    "poster": "Poster Hasil Survei Kepuasan Masyarakat",
    "poster-a3": "Poster Hasil Survei Kepuasan Masyarakat (A3)",
    "kuesioner": "Kuesioner Survei Kepuasan Masyarakat",
    "tindak-lanjut": "Laporan Hasil Tindak Lanjut Survei Kepuasan Masyarakat",
}


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "laporan"


def filename(kind: str, unit: Unit, period: Optional[Period] = None, suffix: str = "pdf") -> str:
    parts = [kind, unit.code] + ([period.name] if period is not None else [])
    return slug("-".join(parts)) + "." + suffix


def build(kind: str, session, unit: Unit, period: Optional[Period], today: Optional[dt.date] = None,
          progress: Optional[Callable[[int], None]] = None, plan=None,
          links: Optional[RestrictedLinks] = None) -> bytes:
    """The PDF bytes of one document kind (see skm.reports.KINDS). A result-based kind for
    a period without respondents raises DomainError: no signed report of nothing.
    Every file carries a Title (kind, period) and the unit as Author."""
    shown = None if kind == "kuesioner" else plan.period if plan is not None and kind == "tindak-lanjut" else period
    title = TITLES.get(kind, kind) + (f" {shown.name}" if shown is not None and kind != "kuesioner" else "")
    choice = None
    if shown is not None:
        # The date and signatories chosen for the period (remembered), else its default
        # date -- never silently the printing day; an explicit `today` overrides the date.
        choice = report_choice(session, unit, shown)
        if today is not None:
            choice = replace(choice, report_date=today)
        today = choice.report_date
    parts, footer = _build(kind, session, unit, period, today, progress, plan, links, choice)
    return finish_pdf(parts, f"{title} – {unit.name}", unit.name, footer)


def _build(kind, session, unit, period, today, progress, plan, links, choice) -> tuple[list[bytes], Optional[str]]:
    """The parts of one document and, for a joined one, its running footer."""
    today = today or unit_today(unit)  # only the questionnaire, which carries no report date
    if kind == "kuesioner":
        return [render_pdf("reports/kuesioner.html", links=links, **R.questionnaire_sheet(unit))], None
    if kind == "tindak-lanjut":
        from skm.reports.followup import followup_context  # RTL models come from the `rtl` branch

        if plan is None:
            raise R.DomainError("Pilih rencana tindak lanjut.")
        # Appendix 2, the questionnaire used, joined: one page sequence over both parts.
        body = render_pdf("reports/tindak_lanjut.html", links=links, stamped=True,
                          **followup_context(session, unit, plan, today, choice=choice))
        form = render_pdf("reports/kuesioner.html", links=links, stamped=True,
                          appendix="LAMPIRAN 2 ", **R.questionnaire_sheet(unit))
        return [body, form], f"Laporan Hasil Tindak Lanjut SKM {plan.period.name} · {unit.name}"
    if period is None:
        raise R.DomainError("Pilih periode.")
    if kind in R.RESULT_KINDS:
        require_respondents(session, unit, period)
    if kind in ("poster", "poster-a3"):
        size = "a3" if kind == "poster-a3" else "a4"
        return [render_pdf("reports/poster_pdf.html", links=links, size=size, **R.poster(session, unit, period))], None
    if kind == "pengolahan":
        return [data_sheet_bytes(session, unit, period, progress=progress)], None
    if kind == "laporan":
        # Chapters in xhtml2pdf; the two appendices, which grow with the respondents,
        # in ReportLab (see skm.pdf), joined into one file.
        context = R.results_report(session, unit, period, today, choice=choice)
        body = render_pdf("reports/laporan.html", links=links, stamped=True, **context)
        static_dir, _ = folders()
        suggestions = suggestions_pdf("LAMPIRAN 1 SARAN DAN MASUKAN RESPONDEN",
                                      f"{unit.name} · Periode {period.name} ({context['period_range']}) · "
                                      f"{R.integer_id(len(context['suggestions']))} saran",
                                      context["suggestions"], static_dir, number_pages=False)
        sheet = data_sheet_bytes(session, unit, period, progress=progress, prefix="LAMPIRAN 2 – ",
                                 number_pages=False)
        return [body, suggestions, sheet], f"Laporan Hasil SKM {period.name} · {unit.name}"
    raise R.DomainError(f"Jenis laporan tidak dikenal: {kind}")
