"""PDF machinery: xhtml2pdf for the narrative documents, ReportLab directly for the data sheet.

Everything that can reach a file goes through `RestrictedLinks`: it resolves only
`/static/...` (the app's static folder) and `/uploads/...` (the upload folder) to
files that really lie inside those folders, and refuses everything else --
http(s)://, file://, absolute paths, `..` tricks, symlinks out. On top of that the
render runs under xhtml2pdf's own ResourceAccessPolicy (server preset, no remote
fetches, local reads confined to the same two folders), so even a rewrite that
slipped through the callback could not fetch anything. User text never reaches the
renderer as markup anyway: the templates are autoescaped. The one exception, a
`data:image/png;base64,` URI (our QR codes), is bytes inside the document, never a read.

No Flask import here: callers pass the two folders.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

# A 1x1 transparent GIF: what a refused resource becomes. A data: URI is part of
# the document, so xhtml2pdf never fetches anything for it.
REFUSED = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

# Our own generated images (QR codes, skm.online.qr.data_uri) may be embedded as data: URIs.
INLINE_PNG = "data:image/png;base64,"
INLINE_MAX = 512 * 1024

FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"


@dataclass
class RestrictedLinks:
    """xhtml2pdf link_callback: `/static/x` and `/uploads/x` only, inside their folders."""

    static_dir: Path
    upload_dir: Optional[Path] = None
    resolved: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.static_dir = Path(self.static_dir).resolve()
        if self.upload_dir is not None:
            self.upload_dir = Path(self.upload_dir).resolve()

    def resolve(self, uri: str) -> Optional[str]:
        """The absolute file path for an allowed URI, else None."""
        if not isinstance(uri, str) or "\x00" in uri or "\\" in uri:
            return None
        for prefix, root in (("/static/", self.static_dir), ("/uploads/", self.upload_dir)):
            if root is None or not uri.startswith(prefix):
                continue
            rest = uri[len(prefix):]
            if not rest or ":" in rest or rest.startswith("/"):
                return None
            candidate = (root / rest).resolve()
            if candidate != root and root in candidate.parents and candidate.is_file():
                return str(candidate)
            return None
        return None

    def __call__(self, uri, rel=None) -> str:
        if isinstance(uri, str) and uri.startswith(INLINE_PNG) and len(uri) <= INLINE_MAX:
            # A PNG the template embedded itself (a QR code): part of the document, no file read.
            self.resolved.append(INLINE_PNG)
            return uri
        path = self.resolve(uri)
        if path is None:
            self.refused.append(str(uri))
            log.warning("PDF resource refused: %.200r", uri)
            return REFUSED
        self.resolved.append(str(uri))
        return path


def resource_policy(static_dir: Path, upload_dir: Optional[Path]):
    """xhtml2pdf's own guard (0.2.22+), set explicitly: no network, reads only in our folders."""
    try:
        from xhtml2pdf.config.resources import ResourceAccessPolicy
    except ImportError:  # pragma: no cover - older xhtml2pdf has no policy object
        return None
    extra = (Path(upload_dir),) if upload_dir is not None else ()
    # The server preset (every limit on), without network, with room for a follow-up
    # report's documentation photos (stored re-encoded at <= 2048 px by skm.followup).
    return ResourceAccessPolicy.server(
        base_dir=Path(static_dir), extra_roots=extra, allow_remote=False, max_render_seconds=300,
        max_document_bytes=64 * 1024 * 1024, max_resources=500, max_total_bytes=400 * 1024 * 1024,
    )


class PdfError(Exception):
    pass


def html_to_pdf(html: str, static_dir, upload_dir=None, links: Optional[RestrictedLinks] = None) -> bytes:
    """Render trusted template output (user text already escaped) to PDF bytes."""
    from xhtml2pdf import pisa

    links = links or RestrictedLinks(Path(static_dir), Path(upload_dir) if upload_dir else None)
    out = io.BytesIO()
    kwargs = {}
    policy = resource_policy(links.static_dir, links.upload_dir)
    if policy is not None:
        kwargs["resource_policy"] = policy
    status = pisa.CreatePDF(html, dest=out, link_callback=links, encoding="utf-8", **kwargs)
    if status.err:
        raise PdfError(f"xhtml2pdf: {status.err} error(s)")
    return out.getvalue()


def font_face_css(regular: str = "/static/fonts/" + FONT_REGULAR, bold: str = "/static/fonts/" + FONT_BOLD) -> str:
    return (
        f"@font-face {{ font-family: DejaVu; src: url('{regular}'); }}\n"
        f"@font-face {{ font-family: DejaVu; src: url('{bold}'); font-weight: bold; }}\n"
    )
