"""The bench's floor writes its token items by hand (so that it measures no project code): they must stay the
items the real codecs write, or the floor would measure a different table."""

from __future__ import annotations

from waitpoints_core import TokenStatus, Waitpoint
from waitpoints_core.dynamodb import codecs
from waitpoints_core.ids import new_token_id

from bench.perf_bench import Floors

NOW = 1_780_000_000_000


def test_the_floors_token_item_is_the_codecs_token_item() -> None:
    token_id = new_token_id()
    timeout_at = NOW + 3_600_000
    token = Waitpoint(
        id=token_id,
        env="dev",
        status=TokenStatus.WAITING,
        created_at=NOW,
        timeout_at=timeout_at,
        expires_at=timeout_at // 1000 + 30 * 86_400,
    )
    assert Floors._token_item(None, "dev", token_id, NOW, timeout_at) == codecs.token_to_item(token)  # type: ignore[arg-type]


def test_the_floors_keys_are_the_codecs_keys() -> None:
    token_id = new_token_id()
    item = Floors._token_item(None, "dev", token_id, NOW, NOW + 1)  # type: ignore[arg-type]
    assert {k: item[k] for k in ("pk", "sk")} == codecs.token_key(token_id)
    assert item["duePk"]["S"] == codecs.due_pk("dev")
    assert item["listPk"]["S"] == codecs.list_pk("dev")
