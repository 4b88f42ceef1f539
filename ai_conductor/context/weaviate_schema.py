"""Weaviate plumbing: connecting from settings (or the ``WeaviateConnection`` block they name),
the ``CoordinationContext`` collection, and ``init_collection()`` (the ``weaviate-init`` step).

``weaviate`` (the official v4 client, extra ``weaviate``) is imported only inside functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, Field, computed_field

from ai_conductor._urls import without_userinfo
from ai_conductor.errors import ConfigError, StoreError
from ai_conductor.settings import Settings, get_settings

if TYPE_CHECKING:
    from weaviate import WeaviateClient
    from weaviate.collections.classes.config import Property

PROPERTIES: Final = (
    # name, data type, tokenization (None: not searchable), description
    ("workflow_id", "text", "field", "Workflow the record belongs to"),
    ("task_id", "text", "field", "Task that produced the record"),
    ("context_type", "text", "field", "Kind of record: finding, change_kept, ..."),
    ("content", "text", "word", "The searchable text"),
    ("metadata", "text", None, "JSON details"),
    ("timestamp", "date", None, "When it happened (UTC)"),
    ("record_key", "text", None, "Stable key the object's UUID is derived from"),
)
"""The seed's ``CoordinationContext`` properties, plus ``record_key``."""
CLOUD_SUFFIXES: Final = (".weaviate.cloud", ".weaviate.network", ".semi.technology")
LOCAL_HOSTS: Final = ("localhost", "127.0.0.1", "::1")


class InitResult(BaseModel):
    """What :func:`init_collection` did to the collection."""

    collection: str
    """The collection's name."""
    action: Literal["created", "migrated", "unchanged"]
    """Created it, added missing properties, or found it complete."""
    added: list[str] = Field(default_factory=list)
    """Properties added by a migration."""
    warnings: list[str] = Field(default_factory=list)
    """Differences a migration cannot fix (e.g. another vectorizer)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def message(self) -> str:
        """``created``, ``migrated: added X, Y`` or ``unchanged``."""
        if self.action == "migrated":
            return f"migrated: added {', '.join(self.added)}"
        return self.action


def connection_kind(url: str) -> Literal["cloud", "local", "custom"]:
    """Which ``weaviate.connect_to_*`` helper fits ``url``."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(CLOUD_SUFFIXES):
        return "cloud"
    if host in LOCAL_HOSTS and urlsplit(url).scheme != "https":
        return "local"
    return "custom"


@contextmanager
def guard(what: str, where: str) -> Iterator[None]:
    """Turn client errors into :class:`StoreError` saying what failed where."""
    from weaviate.exceptions import WeaviateBaseError

    where = without_userinfo(where)
    try:
        yield
    except WeaviateBaseError as exc:
        detail = " ".join(str(exc).split())[:400]
        raise StoreError(f"Weaviate at {where}: {what} failed: {detail}") from None


def resolve_settings(settings: Settings) -> Settings:
    """``settings`` with every ``weaviate_*`` value taken from the ``WeaviateConnection`` block
    ``CONDUCTOR_WEAVIATE_BLOCK`` names (the block replaces them all); unchanged without one.

    The result names no block, so resolving it again costs nothing. A missing block or one of
    another type is a :class:`ConfigError` saying how to create it.
    """
    name = settings.weaviate_block
    if not name:
        return settings
    from ai_conductor.blocks._load import load_block
    from ai_conductor.blocks.weaviate import WeaviateConnection

    block = load_block(WeaviateConnection, name, "CONDUCTOR_WEAVIATE_BLOCK")
    return settings.model_copy(update={**block.settings_values(), "weaviate_block": None})


