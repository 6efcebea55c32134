"""Seed data sets (`sql/seeds/`): which SQL each one runs."""

from __future__ import annotations

from adxdb import sqlfiles

SEEDS = ("development", "test")


def seed_text(seed_name: str) -> str:
    """The SQL of a seed; the test seed clears earlier test data first, in the same transaction."""
    if seed_name not in SEEDS:
        raise ValueError(f"unknown seed {seed_name!r}: use one of {', '.join(SEEDS)}")
    text = sqlfiles.load(f"seeds/{seed_name}")
    if seed_name == "test":
        text = clean_test_text() + "\n" + text
    return text


def clean_test_text() -> str:
    """The SQL that removes the test seed's tenants and their rows (the `clean` job)."""
    return sqlfiles.load("seeds/clean_test")
