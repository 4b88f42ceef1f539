"""The block types: exported for ``prefect block register -m ai_conductor.blocks``, saved to and
loaded from a real Prefect API, and loaded by name with errors that never show a secret."""

from __future__ import annotations

import contextlib
import inspect
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
from prefect.blocks.core import Block
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

import ai_conductor.blocks
from ai_conductor.blocks import AirbyteCredentials, LLMBackendConfig, WeaviateConnection
from ai_conductor.blocks._load import load_block
from ai_conductor.errors import ConfigError
from ai_conductor.settings import Settings
from tests.conftest import BIN, REPO, cli_env

SLUGS = {
    "conductor-airbyte-credentials",
    "conductor-llm-backend",
    "conductor-weaviate-connection",
}


def test_the_package_exports_every_block_type() -> None:
    found = {
        cls.get_block_type_slug()
        for _, cls in inspect.getmembers(ai_conductor.blocks)
        if inspect.isclass(cls) and issubclass(cls, Block)
    }
    assert found == SLUGS
    for cls in (AirbyteCredentials, LLMBackendConfig, WeaviateConnection):
        described = cls.model_json_schema()["properties"]
        assert all(p.get("description") for p in described.values()), cls  # docstrings reach the UI


def test_weaviate_block_mirrors_the_weaviate_settings() -> None:
    settings = {n for n in Settings.model_fields if n.startswith("weaviate_")} - {"weaviate_block"}
    assert {f"weaviate_{n}" for n in WeaviateConnection.model_fields} == settings
    hints = typing.get_type_hints(Settings)
    block_hints = typing.get_type_hints(WeaviateConnection)
    # required in the block (a connection without a URL is no connection), optional in settings
    assert (block_hints["url"], hints["weaviate_url"]) == (str, str | None)
    for name, field in WeaviateConnection.model_fields.items():
        if name != "url":
            assert block_hints[name] == hints[f"weaviate_{name}"], name
            assert field.default == Settings.model_fields[f"weaviate_{name}"].default, name


def test_secrets_stay_out_of_reprs() -> None:
    llm = LLMBackendConfig(model="m", api_key="sk-hidden-1")
    weaviate = WeaviateConnection(url="http://w:8080", api_key="wv-hidden-2")
    assert "sk-hidden-1" not in repr(llm) + str(llm.options())
    assert "wv-hidden-2" not in repr(weaviate) + repr(weaviate.settings_values())


@pytest.mark.usefixtures("prefect_api")
def test_blocks_round_trip_through_the_prefect_api() -> None:
    saved: list[Block] = [
        LLMBackendConfig(provider="anthropic", model="claude-x", base_url="http://llm:1",
                         api_key="sk-round-trip", max_tokens=99, prefill=False),
        WeaviateConnection(url="https://c1.weaviate.cloud", api_key="wv-round-trip",
                           collection="Ctx", vectorizer="text2vec-ollama", timeout=5),
        AirbyteCredentials(client_id="id", client_secret="ab-round-trip", connection_id="c"),
    ]  # fmt: skip
    for block in saved:
        block.save("conductor-test-round-trip", overwrite=True)
        loaded = type(block).load("conductor-test-round-trip")
        assert loaded == block
        assert loaded.model_dump() == block.model_dump()
    loaded_llm = LLMBackendConfig.load("conductor-test-round-trip")
    assert loaded_llm.api_key is not None
    assert loaded_llm.api_key.get_secret_value() == "sk-round-trip"
    with get_client(sync_client=True) as client:  # the API hands secrets out only when asked
        doc = client.read_block_document_by_name(
            "conductor-test-round-trip", "conductor-weaviate-connection", include_secrets=False
        )
    assert doc.data["api_key"] != "wv-round-trip"
    assert doc.data["url"] == "https://c1.weaviate.cloud"


