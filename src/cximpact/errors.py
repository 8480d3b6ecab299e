"""The one tree of errors and warnings cximpact raises.

::

    CximpactError                     root; every error a user can cause derives from it
    ├── ContractError(ValueError)     a column, value or mapping breaks a data contract
    │   └── FileFormatError           the file is not what it claims (binary, delimiter, truncated)
    ├── ConfigError(ValueError)       a setting, mapping, routing or taxonomy file is invalid
    ├── NotFittedError(RuntimeError)  a model was used before ``fit``
    ├── NotFoundError(LookupError)    an issue, customer or case id does not exist
    ├── StoreError                    a database could not be opened, migrated or written
    └── StateError                    an operation is not allowed in the object's current state

    CximpactWarning(UserWarning)
    └── LowSampleWarning              an estimate rests on too little data to trust

Messages name the thing, what was expected, what was found and the fix. Each error carries an
``http_status`` so the HTTP layer maps it with one handler.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContractError",
    "CximpactError",
    "CximpactWarning",
    "FileFormatError",
    "LowSampleWarning",
    "NotFittedError",
    "NotFoundError",
    "StateError",
    "StoreError",
]


class CximpactError(Exception):
    """Root of every error cximpact raises on purpose."""

    http_status = 500


class ContractError(CximpactError, ValueError):
    """Input data breaks a data contract (missing column, bad mapping, wrong kind)."""

    http_status = 422


class FileFormatError(ContractError):
    """A file is not what it claims to be: binary, wrong delimiter, truncated, unreadable."""

    http_status = 400


class ConfigError(CximpactError, ValueError):
    """A setting or a configuration file (mapping, routing, taxonomy) is invalid."""

    http_status = 400


class NotFittedError(CximpactError, RuntimeError):
    """A model was asked to predict before it was fitted."""

    http_status = 500


class NotFoundError(CximpactError, LookupError):
    """A requested issue, customer or case does not exist."""

    http_status = 404


class StoreError(CximpactError):
    """A store could not be opened, migrated or written."""

    http_status = 503


class StateError(CximpactError):
    """The operation is not allowed in the current state (for example an invalid transition)."""

    http_status = 409


class CximpactWarning(UserWarning):
    """Root of cximpact's warnings."""


class LowSampleWarning(CximpactWarning):
    """An estimate rests on too little data to be trusted."""
