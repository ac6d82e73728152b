"""Errors a user can cause. The CLI prints them as one clear paragraph; anything else is a bug."""


class KwaError(Exception):
    """A problem the user can fix. ``str()`` says what happened and how to fix it."""

    exit_code = 2


class InputError(KwaError):
    """An input file or argument cannot be used at all."""


class WorkspaceError(KwaError):
    """The workspace is missing something or holds a damaged file."""
