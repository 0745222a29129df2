"""Publication: closing publishes, reopening/opt-out/withdrawal take it back, nothing else is public."""
from __future__ import annotations

import io
import itertools

import pytest
from flask import url_for
from sqlalchemy import select

from skm.core.formatting import number_id
from skm.followup.public import rotating_item, said_done_items
from skm.models import PeriodUnitLog, PublicationLog, Response
from skm.survey import publication as P
from skm.survey.period_admin import close_period, reopen_period
from tests.factories import login
from tests.publication_fixtures import (
    PICKED,
    PUB_RATINGS,
    SECRETS,
    build_public_world,
    exact_ikm,
)


@pytest.fixture
def world(app, db):
    w = build_public_world(db.session, app.config["UPLOAD_FOLDER"])
    db.session.commit()
    return w


def _text(response) -> str:
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)
    if response.mimetype.startswith("image/"):
        return ""
    return response.get_data(as_text=True)


def test_closing_publishes_and_reopening_takes_it_back(db, world, client):
    q4 = world.periods[(2023, 4)]
    assert P.is_published(db.session, world.pub, q4)
    response = client.get("/publik")
    assert response.headers["Cache-Control"] == "no-cache"  # a withdrawal shows at the next visit
    page = response.get_data(as_text=True)
    latest = number_id(exact_ikm(PUB_RATINGS[(2023, 4)]))
    assert "Dinas Terbuka" in page and f">{latest}<" in page and "Triwulan IV 2023" in page
    assert client.get(f"/publik/PUB/poster/{q4.id}.pdf").status_code == 200

    reopen_period(db.session, q4, world.pub, world.admin, "koreksi")
    db.session.commit()
    assert not P.is_published(db.session, world.pub, q4)
    page = client.get("/publik").get_data(as_text=True)
    assert "Triwulan IV 2023" not in page  # the latest published is now Triwulan III
    assert f">{number_id(exact_ikm(PUB_RATINGS[(2023, 3)]))}<" in page
    assert client.get(f"/publik/PUB/poster/{q4.id}.pdf").status_code == 404

    close_period(db.session, q4, world.pub, world.admin)  # closing again publishes again
    db.session.commit()
    assert "Triwulan IV 2023" in client.get("/publik").get_data(as_text=True)


def test_withdraw_and_republish_are_logged_and_a_new_closing_republishes(db, world, client):
    q4 = world.periods[(2023, 4)]
    P.withdraw(db.session, world.pub, q4, world.admin, "angka salah")
    db.session.commit()
    assert not P.is_published(db.session, world.pub, q4)
    assert client.get(f"/publik/PUB/poster/{q4.id}.pdf").status_code == 404
    with pytest.raises(P.DomainError):
        P.withdraw(db.session, world.pub, q4, world.admin)  # nothing to withdraw any more
    P.republish(db.session, world.pub, q4, world.admin, "")
    assert P.is_published(db.session, world.pub, q4)
    P.withdraw(db.session, world.pub, q4, world.admin, "lagi")
    reopen_period(db.session, q4, world.pub, world.admin)
    with pytest.raises(P.DomainError):
        P.republish(db.session, world.pub, q4, world.admin)  # open periods are never public
    close_period(db.session, q4, world.pub, world.admin)
    assert P.is_published(db.session, world.pub, q4)
    log = [(e.action, e.note, e.user_id) for e in P.publication_log(db.session, world.pub) if e.period_id]
    assert log == [("withdraw", "lagi", world.admin.id), ("republish", "", world.admin.id),
                   ("withdraw", "angka salah", world.admin.id)]


def test_opt_out_hides_the_unit_and_is_logged(db, world, client):
    assert [u.code for u in P.publishing_units(db.session)] == ["PUB"]
    P.set_opt_out(db.session, world.pub, world.admin, True, "rapat pimpinan")
    db.session.commit()
    assert P.publishing_units(db.session) == []
    assert "Dinas Terbuka" not in client.get("/publik").get_data(as_text=True)
    assert client.get("/publik/PUB").status_code == 404
    assert said_done_items(db.session) == []
    P.set_opt_out(db.session, world.hid, world.admin, False)  # the hidden unit opts back in
    db.session.commit()
    assert "Dinas Tertutup" in client.get("/publik").get_data(as_text=True)
    actions = db.session.scalars(select(PublicationLog.action).where(
        PublicationLog.action.in_(["opt_out", "opt_in"])).order_by(PublicationLog.id)).all()
    assert actions == ["opt_out", "opt_out", "opt_in"]


