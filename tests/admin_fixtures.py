"""A small two-unit world for admin tests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from skm.followup import actions, photos
from skm.models import Device, Period, Service, Unit, User
from tests.factories import make_period, make_response, make_unit, make_user


@dataclass
class World:
    unit_a: Unit
    unit_b: Unit
    period: Period
    service_a: Service
    service_b: Service
    admin: User
    manager: User
    operator: User
    manager_b: User
    response_a: int
    response_b: int
    device_a: int
    device_b: int
    followup_a: dict | None = None
    followup_b: dict | None = None


def build_world(session) -> World:
    unit_a = make_unit(session, "UA", "Unit A", services=("Layanan A1", "Layanan A2"))
    unit_b = make_unit(session, "UB", "Unit B", services=("Layanan B1",))
    period = make_period(session, population=100)
    admin = make_user(session, "admin", "admin")
    manager = make_user(session, "manajer", "manager", [unit_a])
    operator = make_user(session, "operator", "operator", [unit_a])
    manager_b = make_user(session, "manajerb", "manager", [unit_b])
    ra = make_response(session, unit_a, [4, 3, 3, 4, 3, 4, 4, 2, 3], service=unit_a.services[0],
                       suggestion="Antrean panjang", survey_time=dt.time(9, 15))
    ra.flagged, ra.flag_reason = True, "terlalu cepat"
    rb = make_response(session, unit_b, [1, 2, 2, 1, 2, 2, 1, 1, 2], service=unit_b.services[0])
    rb.flagged = True
    da = Device(unit_id=unit_a.id, name="Tablet A")
    db_ = Device(unit_id=unit_b.id, name="Tablet B")
    session.add_all([da, db_])
    session.flush()
    return World(unit_a, unit_b, period, unit_a.services[0], unit_b.services[0], admin, manager, operator,
                 manager_b, ra.id, rb.id, da.id, db_.id)


def add_followup(session, world: World, upload_root: str) -> None:
    """A final RTL plan with one action and one photo in each unit (for the access walk)."""
    from skm.followup import plans as followup

    for side, unit in (("a", world.unit_a), ("b", world.unit_b)):
        plan = followup.create_plan(session, unit, world.period, world.admin)
        priority = plan.priorities[0]
        action = actions.add_action(session, priority, world.admin, "Tambah loket", 2023, [4], "Seksi Pelayanan")
        for other in plan.priorities[1:]:
            actions.add_action(session, other, world.admin, "Perbaiki layanan", 2023, [4], "Seksi Pelayanan")
        followup.finalize_plan(session, plan, world.admin)
        photo = photos.add_photo(session, action, world.admin, tiny_png((40, 30)), "foto.png", "Loket baru",
                                   upload_root)
        setattr(world, f"followup_{side}", {"plan_id": plan.id, "priority_id": priority.id,
                                            "action_id": action.id, "photo_id": photo.id})



def tiny_png(size=(4, 3), color=(200, 30, 30), fmt="PNG") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()
