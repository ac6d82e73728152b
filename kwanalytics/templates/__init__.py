"""Workbooks for key workers to fill in (`kwa template`): stage 7, beside the demo (docs/architecture.md)."""
