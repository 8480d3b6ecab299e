"""The context-manager protocol shared by the stores: ``with Store(...) as s`` closes ``s``."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """Mixin: ``__enter__`` returns the store, ``__exit__`` calls its ``close()``."""

    def close(self) -> None:  # pragma: no cover - every store defines it
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