def connect(settings: Settings) -> WeaviateClient:
    """A connected client for ``settings.weaviate_url`` (+ API key), or for the block
    ``settings.weaviate_block`` names; :class:`StoreError` if down."""
    import weaviate
    from weaviate.classes.init import AdditionalConfig, Auth, Timeout

    settings = resolve_settings(settings)
    url = settings.weaviate_url
    if not url:
        raise ConfigError(
            "the weaviate context store needs WEAVIATE_URL (or CONDUCTOR_WEAVIATE_URL), "
            "e.g. http://localhost:8080 or https://CLUSTER.weaviate.cloud, or a "
            "WeaviateConnection block named in CONDUCTOR_WEAVIATE_BLOCK"
        )
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        parts.port  # noqa: B018  (validates the port)
    except ValueError as exc:
        raise ConfigError(f"WEAVIATE_URL {without_userinfo(url)!r}: {exc}; fix the port") from None
    key = settings.weaviate_api_key.get_secret_value() if settings.weaviate_api_key else None
    auth = Auth.api_key(key) if key else None
    t = settings.weaviate_timeout
    common: dict[str, Any] = {
        "headers": _module_headers(settings),
        "additional_config": AdditionalConfig(timeout=Timeout(init=t, query=t, insert=t)),
        "skip_init_checks": settings.weaviate_skip_init_checks,
    }
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 8080)
    host = parts.hostname or "localhost"
    with guard("connecting", url):
        match connection_kind(url):
            case "cloud":
                if auth is None:
                    raise ConfigError(
                        f"Weaviate Cloud at {without_userinfo(url)} needs WEAVIATE_API_KEY"
                    )
                return weaviate.connect_to_weaviate_cloud(url, auth, **common)
            case "local":
                return weaviate.connect_to_local(
                    host, port, settings.weaviate_grpc_port, auth_credentials=auth, **common
                )
            case _:
                return weaviate.connect_to_custom(
                    host, port, secure, settings.weaviate_grpc_host or host,
                    settings.weaviate_grpc_port, secure, auth_credentials=auth, **common,
                )  # fmt: skip


def _module_headers(settings: Settings) -> dict[str, str] | None:
    if settings.weaviate_vectorizer == "text2vec-openai" and settings.openai_api_key:
        return {"X-OpenAI-Api-Key": settings.openai_api_key.get_secret_value()}
    return None


def properties() -> list[Property]:
    """The collection's properties as client objects."""
    from weaviate.classes.config import DataType, Property, Tokenization

    out = []
    for name, kind, tokens, description in PROPERTIES:
        out.append(
            Property(
                name=name,
                description=description,
                data_type=DataType.TEXT if kind == "text" else DataType.DATE,
                tokenization=Tokenization(tokens) if tokens else None,
                index_searchable=tokens is not None if kind == "text" else None,
                skip_vectorization=name != "content",
            )
        )
    return out


def vector_config(settings: Settings) -> Any:
    """Self-provided vectors, or the server-side module ``settings.weaviate_vectorizer``."""
    from weaviate.classes.config import Configure

    endpoint, model = settings.weaviate_vectorizer_endpoint, settings.weaviate_vectorizer_model
    match settings.weaviate_vectorizer:
        case "text2vec-ollama":
            return Configure.Vectors.text2vec_ollama(
                api_endpoint=endpoint, model=model, source_properties=["content"]
            )
        case "text2vec-openai":
            return Configure.Vectors.text2vec_openai(
                model=model,
                base_url=AnyHttpUrl(endpoint) if endpoint else None,
                source_properties=["content"],
            )
        case _:
            return Configure.Vectors.self_provided()


def ensure_collection(client: WeaviateClient, settings: Settings) -> InitResult:
    """Create the collection, or add the properties it lacks; a complete one is not touched."""
    settings = resolve_settings(settings)
    name, where = settings.weaviate_collection, settings.weaviate_url or "?"
    with guard(f"setting up collection {name}", where):
        if not client.collections.exists(name):
            client.collections.create(
                name,
                description="ai-conductor coordination context",
                properties=properties(),
                vector_config=vector_config(settings),
            )
            return InitResult(collection=name, action="created")
        collection = client.collections.use(name)
        config = collection.config.get(simple=True)
        have = {p.name for p in config.properties}
        missing = [p for p in properties() if p.name not in have]
        for prop in missing:
            collection.config.add_property(prop)
    added = [p.name for p in missing]
    vectorizers = sorted(
        str(getattr(v.vectorizer.vectorizer, "value", v.vectorizer.vectorizer))
        for v in (config.vector_config or {}).values()
    )
    warnings = []
    if vectorizers and settings.weaviate_vectorizer not in vectorizers:
        warnings.append(
            f"collection {name} vectorizes with {', '.join(vectorizers)} but "
            f"CONDUCTOR_WEAVIATE_VECTORIZER is {settings.weaviate_vectorizer}: a vectorizer "
            "cannot be migrated; export, delete and re-create the collection to change it"
        )
    return InitResult(
        collection=name, action="migrated" if added else "unchanged", added=added,
        warnings=warnings,
    )  # fmt: skip


def init_collection(settings: Settings | None = None) -> InitResult:
    """Create or migrate the ``CoordinationContext`` collection; idempotent."""
    settings = resolve_settings(settings or get_settings())
    client = connect(settings)
    try:
        return ensure_collection(client, settings)
    finally:
        client.close()
