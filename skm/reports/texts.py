"""A unit's own texts for its printed reports, each with a default (the published reports
of seeds 002–004 carry them): written once, reused for every period; empty = the default.

- unit-wide: Pengertian umum, Sasaran, Ruang lingkup, Manfaat (results report, chapter I)
  and Bab I of the follow-up report;
- per period and weak element: the analysis and the recommendation (results report,
  chapter IV), prefilled from the period's RTL plan when one exists.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.errors import DomainError
from skm.core.formatting import integer_id, number_id
from skm.models import Period, ReportText, Unit

TEXT_MAX = 20000


def _pengertian(unit: Unit) -> str:
    return "\n".join((
        "Indeks Kepuasan Masyarakat (IKM) adalah data dan informasi tentang tingkat kepuasan masyarakat yang "
        "diperoleh dari hasil pengukuran secara kuantitatif dan kualitatif atas pendapat masyarakat dalam "
        "memperoleh pelayanan dari aparatur penyelenggara pelayanan publik dengan membandingkan antara harapan "
        "dan kebutuhannya.",
        "Penyelenggara pelayanan publik adalah instansi pemerintah.",
        "Pelayanan publik adalah segala kegiatan pelayanan yang dilaksanakan oleh penyelenggara pelayanan publik "
        "sebagai upaya pemenuhan kebutuhan penerima pelayanan maupun dalam rangka pelaksanaan ketentuan "
        "peraturan perundang-undangan.",
        "Unit pelayanan publik adalah unit kerja/kantor pelayanan pada instansi pemerintah yang secara langsung "
        "maupun tidak langsung memberikan pelayanan kepada penerima pelayanan.",
        "Penerima pelayanan publik adalah orang, masyarakat, lembaga instansi pemerintah dan dunia usaha yang "
        "menerima pelayanan dari aparatur penyelenggara pelayanan publik.",
        "Kepuasan pelayanan adalah hasil pendapat dan penilaian masyarakat terhadap kinerja pelayanan yang "
        "diberikan oleh aparatur penyelenggara pelayanan publik.",
        "Unsur pelayanan adalah faktor atau aspek yang terdapat dalam penyelenggaraan pelayanan sebagai variabel "
        "penyusunan indeks kepuasan masyarakat untuk mengetahui kinerja unit pelayanan.",
        "Responden adalah penerima pelayanan publik yang pada saat pencacahan sedang berada di lokasi unit "
        "pelayanan, atau yang pernah menerima pelayanan dari aparatur penyelenggara pelayanan.",
    ))


def _sasaran(unit: Unit) -> str:
    return "\n".join((
        f"Mengetahui dan mengevaluasi tingkat kinerja {unit.name} dalam memberikan pelayanan kepada masyarakat.",
        "Mendorong tumbuhnya inovasi untuk penataan sistem, mekanisme dan prosedur pelayanan, sehingga pelayanan "
        "kepada masyarakat lebih berdaya guna dan berhasil guna.",
        "Mendorong tumbuhnya kreativitas, prakarsa dan peran serta masyarakat dalam mengevaluasi dan meningkatkan "
        "kualitas pelayanan.",
    ))


def _ruang_lingkup(unit: Unit) -> str:
    return (f"Pengukuran IKM yang diselenggarakan oleh {unit.name} meliputi kepuasan masyarakat terhadap "
            f"pelayanan yang diberikan {unit.name}, diukur menurut unsur pelayanan Peraturan Menteri PANRB "
            f"Nomor 14 Tahun 2017 yang tercantum pada Bab II.")


def _manfaat(unit: Unit) -> str:
    return "\n".join((
        "Mengetahui kelemahan atau kekurangan dari masing-masing unsur dalam penyelenggaraan pelayanan publik.",
        f"Mengetahui kinerja penyelenggaraan pelayanan {unit.name} secara periodik.",
        "Sebagai bahan penetapan kebijakan yang perlu diambil dan upaya yang perlu dilakukan.",
        "Mengetahui indeks kepuasan masyarakat secara periodik terhadap hasil pelaksanaan pelayanan.",
        "Memberi masyarakat gambaran tentang kinerja unit pelayanan.",
    ))


def _tl_intro(unit: Unit) -> str:
    return ""  # empty: skm.reports.followup.default_followup_intro, which names the period


@dataclass(frozen=True)
class TextKind:
    key: str
    label: str
    hint: str
    default: Callable[[Unit], str]


TEXTS: tuple[TextKind, ...] = (
    TextKind("pengertian", "Pengertian umum", "Satu butir per baris.", _pengertian),
    TextKind("sasaran", "Sasaran", "Satu butir per baris.", _sasaran),
    TextKind("ruang_lingkup", "Ruang lingkup", "Paragraf dipisahkan satu baris kosong.", _ruang_lingkup),
    TextKind("manfaat", "Manfaat", "Satu butir per baris.", _manfaat),
    TextKind("tl_intro", "Bab I Laporan Hasil Tindak Lanjut",
             "Paragraf dipisahkan satu baris kosong. Kosong: teks bawaan yang menyebut periode dan forum.", _tl_intro),
)
TEXT_KEYS = {t.key: t for t in TEXTS}

# Permenpan-RB 14/2017 definitions of the nine standard elements (seed 002, "Unsur-unsur Penilaian").
ELEMENT_DEFINITIONS = {
    "persyaratan": "Syarat yang harus dipenuhi dalam pengurusan suatu jenis pelayanan, baik persyaratan teknis "
                   "maupun administratif.",
    "sistem, mekanisme, dan prosedur": "Tata cara pelayanan yang dibakukan bagi pemberi dan penerima pelayanan, "
                                       "termasuk pengaduan.",
    "waktu penyelesaian": "Jangka waktu yang diperlukan untuk menyelesaikan seluruh proses pelayanan dari setiap "
                          "jenis pelayanan.",
    "biaya/tarif": "Ongkos yang dikenakan kepada penerima layanan dalam mengurus dan/atau memperoleh pelayanan "
                   "dari penyelenggara, yang besarnya ditetapkan berdasarkan kesepakatan antara penyelenggara "
                   "dan masyarakat.",
    "produk spesifikasi jenis pelayanan": "Hasil pelayanan yang diberikan dan diterima sesuai dengan ketentuan "
                                          "yang telah ditetapkan.",
    "kompetensi pelaksana": "Kemampuan yang harus dimiliki oleh pelaksana meliputi pengetahuan, keahlian, "
                            "keterampilan, dan pengalaman.",
    "perilaku pelaksana": "Sikap petugas dalam memberikan pelayanan.",
    "sarana dan prasarana": "Sarana adalah segala sesuatu yang dapat dipakai sebagai alat dalam mencapai maksud "
                            "dan tujuan (benda bergerak: komputer, mesin); prasarana adalah segala sesuatu yang "
                            "merupakan penunjang utama terselenggaranya suatu proses (benda tidak bergerak: gedung).",
    "penanganan pengaduan, saran dan masukan": "Tata cara pelaksanaan penanganan pengaduan dan tindak lanjut.",
}


def element_definition(name: str) -> str:
    """The regulation's definition of a standard element (by name), else ""."""
    return ELEMENT_DEFINITIONS.get(" ".join(name.lower().split()), "")


