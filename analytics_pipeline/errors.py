"""The project's one exception root.

Every error the project raises on purpose derives from :class:`PipelineError`; its message is
written for the person who reads it (an operator, a CLI user, an API client), so it may be
shown as it is. Anything else that escapes is a bug and is never shown to API clients.
"""

from __future__ import annotations


class PipelineError(Exception):
    """An expected failure whose message is safe and meant to be shown."""
