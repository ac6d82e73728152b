"""kwanalytics: evidence from key-work sessions and behaviour records, for special schools and colleges."""

__version__ = "0.1.0"
