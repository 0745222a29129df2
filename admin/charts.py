"""Template helper so server-rendered SVG charts also work in xhtml2pdf (which draws
<img src="data:image/svg+xml;base64,..."> but not inline <svg>)."""
from __future__ import annotations

import base64

from . import bp


@bp.app_template_filter("svg_data_uri")
def svg_data_uri(svg) -> str:
    """Markup of an <svg> element -> a data: URI usable as <img src>."""
    return "data:image/svg+xml;base64," + base64.b64encode(str(svg).strip().encode("utf-8")).decode("ascii")

