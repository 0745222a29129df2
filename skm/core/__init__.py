"""Shared ground: errors, clock, formatting, parsing, database setup."""
