"""Loading a conductor block by the name a setting or a spec gives, with errors that say how to
fix the name, the block or the Prefect connection.

Nothing here ever puts a block's values in a message: only names, types and Prefect's reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from ai_conductor.errors import ConfigError

if TYPE_CHECKING:
    from prefect.blocks.core import Block

B = TypeVar("B", bound="Block")


def load_block(cls: type[B], name: str, origin: str) -> B:
    """The ``cls`` block document called ``name`` (``NAME`` or ``BLOCK-TYPE-SLUG/NAME``).

    ``origin`` says where the name came from (``CONDUCTOR_WEAVIATE_BLOCK``, ``backend option
    llm_block``) and is quoted in errors. A missing block, a block of another type, or an
    unreachable Prefect API is a :class:`ConfigError` naming the block and how to create it.
    """
    slug, kind = cls.get_block_type_slug(), cls.__name__
    given = name.strip()
    prefix, _, rest = given.rpartition("/")
    if prefix and prefix != slug:
        raise ConfigError(
            f"{origin} names {given!r}, a {prefix!r} block, but a block of type {kind} "
            f"({slug}) is needed; name one (create it with {kind}(...).save(NAME))"
        )
    if not rest:
        raise ConfigError(f"{origin} is empty: name a {kind} block")
    try:
        block = cls.load(rest, _sync=True)  # type: ignore[call-arg]
    except Exception as exc:  # prefect raises ValueError, httpx errors, validation errors
        other = _type_of_namesake(rest, slug)
        if other is not None:
            raise ConfigError(
                f"the block {rest!r} ({origin}) is a {other!r} block, not of type {kind} "
                f"({slug}); create one with {kind}(...).save(NAME) and name that one"
            ) from None
        raise ConfigError(
            f"cannot load the {kind} block {rest!r} ({origin}): {_reason(exc)}; create it with "
            f"{kind}(...).save({rest!r}) or in the Prefect UI (register the types first: "
            "`prefect block register -m ai_conductor.blocks`), and check PREFECT_API_URL"
        ) from None
    if not isinstance(block, cls):  # a subclass' load returns the subclass; be sure anyway
        raise ConfigError(f"the block {rest!r} ({origin}) is not a {kind}")
    return block


def _reason(exc: Exception) -> str:
    """Why loading failed, without values: a pydantic error lists inputs, secrets included."""
    invalid = exc if isinstance(exc, ValidationError) else exc.__cause__  # prefect wraps it
    if isinstance(invalid, ValidationError):
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors())
        return f"its stored values do not validate ({fields}); edit or re-save it"
    text = str(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _type_of_namesake(name: str, slug: str) -> str | None:
    """The type name of a block document called ``name`` whose type is not ``slug``, if one
    exists (best effort)."""
    try:
        from ai_conductor._prefect import sync_client

        with sync_client() as client:
            reply = client.request(
                "POST", "/block_documents/filter",
                json={"block_documents": {"name": {"any_": [name]}}, "include_secrets": False},
            )  # fmt: skip
            reply.raise_for_status()
            docs = reply.json()
    except Exception:
        return None
    for doc in docs if isinstance(docs, list) else []:
        kind = doc.get("block_type") or {}
        if doc.get("name") == name and kind.get("slug") != slug and kind.get("name"):
            return str(kind["name"])
    return None
