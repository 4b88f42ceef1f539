"""The Weaviate store and ``weaviate-init`` taking their connection from a ``WeaviateConnection``
block named by ``CONDUCTOR_WEAVIATE_BLOCK``, against the in-process fake Weaviate the official
client talks to (``tests/context/weaviate_mock.py``): the settings point elsewhere, so every
request the fake records proves the block's URL, ports, key and collection were used."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("weaviate", reason="weaviate-client is not installed (extra: weaviate)")
pytest.importorskip("grpc_health", reason="grpcio-health-checking is not installed (dev)")

from ai_conductor.blocks import WeaviateConnection
from ai_conductor.context import ContextRecord, init_collection, open_context_store
from ai_conductor.context.weaviate_store import WeaviateStore
from ai_conductor.errors import ConfigError
from ai_conductor.maintenance import operations as ops
from ai_conductor.settings import Settings
from tests.conftest import BIN, cli_env
from tests.context.weaviate_mock import FakeWeaviate, Running

pytestmark = pytest.mark.usefixtures("prefect_api")
NOWHERE = {"weaviate_url": "http://127.0.0.1:9", "weaviate_grpc_port": 9,
           "weaviate_collection": "NotThisOne", "weaviate_api_key": "wrong-key"}  # fmt: skip


@pytest.fixture
def server() -> Iterator[FakeWeaviate]:
    running = Running()
    yield running.fake
    running.close()


def save_block(fake: FakeWeaviate, name: str = "conductor-test-weaviate") -> str:
    WeaviateConnection(
        url=fake.url, grpc_port=fake.grpc_port, api_key="wv-block-key-5",
        collection="BlockContext", timeout=10, skip_init_checks=True,
    ).save(name, overwrite=True)  # fmt: skip
    return name


def test_the_store_connects_where_the_block_says(server: FakeWeaviate) -> None:
    settings = Settings(context_store="weaviate", weaviate_block=save_block(server), **NOWHERE)
    store = open_context_store(settings, embedder=None)
    try:
        assert isinstance(store, WeaviateStore)
        assert store.collection_name == "BlockContext"
        assert store.location == f"weaviate:{server.url}/BlockContext"
        record = ContextRecord(workflow_id="wf-b", task_id="t", context_type="finding",
                               content="from the block", timestamp=datetime.now(UTC))  # fmt: skip
        store.store(record)  # over gRPC, to the block's grpc_port
        assert [r.content for r in store.retrieve_context("wf-b")] == ["from the block"]
    finally:
        store.close()
    assert set(server.schema) == {"BlockContext"}
    assert server.authorization["/v1/schema"] == {"Bearer wv-block-key-5"}
    assert len(server.batches) == 1
    assert len(server.searches) == 1


def test_weaviate_init_uses_the_block_even_with_the_embedded_store(server: FakeWeaviate) -> None:
    settings = Settings(context_store="embedded", weaviate_block=save_block(server))
    data = ops.weaviate_init(settings)
    assert (data["store"], data["collection"], data["action"]) == (
        "weaviate", "BlockContext", "created"
    )  # fmt: skip
    assert init_collection(settings).action == "unchanged"
    assert [(m, p) for m, p, _ in server.writes()] == [("POST", "/v1/schema")]


def test_a_missing_block_is_a_config_error(server: FakeWeaviate) -> None:
    settings = Settings(context_store="weaviate", weaviate_block="no-such-weaviate", **NOWHERE)
    with pytest.raises(ConfigError) as caught:
        open_context_store(settings, embedder=None)
    text = str(caught.value)
    assert "WeaviateConnection block 'no-such-weaviate' (CONDUCTOR_WEAVIATE_BLOCK)" in text
    assert "WeaviateConnection(...).save('no-such-weaviate')" in text
    assert server.rest == []  # nothing was tried elsewhere


@pytest.mark.slow
def test_cli_weaviate_init_reads_the_block_and_exits_2_without_it(
    server: FakeWeaviate, prefect_api: str, tmp_path: Path
) -> None:
    name = save_block(server)

    def weaviate_init(block: str) -> subprocess.CompletedProcess[str]:
        env = cli_env(
            prefect_api,
            tmp_path / "home",
            CONDUCTOR_CONTEXT_STORE="weaviate",
            CONDUCTOR_WEAVIATE_BLOCK=block,
            CONDUCTOR_WEAVIATE_URL="http://127.0.0.1:9",
        )
        argv = [str(BIN / "conductor"), "maintenance", "weaviate-init", "--no-prefect", "--json"]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)

    done = weaviate_init(name)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["collection"] == "BlockContext"
    assert "BlockContext" in server.schema
    missing = weaviate_init("no-such-weaviate")
    assert missing.returncode == 2, missing.stderr
    assert "WeaviateConnection block 'no-such-weaviate'" in " ".join(missing.stderr.split())
