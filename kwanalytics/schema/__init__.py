"""Canonical tables (pandera models) and the source-system profiles that map exports onto them."""
