"""A published unit and a hidden one, for the public page tests (and their screenshots)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from skm.followup import actions, photos
from skm.followup import plans as followup
from skm.models import Period, Unit, User
from skm.survey.period_admin import close_period
from skm.survey.periods import quarter
from skm.survey.publication import set_opt_out, set_suggestion_public
from tests.admin_fixtures import tiny_png
from tests.factories import make_period, make_response, make_unit, make_user

# Ratings of the published unit per quarter (each row one respondent, nine elements).
PUB_RATINGS = {
    (2022, 4): [[3] * 9, [3] * 9],
    (2023, 1): [[4] * 9, [3] * 9],
    (2023, 2): [[4] * 9, [4] * 9, [3] * 9],
    (2023, 3): [[4, 3, 3, 4, 3, 4, 4, 2, 3], [4, 4, 3, 4, 3, 4, 4, 3, 3], [3, 2, 2, 4, 3, 3, 4, 2, 3]],
    (2023, 4): [[2] * 9, [3] * 9, [4] * 9, [4] * 9],
}
OPEN_RATINGS = [[1] * 9]  # Triwulan I 2024, never closed: IKM 25,00 must never be public
HIDDEN_RATINGS = [[2] * 9, [2] * 9]  # the opted-out unit: IKM 50,00
PICKED = "Mohon ruang tunggu diperluas"  # picked by the unit, in a published period: public
SECRETS = ("SARAN-PUB-RAHASIA", "SARAN-TERBUKA-DIPILIH", "RAHASIA HID", "HID-AKSI", "AKSI-BELUM", "Dinas Tertutup", "Triwulan I 2024",
           "25,00", "50,00", "FOTO-PRIVAT")


def exact_ikm(rows) -> Fraction:
    """Recomputation from the raw rows: NRR per element, weight 1/n, × 25."""
    n = len(rows[0])
    nrr = [Fraction(sum(r[i] for r in rows), len(rows)) for i in range(n)]
    return sum(nrr, Fraction(0)) / n * 25


@dataclass
class PublicWorld:
    admin: User
    pub: Unit
    hid: Unit
    periods: dict = field(default_factory=dict)  # (year, q) -> Period
    done_action: int = 0
    open_action: int = 0
    public_photo: int = 0
    private_photo: int = 0
    hidden_photo: int = 0
    picked_response: int = 0


def _day(period: Period, offset: int) -> dt.date:
    return period.start_date + dt.timedelta(days=offset)


def build_public_world(session, upload_root: str) -> PublicWorld:
    admin = make_user(session, "admin", "admin")
    pub = make_unit(session, "PUB", "Dinas Terbuka")
    hid = make_unit(session, "HID", "Dinas Tertutup")
    w = PublicWorld(admin, pub, hid)
    for year, q in [*PUB_RATINGS, (2024, 1)]:
        w.periods[(year, q)] = make_period(session, quarter(year, q), population=50)
    picks = []
    for key, rows in PUB_RATINGS.items():
        for i, ratings in enumerate(rows):
            text = (PICKED if i == 0 else "SARAN-PUB-RAHASIA") if key == (2023, 3) else None
            response = make_response(session, pub, ratings, day=_day(w.periods[key], 10 + i),
                                     gender="P" if i % 2 else "L", suggestion=text)
            if text == PICKED:
                picks.append(response)
                w.picked_response = response.id
    q3 = w.periods[(2023, 3)]
    excluded = make_response(session, pub, [1] * 9, day=_day(q3, 20))
    excluded.excluded = True
    for a in excluded.answers:
        a.excluded = True
    for ratings in OPEN_RATINGS:
        picks.append(make_response(session, pub, ratings, day=_day(w.periods[(2024, 1)], 5),
                                   suggestion="SARAN-TERBUKA-DIPILIH"))
    for ratings in HIDDEN_RATINGS:
        picks.append(make_response(session, hid, ratings, day=_day(q3, 3), suggestion="RAHASIA HID"))
    session.flush()
    for response in picks:  # picked, but only the first is in a published period of a publishing unit
        set_suggestion_public(session, pub if response.unit_id == pub.id else hid, response.id, admin, True)

    # Follow-up of the published unit's Triwulan III 2023: one action done, one not.
    plan = followup.create_plan(session, pub, q3, admin)
    first, second = plan.priorities[0], plan.priorities[1]
    done = actions.add_action(session, first, admin, "Menambah loket antrean", 2023, [4], "Seksi Pelayanan")
    pending = actions.add_action(session, second, admin, "AKSI-BELUM direncanakan", 2023, [4], "Seksi Umum")
    for other in plan.priorities[2:]:
        actions.add_action(session, other, admin, "Pelatihan petugas", 2024, [1], "Seksi Umum")
    followup.finalize_plan(session, plan, admin)
    actions.record_realization(session, done, admin, status="sudah",
                               realization="Loket antrean kedua dibuka setiap hari kerja",
                               done_start="2023-11-06", done_end="2023-11-10")
    public = photos.add_photo(session, done, admin, tiny_png((64, 48), (20, 120, 40)), "loket.png",
                              "Loket kedua", upload_root)
    public.public = True
    private = photos.add_photo(session, done, admin, tiny_png((64, 48), (200, 20, 20)), "privat.png",
                               "FOTO-PRIVAT", upload_root)
    w.done_action, w.open_action, w.public_photo, w.private_photo = done.id, pending.id, public.id, private.id

    # The hidden unit realized an action too, in a period it closed -- but it opted out.
    hplan = followup.create_plan(session, hid, q3, admin)
    hact = actions.add_action(session, hplan.priorities[0], admin, "HID-AKSI", 2023, [4], "Seksi")
    for other in hplan.priorities[1:]:
        actions.add_action(session, other, admin, "HID-AKSI lain", 2023, [4], "Seksi")
    followup.finalize_plan(session, hplan, admin)
    actions.record_realization(session, hact, admin, status="sudah", realization="HID-AKSI selesai",
                               done_start="2023-11-01")
    hphoto = photos.add_photo(session, hact, admin, tiny_png(), "h.png", "HID-AKSI foto", upload_root)
    hphoto.public = True
    w.hidden_photo = hphoto.id

    for key in PUB_RATINGS:
        close_period(session, w.periods[key], pub, admin)
    close_period(session, q3, hid, admin)
    set_opt_out(session, hid, admin, True, "belum siap")
    session.flush()
    return w
