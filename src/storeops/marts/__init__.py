"""Marts: derived tables computed from the canonical data and stored for fast reads."""
