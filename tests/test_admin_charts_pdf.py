"""The chart macros render on screen and in xhtml2pdf, so reports can reuse them."""
from __future__ import annotations

import io

from pypdf import PdfReader

from skm.scoring.ikm import ElementTally, breakdown, score

TEMPLATE = '''{% from "macros/charts.html" import nrr_bars, count_bars, line_chart, as_image %}
<html><body><h1>Grafik</h1>{{ nrr_bars(elements) }}{{ count_bars(b) }}
{% call as_image(720, 300) %}{{ line_chart(["TW I", "TW II", "TW III"],
   [{"name": "IKM", "color": "#0b5cad", "values": [70.0, 80.5, 90.0], "show_values": true}], 60, 100,
   bands=[("A", 88.31, 100, "#1a7f37"), ("B", 76.61, 88.31, "#2f81f7")]) }}{% endcall %}
</body></html>'''


def test_charts_render_into_a_pdf(app):
    from xhtml2pdf import pisa

    scores = score([ElementTally(f"U{i}", f"Unsur {i}", 10, 25 + i) for i in range(1, 10)], 10)
    with app.app_context():
        html = app.jinja_env.from_string(TEMPLATE).render(
            elements=scores.elements, b=breakdown("Jenis kelamin", [("Laki-laki", 3), ("Perempuan", 1)]))
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert 'src="data:image/svg+xml;base64,' in html
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out)
    assert status.err == 0
    reader = PdfReader(io.BytesIO(out.getvalue()))
    text = reader.pages[0].extract_text()
    assert "U1" in text and "3,40 (B)" in text and "2,60 (C)" in text
    assert "75,00%" in text  # 3 of 4 in the profile bars
    assert "90,00" in text  # the SVG line chart's value label, drawn as an image
