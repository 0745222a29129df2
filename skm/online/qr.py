"""QR codes of the online channel's links (segno, pure Python): PNG and SVG bytes, and
the module matrix for drawing a QR straight into a ReportLab page."""
from __future__ import annotations

import io

import segno

ERROR_LEVEL = "m"  # ~15 % of the code may be smudged or covered and it still reads
QUIET_ZONE = 4  # modules of white border: the size the standard asks for
PNG_SCALE = 8  # pixels per module: a typical survey URL gives ~300 px, sharp when printed


def make(text: str) -> segno.QRCode:
    return segno.make(text, error=ERROR_LEVEL, micro=False, boost_error=False)


def png_bytes(text: str, scale: int = PNG_SCALE) -> bytes:
    out = io.BytesIO()
    make(text).save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


def svg_bytes(text: str, title: str = "") -> bytes:
    """A standalone SVG (XML declaration, viewBox, one path); scales to any size."""
    out = io.BytesIO()
    make(text).save(out, kind="svg", scale=1, border=QUIET_ZONE, xmldecl=True, svgns=True, light="#fff",
                    title=title or None, svgclass="qr", lineclass=None, omitsize=True, unit=None)
    return out.getvalue()


def data_uri(text: str, scale: int = PNG_SCALE) -> str:
    """The PNG as a data: URI, for a template that must not reach any file (PDF, kiosk)."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(text, scale)).decode("ascii")


def matrix(text: str) -> list[list[bool]]:
    """Dark (True) and light modules, quiet zone excluded (callers draw their own margin)."""
    return [[bool(m) for m in row] for row in make(text).matrix]


def svg_markup(text: str, title: str = "") -> str:
    """The SVG without its XML declaration, to place inline in an HTML page (no extra request)."""
    return svg_bytes(text, title).decode("utf-8").split("?>", 1)[-1].strip()
