"""Demo data: one unit, three services, four quarters of plausible responses."""
from __future__ import annotations

import datetime as dt
import random
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from skm.core.clock import unit_today
from skm.models import Period, Unit
from skm.survey.periods import quarter
from skm.survey.responses import ResponseData, record_response
from skm.survey.units import add_services, create_unit

SUGGESTIONS = [
    "Antrean pagi terlalu panjang, mohon tambah loket.",
    "Petugas ramah dan sigap, terima kasih.",
    "Ruang tunggu panas, AC perlu diperbaiki.",
    "Informasi persyaratan di papan pengumuman kurang jelas.",
    "Mohon disediakan tempat parkir yang lebih luas.",
    "Proses cepat, pertahankan.",
    "Kotak pengaduan tidak pernah ditanggapi.",
    "Toilet perlu lebih bersih.",
]
# Mean tendency per element: facilities and complaint handling lag, as in many real units.
TENDENCY = {"U1": 3.4, "U2": 3.3, "U3": 3.2, "U4": 3.8, "U5": 3.4, "U6": 3.5, "U7": 3.6, "U8": 3.0, "U9": 3.1}


def _rating(rng: random.Random, mean: float) -> int:
    value = round(rng.gauss(mean, 0.55))
    return max(1, min(4, value))


def last_quarters(today: dt.date, count: int = 4):
    q = (today.month - 1) // 3 + 1
    year = today.year
    spans = []
    for _ in range(count):
        q -= 1
        if q == 0:
            q, year = 4, year - 1
        spans.append(quarter(year, q))
    return list(reversed(spans))


def seed_demo(session: Session, today: dt.date | None = None, seed: int = 2017) -> Unit:
    rng = random.Random(seed)
    unit = create_unit(
        session, "DEMO", "Dinas Penanaman Modal dan PTSP Kota Contoh",
        address="Jl. Merdeka No. 17, Kota Contoh", phone="(0274) 555-0117", city="Kota Contoh",
        timezone="WIB", head_name="Dr. Siti Rahmawati, S.E., M.M.", head_position="Kepala Dinas",
        head_rank="Pembina Utama Muda (IV/c)", head_nip="197203151998032004", kiosk_show_ikm=True,
    )
    today = today or unit_today(unit)
    services = add_services(session, unit, ["Izin Usaha", "Izin Mendirikan Bangunan", "Konsultasi Perizinan"])
    for span in last_quarters(today):
        if session.scalar(select(Period).where(Period.name == span.name)) is None:
            session.add(Period(name=span.name, kind=span.kind, start_date=span.start, end_date=span.end,
                               population=rng.choice([300, 450, 600])))
        drift = rng.uniform(-0.15, 0.15)
        days = (span.end - span.start).days
        for _ in range(rng.randint(70, 130)):
            day = span.start + dt.timedelta(days=rng.randint(0, days))
            if day.weekday() >= 5:
                day -= dt.timedelta(days=day.weekday() - 4)
            hour = rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 15])
            occupation = rng.choices(["PNS", "TNI", "POLRI", "SWASTA", "WIRAUSAHA", "LAINNYA"],
                                     [15, 3, 3, 35, 30, 14])[0]
            ratings: dict[str, Optional[int]] = {code: _rating(rng, mean + drift) for code, mean in TENDENCY.items()}
            data = ResponseData(
                survey_date=day,
                survey_time=dt.time(hour, rng.randint(0, 59)),
                time_slot="08.00-12.00" if hour < 12 else "13.00-17.00",
                service_id=rng.choice(services).id,
                gender=rng.choice("LP"),
                age=max(17, min(75, int(rng.gauss(37, 11)))),
                education=rng.choices(["TS", "SD", "SMP", "SMA", "DIII", "S1", "S2", "S3"],
                                      [2, 5, 8, 38, 12, 28, 6, 1])[0],
                occupation=occupation,
                occupation_other="Mahasiswa" if occupation == "LAINNYA" else None,
                suggestion=rng.choice(SUGGESTIONS) if rng.random() < 0.15 else None,
                ratings=ratings,
            )
            record_response(session, unit, data, rng.choice(["kiosk", "kiosk", "paper"]))
    return unit
