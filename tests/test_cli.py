import json
from fractions import Fraction
from pathlib import Path

from sqlalchemy import func, select

from skm.models import Period, Response, Unit, User
from skm.survey.periods import quarter
from tests.factories import make_period

DATA = Path(__file__).parent / "data"


def invoke(runner, *args, input=None):
    return runner.invoke(args=["skm", *args], input=input)


def test_cli_end_to_end_on_a_file(db, runner):
    assert invoke(runner, "create-unit", "dpmptsp", "--name", "DPMPTSP Kota Uji").exit_code == 0
    unit = db.session.scalar(select(Unit))
    assert unit.code == "DPMPTSP" and len(unit.current_questionnaire.elements) == 9
    make_period(db.session, quarter(2023, 3), population=100)
    db.session.commit()
    csv_path = str(DATA / "triwulan_published.csv")
    refused = invoke(runner, "import", csv_path, "--unit", "DPMPTSP")
    assert refused.exit_code == 1 and "kolom layanan" in refused.output
    assert db.session.scalar(select(func.count(Response.id))) == 0

    done = invoke(runner, "import", csv_path, "--unit", "DPMPTSP", "--channel", "paper", "--create-services")
    assert done.exit_code == 0, done.output
    assert "57 responden" in done.output

    again = invoke(runner, "import", csv_path, "--unit", "DPMPTSP", "--create-services")
    assert again.exit_code == 1 and "sudah diimpor" in again.output
    assert db.session.scalar(select(func.count(Response.id))) == 57

    text = invoke(runner, "results", "--unit", "DPMPTSP", "--period", "Triwulan III 2023")
    assert text.exit_code == 0
    assert "IKM: 90,89  Mutu: A  Kinerja: Sangat Baik" in text.output
    assert "Sarana dan prasarana" in text.output and "3,51  B" in text.output
    assert "Sampel: 57 dari minimal 80" in text.output and "kurang 23 responden" in text.output

    raw = invoke(runner, "results", "--unit", "DPMPTSP", "--period", "triwulan iii 2023", "--json")
    data = json.loads(raw.output)
    assert data["respondents"] == 57 and data["ikm_display"] == "90,89" and data["grade"] == "A"
    assert Fraction(data["ikm_exact"]) == Fraction(1865 * 25, 57 * 9)
    assert abs(data["ikm"] - 90.88693957) < 1e-6
    u8 = next(e for e in data["elements"] if e["code"] == "U8")
    assert (u8["count"], u8["total"], u8["grade"], u8["name"]) == (57, 200, "B", "Sarana dan prasarana")
    assert sum(data["profile"]["gender"].values()) == 57
    assert data["profile"]["service"] == {"Cetak KTP": 28, "Izin Usaha": 29}

    by_service = json.loads(invoke(runner, "results", "--unit", "DPMPTSP", "--period", "Triwulan III 2023",
                                   "--service", "Cetak KTP", "--json").output)
    assert by_service["respondents"] == 28

    ranged = json.loads(invoke(runner, "results", "--unit", "DPMPTSP", "--from", "2023-07-01",
                               "--to", "2023-07-31", "--json").output)
    assert 0 < ranged["respondents"] < 57


def test_results_for_an_empty_period_say_no_data(db, runner):
    invoke(runner, "create-unit", "KOSONG", "--name", "Unit Kosong")
    out = invoke(runner, "results", "--unit", "KOSONG", "--from", "2020-01-01", "--to", "2020-03-31")
    assert out.exit_code == 0 and "Belum ada data" in out.output
    data = json.loads(invoke(runner, "results", "--unit", "KOSONG", "--from", "2020-01-01", "--to",
                             "2020-03-31", "--json").output)
    assert data["respondents"] == 0 and data["ikm"] is None


def test_cli_refuses_unknown_unit_and_period(db, runner):
    out = invoke(runner, "results", "--unit", "NOPE", "--period", "Triwulan I 2023")
    assert out.exit_code != 0 and "tidak ditemukan" in out.output
    invoke(runner, "create-unit", "ADA", "--name", "Ada")
    out = invoke(runner, "results", "--unit", "ADA", "--period", "Triwulan IX")
    assert out.exit_code != 0 and "tidak ditemukan" in out.output


def test_create_user_with_password_stdin(db, runner):
    invoke(runner, "create-unit", "U1X", "--name", "Unit")
    out = invoke(runner, "create-user", "Budi", "--role", "manager", "--unit", "U1X", "--password-stdin",
                 input="kata-sandi-panjang\n")
    assert out.exit_code == 0, out.output
    user = db.session.scalar(select(User))
    assert user.username == "budi" and user.role == "manager" and [u.code for u in user.units] == ["U1X"]
    assert "kata-sandi-panjang" not in user.password_hash
    short = invoke(runner, "create-user", "ani", "--role", "operator", "--password-stdin", input="pendek\n")
    assert short.exit_code != 0 and "minimal 10" in short.output


def test_create_period_and_seed_demo(db, runner):
    assert invoke(runner, "create-period", "triwulan", "--year", "2024", "--number", "1").exit_code == 0
    period = db.session.scalar(select(Period))
    assert (period.name, str(period.end_date)) == ("Triwulan I 2024", "2024-03-31")
    out = invoke(runner, "seed-demo")
    assert out.exit_code == 0 and "kata sandi:" in out.output
    again = invoke(runner, "seed-demo", "--if-empty")
    assert again.exit_code == 0 and "kata sandi" not in again.output
    assert db.session.scalar(select(func.count(Response.id))) > 200
    demo_periods = db.session.scalars(select(Period).where(Period.kind == "triwulan")).all()
    assert len(demo_periods) >= 4
