"""The blank paper questionnaire as a plain dict (print page and PDF render the same data)."""
from __future__ import annotations

from skm.models import Unit
from skm.survey import profile as P

# ---------------------------------------------------------------- blank questionnaire

def questionnaire_sheet(unit: Unit) -> dict:
    """Everything the printed blank questionnaire shows (HTML now, PDF later)."""
    questionnaire = unit.current_questionnaire
    assert questionnaire is not None, "every unit gets a questionnaire when it is created"
    profile = []
    if unit.ask_gender:
        profile.append({"key": "gender", "label": "Jenis kelamin", "options": list(P.GENDERS.values())})
    if unit.ask_age:
        profile.append({"key": "age", "label": "Usia", "options": [], "suffix": "tahun"})
    if unit.ask_education:
        profile.append({"key": "education", "label": "Pendidikan terakhir", "options": list(P.EDUCATION.values())})
    if unit.ask_occupation:
        profile.append({"key": "occupation", "label": "Pekerjaan", "options": list(P.OCCUPATION.values()),
                        "other": "Lainnya"})
    return {
        "unit": {"code": unit.code, "name": unit.name, "address": unit.address, "phone": unit.phone,
                 "city": unit.city, "timezone": unit.timezone},
        "version": questionnaire.version,
        "time_slots": list(P.TIME_SLOTS),
        "services": [s.name for s in unit.services if s.active],
        "profile": profile,
        "elements": [
            {"number": i, "code": e.code, "name": e.name, "question": e.question,
             "labels": [(n, label) for n, label in enumerate(e.labels, start=1)]}
            for i, e in enumerate(questionnaire.elements, start=1)
        ],
        "intro": "Dalam rangka meningkatkan kualitas pelayanan publik, kami mohon kesediaan Saudara "
                 "mengisi kuesioner ini. Berilah tanda silang (X) pada jawaban yang sesuai. "
                 "Survei ini tanpa nama: jangan menuliskan nama, NIK atau nomor telepon.",
        "thanks": "Terima kasih atas penilaian yang telah Anda berikan.",
    }
