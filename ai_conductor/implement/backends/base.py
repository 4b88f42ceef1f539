"""The implementer-backend interface, :class:`~ai_conductor.protocols.Backend`: it lives in
``ai_conductor.protocols`` with the other component protocols and is re-exported here."""

from ai_conductor.protocols import Backend

__all__ = ["Backend"]
