"""The two kinds of failure a user may be told about; anything else is a bug.

`InputError`: the user's input cannot be used; the message names the field and what is allowed.
`ModelLoadError`: a model or tokenizer could not be loaded (the Hub failed or stalled); the message
says which role and what to do. The UI shows both messages as they are; every other exception is
logged with its traceback and shown as a short apology.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input the user can fix; the message is shown to them verbatim."""


class ModelLoadError(RuntimeError):
    """A role's tokenizer or model could not be loaded; the message is shown to the user verbatim."""
