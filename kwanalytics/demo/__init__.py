"""A synthetic school with planted patterns and mistakes (never real data)."""
