"""Tablet kiosk: paired devices and the survey flow."""
