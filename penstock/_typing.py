"""What penstock needs from ``typing`` at run time, without importing ``typing``.

``import typing`` costs a bare interpreter 5 to 7 ms (it brings in ``re``, ``enum`` and more),
more than all of penstock's own modules together. Type checkers take the ``TYPE_CHECKING``
branch below and see the real ``cast`` and ``overload``; at run time these stand-ins do what
typing's do where penstock uses them, and every annotation is a string that is never evaluated
(``from __future__ import annotations``), so nothing else from ``typing`` is needed.

Modules that ``import penstock`` loads take ``TYPE_CHECKING``, ``cast`` and ``overload`` from
here and import everything else from ``typing`` inside ``if TYPE_CHECKING:`` blocks; a test
checks that ``import penstock`` leaves ``typing`` unimported.
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import cast, overload
else:

    def cast(typ: object, value: object) -> object:
        """Return ``value`` unchanged, as ``typing.cast`` does."""
        return value

    def overload(func: object) -> object:
        """Return ``func`` unchanged: the implementation after the overloads replaces it."""
        return func


__all__ = ["TYPE_CHECKING", "cast", "overload"]