def _clean(text: Optional[str]) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:
        raise DomainError(f"Teks terlalu panjang (maksimal {integer_id(TEXT_MAX)} karakter).")
    return text


def _row(session: Session, unit: Unit, key: str, period_id: Optional[int] = None,
         code: Optional[str] = None) -> Optional[ReportText]:
    return session.scalar(select(ReportText).where(
        ReportText.unit_id == unit.id, ReportText.key == key,
        ReportText.period_id.is_(None) if period_id is None else ReportText.period_id == period_id,
        ReportText.element_code.is_(None) if code is None else ReportText.element_code == code))


def _store(session: Session, unit: Unit, key: str, text: str, period_id: Optional[int] = None,
           code: Optional[str] = None) -> None:
    row = _row(session, unit, key, period_id, code)
    if not text:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = ReportText(unit_id=unit.id, key=key, period_id=period_id, element_code=code)
        session.add(row)
    row.text = text


def stored_texts(session: Session, unit: Unit) -> dict[str, str]:
    """The unit's own texts by key ("" where it uses the default)."""
    out = {t.key: "" for t in TEXTS}
    for row in session.scalars(select(ReportText).where(ReportText.unit_id == unit.id,
                                                        ReportText.period_id.is_(None))):
        if row.key in out:
            out[row.key] = row.text
    return out


def unit_texts(session: Session, unit: Unit) -> dict[str, str]:
    """Every text as printed: the unit's own, else the default."""
    own = stored_texts(session, unit)
    return {t.key: own[t.key] or t.default(unit) for t in TEXTS}


def save_unit_texts(session: Session, unit: Unit, values: dict) -> None:
    """Store the given texts (unknown keys refused; empty = back to the default). Flushes."""
    unknown = set(values) - set(TEXT_KEYS)
    if unknown:
        raise DomainError("Bagian laporan tidak dikenal.")
    clean = {key: _clean(values[key]) for key in values}  # check everything before changing anything
    for key, text in clean.items():
        _store(session, unit, key, text)
    session.flush()


def lines(text: str) -> list[str]:
    """A list text (one item a line) as items."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@dataclass(frozen=True)
class ElementNote:
    code: str
    name: str
    nrr: str
    kinerja: str
    analysis: str
    recommendation: str
    own: bool  # typed by the unit (else the prefilled default)


def _default_notes(e, actions: Sequence[str]) -> tuple[str, str]:
    analysis = (f"Unsur {e.name} ({e.code}) memperoleh nilai rata-rata {number_id(e.nrr)} dengan kinerja "
                f"{e.kinerja}, termasuk unsur dengan nilai terendah pada periode ini.")
    if actions:
        recommendation = "\n".join(actions)
    else:
        recommendation = f"Menyusun rencana tindak lanjut untuk memperbaiki unsur {e.name}."
    return analysis, recommendation


def element_notes(session: Session, unit: Unit, period: Period, weak: Sequence, plan_actions: dict) -> list[ElementNote]:
    """The analysis and recommendation of each weak element (ElementScore) of the period: the
    unit's own, else prefilled -- the recommendation from the RTL plan's actions for it."""
    notes = []
    for e in weak:
        analysis, recommendation = _default_notes(e, plan_actions.get(e.code, []))
        a = _row(session, unit, "analisis", period.id, e.code)
        r = _row(session, unit, "rekomendasi", period.id, e.code)
        notes.append(ElementNote(e.code, e.name, number_id(e.nrr), e.kinerja, a.text if a else analysis,
                                 r.text if r else recommendation, bool(a or r)))
    return notes


def save_element_notes(session: Session, unit: Unit, period: Period, codes: Sequence[str], values: dict) -> None:
    """values: {"analisis-U3": text, "rekomendasi-U3": text, ...} for the codes given. Flushes."""
    clean = {}
    for code in codes:
        for key in ("analisis", "rekomendasi"):
            clean[(key, code)] = _clean(values.get(f"{key}-{code}"))
    for (key, code), text in clean.items():
        _store(session, unit, key, text, period.id, code)
    session.flush()