def test_manager_withdraws_through_the_page_and_bad_input_changes_nothing(app, db, world, client, no_csrf):
    from tests.factories import make_user

    make_user(db.session, "manajer", "manager", [world.pub])
    db.session.commit()
    login(client, "manajer")
    q4 = world.periods[(2023, 4)]
    page = client.get(f"/admin/units/{world.pub.id}/publikasi").get_data(as_text=True)
    assert "Tarik publikasi" in page and "Dinas Terbuka" in page
    before = len(P.publication_log(db.session, world.pub))
    r = client.post(f"/admin/units/{world.pub.id}/publikasi/pilihan", data={"publish": "x"}, follow_redirects=True)
    assert "Pilih apakah hasil unit dipublikasikan." in r.get_data(as_text=True)
    assert len(P.publication_log(db.session, world.pub)) == before and not P.opted_out(db.session, world.pub)
    client.post(f"/admin/units/{world.pub.id}/publikasi/{q4.id}/tarik", data={"note": "salah ketik"})
    db.session.expire_all()
    assert not P.is_published(db.session, world.pub, q4)
    assert client.post(f"/admin/units/{world.hid.id}/publikasi/pilihan", data={"publish": "1"}).status_code == 403


def test_only_picked_suggestions_of_published_periods_are_public(app, db, world, client, no_csrf):
    html = client.get("/publik/PUB").get_data(as_text=True)
    assert PICKED in html and "SARAN-PUB-RAHASIA" not in html and "SARAN-TERBUKA-DIPILIH" not in html
    assert [s.text for s in P.public_suggestions(db.session, world.pub)] == [PICKED]
    # unpicked through the page (logged): gone
    login(client, "admin")
    q3 = world.periods[(2023, 3)]
    page = client.get(f"/admin/units/{world.pub.id}/publikasi/saran?period={q3.id}").get_data(as_text=True)
    assert PICKED in page and "SARAN-PUB-RAHASIA" in page
    client.post(f"/admin/units/{world.pub.id}/publikasi/saran/{world.picked_response}",
                data={"public": "0", "period": str(q3.id)})
    assert PICKED not in client.get("/publik/PUB").get_data(as_text=True)
    assert db.session.scalars(select(PublicationLog.action).where(
        PublicationLog.unit_id == world.pub.id).order_by(PublicationLog.id)).all()[-1] == "unpick"
    # another unit's response cannot be picked from this unit's page
    hid_response = db.session.scalar(select(Response.id).where(Response.unit_id == world.hid.id))
    r = client.post(f"/admin/units/{world.pub.id}/publikasi/saran/{hid_response}", data={"public": "1"},
                    follow_redirects=True)
    assert "Saran tidak ditemukan pada unit ini." in r.get_data(as_text=True)
    # an excluded response's suggestion is not shown even when picked
    P.set_suggestion_public(db.session, world.pub, world.picked_response, world.admin, True)
    response = db.session.get(Response, world.picked_response)
    response.excluded = True
    db.session.commit()
    assert P.public_suggestions(db.session, world.pub) == []


