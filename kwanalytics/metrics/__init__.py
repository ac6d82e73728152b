"""Pure functions from canonical frames (plus calendar and settings) to figures: targets, impact, patterns."""