@pytest.mark.slow
def test_prefect_block_register_registers_the_three_types(prefect_api: str, tmp_path: Path) -> None:
    with get_client(sync_client=True) as client:
        for slug in SLUGS:  # start from nothing, so registration is what creates them
            with contextlib.suppress(ObjectNotFound):
                client.delete_block_type(client.read_block_type_by_slug(slug).id)
            with pytest.raises(ObjectNotFound):
                client.read_block_type_by_slug(slug)
    done = subprocess.run(
        [str(BIN / "prefect"), "block", "register", "-m", "ai_conductor.blocks"],
        env=cli_env(prefect_api, tmp_path / "home"), cwd=REPO, capture_output=True,
        text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully registered 3 blocks" in " ".join(done.stdout.split())
    with get_client(sync_client=True) as client:
        types = {slug: client.read_block_type_by_slug(slug) for slug in SLUGS}
        schemas = {slug: client.get_most_recent_block_schema_for_block_type(t.id)
                   for slug, t in types.items()}  # fmt: skip
    assert types["conductor-llm-backend"].name == "Conductor LLM Backend"
    llm_schema = schemas["conductor-llm-backend"]
    assert llm_schema is not None
    assert "api_key" in llm_schema.fields["properties"]
    assert schemas["conductor-weaviate-connection"] is not None


@pytest.mark.usefixtures("prefect_api")
def test_a_missing_block_is_a_config_error_saying_how_to_create_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_block(WeaviateConnection, "no-such-weaviate", "CONDUCTOR_WEAVIATE_BLOCK")
    text = str(caught.value)
    assert "'no-such-weaviate' (CONDUCTOR_WEAVIATE_BLOCK)" in text
    assert "WeaviateConnection(...).save('no-such-weaviate')" in text
    assert "prefect block register -m ai_conductor.blocks" in text
    assert caught.value.exit_code == 2


@pytest.mark.usefixtures("prefect_api")
def test_a_block_of_another_type_is_named_as_such() -> None:
    WeaviateConnection(url="http://w:8080").save("conductor-test-namesake", overwrite=True)
    other = r"is a 'Conductor Weaviate Connection' block, not of type LLMBackendConfig \("
    with pytest.raises(ConfigError, match=other):
        load_block(LLMBackendConfig, "conductor-test-namesake", "backend option llm_block")
    slug_form = "a 'conductor-weaviate-connection' block, but a block of type LLMBackendConfig"
    with pytest.raises(ConfigError, match=slug_form):
        load_block(LLMBackendConfig, "conductor-weaviate-connection/x", "CONDUCTOR_LLM_BLOCK")
    # the SLUG/NAME form of the right type loads
    found = load_block(WeaviateConnection, "conductor-weaviate-connection/conductor-test-namesake",
                       "CONDUCTOR_WEAVIATE_BLOCK")  # fmt: skip
    assert found.url == "http://w:8080"


@pytest.mark.usefixtures("prefect_api")
def test_a_block_whose_values_no_longer_validate_never_shows_its_secret() -> None:
    from prefect.client.schemas.actions import BlockDocumentUpdate

    WeaviateConnection(url="http://w:8080", api_key="wv-never-shown").save(
        "conductor-test-broken", overwrite=True
    )
    data: dict[str, Any] = {"url": "", "api_key": "wv-never-shown", "grpc_port": 0}
    with get_client(sync_client=True) as client:
        doc = client.read_block_document_by_name(
            "conductor-test-broken", "conductor-weaviate-connection"
        )
        client.update_block_document(
            doc.id, BlockDocumentUpdate(data=data, merge_existing_data=False)
        )
    with pytest.raises(ConfigError) as caught:
        load_block(WeaviateConnection, "conductor-test-broken", "CONDUCTOR_WEAVIATE_BLOCK")
    text = str(caught.value)
    assert "do not validate" in text
    assert "grpc_port" in text
    assert "wv-never-shown" not in text
    assert caught.value.__cause__ is None or "wv-never-shown" not in str(caught.value.__cause__)