def test_cli_close_and_reopen_period(app, db, world):
    runner = app.test_cli_runner()
    q1 = world.periods[(2024, 1)]
    result = runner.invoke(args=["skm", "close-period", "--unit", "pub", "--period", "Triwulan I 2024"])
    assert result.exit_code == 0, result.output
    assert "dipublikasikan" in result.output
    db.session.expire_all()
    assert P.is_published(db.session, world.pub, q1)
    log = db.session.scalars(select(PeriodUnitLog).where(PeriodUnitLog.period_id == q1.id)).all()
    assert [(e.action, e.user_id, e.note) for e in log] == [("close", None, "(CLI)")]
    result = runner.invoke(args=["skm", "reopen-period", "--unit", "PUB", "--period", "Triwulan I 2024",
                                 "--user", "admin", "--note", "salah tutup"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not P.is_published(db.session, world.pub, q1)
    result = runner.invoke(args=["skm", "close-period", "--unit", "PUB", "--period", "Triwulan IX"])
    assert result.exit_code != 0 and "tidak ditemukan" in result.output
    result = runner.invoke(args=["skm", "reopen-period", "--unit", "PUB", "--period", "Triwulan I 2024"])
    assert result.exit_code != 0 and "belum ditutup" in result.output


def test_public_page_latest_trend_and_archive(db, world, client):
    html = client.get("/publik/PUB").get_data(as_text=True)
    latest = number_id(exact_ikm(PUB_RATINGS[(2023, 4)]))
    assert f'<p class="ikm">{latest}</p>' in html and "4 responden" in html
    trend = html[html.index('class="trend"'):html.index("</table>")]
    trend_keys = [(2023, 1), (2023, 2), (2023, 3), (2023, 4)]
    positions = [trend.index(f">{number_id(exact_ikm(PUB_RATINGS[k]))}<") for k in trend_keys]
    assert positions == sorted(positions)  # oldest first, the last four published only
    assert trend.count('class="bar ') == 4
    assert "Triwulan IV 2022" not in trend and "Triwulan IV 2022" in html  # in the archive only
    assert html.count("/publik/PUB/poster/") == 5
    pdf = client.get(f"/publik/PUB/poster/{world.periods[(2022, 4)].id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert number_id(exact_ikm(PUB_RATINGS[(2022, 4)])) in _text(pdf)


def test_excluded_responses_do_not_count_on_the_public_page(db, world, client):
    html = client.get("/publik/PUB").get_data(as_text=True)
    q3 = exact_ikm(PUB_RATINGS[(2023, 3)])  # the excluded all-1 response is not in it
    assert f">{number_id(q3)}<" in html


def test_said_done_items_public_photo_and_rotation(app, db, world, client):
    items = said_done_items(db.session)
    assert [i.action_id for i in items] == [world.done_action]
    item = items[0]
    assert item.what == "Loket antrean kedua dibuka setiap hari kerja"
    assert item.when == "6 November s.d. 10 November 2023"
    assert [p["id"] for p in item.photos] == [world.public_photo]
    html = client.get("/publik/PUB").get_data(as_text=True)
    assert "Anda menyampaikan" in html and "Loket antrean kedua dibuka" in html and "6 November s.d. 10 November 2023" in html
    assert item.element_code in html and item.element_name in html
    assert client.get(f"/publik/foto/{world.public_photo}/thumb").status_code == 200
    assert client.get(f"/publik/foto/{world.public_photo}/full").mimetype.startswith("image/")
    assert client.get(f"/publik/foto/{world.private_photo}/thumb").status_code == 404
    assert client.get(f"/publik/foto/{world.hidden_photo}/thumb").status_code == 404
    assert rotating_item(db.session, world.pub).action_id == world.done_action
    assert rotating_item(db.session, world.hid) is None
    # the lobby poster page shows one item too
    world.pub.kiosk_show_ikm = True
    db.session.commit()
    poster = client.get("/papan/PUB").get_data(as_text=True)
    assert "Anda menyampaikan, kami menindaklanjuti" in poster and "Loket antrean kedua dibuka" in poster
    # reopening the plan's period takes the item and its photo off
    reopen_period(db.session, world.periods[(2023, 3)], world.pub, world.admin)
    db.session.commit()
    assert said_done_items(db.session) == []
    assert client.get(f"/publik/foto/{world.public_photo}/thumb").status_code == 404
    assert "Anda menyampaikan" not in client.get("/papan/PUB").get_data(as_text=True)


def test_photo_public_flag_is_set_by_the_unit_and_logged(app, db, world, client, no_csrf):
    login(client, "admin")
    r = client.post(f"/admin/rtl/photo/{world.private_photo}/publik", data={"public": "1"})
    assert r.status_code == 302
    assert client.get(f"/publik/foto/{world.private_photo}/thumb").status_code == 200
    action_page = client.get(f"/admin/rtl/action/{world.done_action}").get_data(as_text=True)
    assert "Foto ditampilkan untuk publik" in action_page  # in the history
    client.post(f"/admin/rtl/photo/{world.private_photo}/publik", data={"public": "0"})
    assert client.get(f"/publik/foto/{world.private_photo}/thumb").status_code == 404


def test_kiosk_thank_you_screen_shows_one_item(app, db, world):
    from tests.kiosk_helpers import pair_tablet

    world.pub.min_survey_seconds = 0
    db.session.commit()
    tablet = pair_tablet(app, db, world.pub)
    tablet.start()
    tablet.fill_all(world.pub, [4] * 9, service_id=world.pub.services[0].id)
    tablet.send()
    assert tablet.kind == "thanks"
    assert "Anda menyampaikan, kami menindaklanjuti" in tablet.html
    assert "Loket antrean kedua dibuka" in tablet.html


def _public_rules(app):
    return [r for r in app.url_map.iter_rules()
            if not r.endpoint.startswith(("admin.", "kiosk.", "online.", "qr.")) and r.endpoint not in ("static", "root")]


def test_online_survey_of_a_unit_switched_off_shows_nothing_of_it(app, db, world, client):
    """The online survey (issue 15) is a survey channel like the tablet, on for every unit by
    default, so it names its unit; a unit switched off shows none of its data, not even its name."""
    from skm.models import Unit

    hid = db.session.scalar(select(Unit).where(Unit.code == "HID"))
    hid.online_enabled = False
    db.session.commit()
    values = {"code": ["HID", "hid"], "token": ["x" * 32], "step": ["el-U1"], "kind": ["png", "svg"]}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith(("online.", "qr.")) and "GET" in r.methods]
    assert len(rules) >= 4
    for rule in rules:
        args = sorted(rule.arguments)
        for combo in itertools.product(*(values[a] for a in args)):
            with app.test_request_context():
                url = url_for(rule.endpoint, **dict(zip(args, combo)))
            response = client.get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            body = _text(response)
            for secret in SECRETS:
                assert secret not in body, (url, secret)


def test_anonymous_walk_of_every_public_url_shows_nothing_unpublished(app, db, world, client):
    """Every public route with every unit, period and photo: only published figures."""
    photos = [world.public_photo, world.private_photo, world.hidden_photo]
    values = {"code": ["PUB", "HID", "pub"], "period_id": [p.id for p in world.periods.values()],
              "photo_id": photos, "size": ["thumb", "full"]}
    published = {world.periods[k].id for k in PUB_RATINGS}
    rules = _public_rules(app)
    assert {"display.public_index", "display.public_unit_page", "display.public_poster",
            "display.public_photo_file", "display.poster_public"} <= {r.endpoint for r in rules}
    seen = ok = 0
    for rule in rules:
        unknown = [a for a in rule.arguments if a not in values]
        assert not unknown, f"{rule.endpoint}: add values for {unknown} to the public walk"
        args = sorted(rule.arguments)
        for combo in itertools.product(*(values[a] for a in args)):
            kw = dict(zip(args, combo))
            with app.test_request_context():
                url = url_for(rule.endpoint, **kw)
            for query in ("", "?layar=1"):
                response = client.get(url + query)
                seen += 1
                assert response.status_code in (200, 404), (url, response.status_code)
                if response.status_code != 200:
                    continue
                assert "Set-Cookie" not in response.headers, url  # no session for the public
                ok += 1
                body = _text(response)
                for secret in SECRETS:
                    assert secret not in body, (url, secret)
                if rule.endpoint == "display.public_poster":
                    assert kw["code"].upper() == "PUB" and kw["period_id"] in published, url
                if rule.endpoint == "display.public_photo_file":
                    assert kw["photo_id"] == world.public_photo, url
                if "code" in kw:
                    assert kw["code"].upper() == "PUB", url
    assert seen > 50 and ok >= 10
    # and writes are not possible anywhere public
    for rule in rules:
        if "POST" in rule.methods:
            pytest.fail(f"public route accepts POST: {rule}")
