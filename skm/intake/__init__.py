"""Answers coming in by hand or by file: field rules, paper entry, import."""
