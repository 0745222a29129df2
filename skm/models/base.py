"""Constants the tables and the domain share."""
from __future__ import annotations

CHANNELS = ("kiosk", "paper", "import", "online")
ROLES = ("admin", "manager", "operator")
PERIOD_KINDS = ("triwulan", "semester", "tahun", "custom")
