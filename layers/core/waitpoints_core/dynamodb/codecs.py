"""The table's item formats: the only module that knows key formats and attribute names.

Items (one table, `pk`/`sk` strings, TTL attribute `ttl` in epoch seconds):

    TOKEN#<id>                 TOKEN             a waitpoint token
    TOKEN#<id>                 WAITER#<sha256>   a workflow waiting on that token: a Step Functions task token
                                                 (`taskToken`) or a durable callback id (`callbackId`, kind
                                                 `durable`; `resumedAt` once resumed, kept so a replayed
                                                 attach of the same id is a no-op); `createdAt` is when it
                                                 attached
    TAG#<env>#<sha256(tag)>    <listSk>          a copy of a tagged token's list fields, one per tag
    IDEM#<env>#<sha256>        IDEM              a live idempotency key → the token it created
    APIKEY#<sha256>            APIKEY            a secret API key's environment (keys are stored only as hashes)
    APIKEYS                    <env>#<key id>    the key registry: id, environment, a short hint, creation time
    ENVS                       ENVS              the set of environment names (the timeout sweep visits each)

Token items also carry the keys of the list indexes (docs/listing.md): `listPk`/`listSk` always, `waitingSk` and
`duePk` while WAITING, `completedSk` or `timedOutSk` once final, `idemPk` with a key. The sparse DueIndex
(duePk = DUE#<env>, timeoutAt) holds exactly the waiting tokens, in timeout order: all the timeout sweep reads.

Sharding (docs/scale.md): the list, due and tag partition keys carry a shard `s = shard_of(id, N)`, N recorded per
environment on the ENVS item. Shard 0 is spelled without a suffix (`LIST#<env>`), so a table written before sharding
is shard 0 of N = 1, and raising N never moves a token: its shard is in its own keys (`listPk`, `duePk`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..listing import list_sort_key
from ..models import Action, Audit, Door, TokenStatus, Waitpoint
from ..ports import ApiKeyInfo, Completion, TokenChange, Waiter, WaiterKind, WaiterSummary

TOKEN_SK = "TOKEN"
WAITER_PREFIX = "WAITER#"
ENVS_KEY = {"pk": {"S": "ENVS"}, "sk": {"S": "ENVS"}}
KEYS_PK = "APIKEYS"
CONDITION_FAILED = "ConditionalCheckFailedException"

# Update-expression actions shared by every write that ends a token's wait (complete, the callback, the timeout
# sweep). DynamoDB copies one attribute into another inside the UpdateItem, so the writer needs neither the token's
# environment nor its creation time to move it between the sparse list indexes:
#     f"SET <its own actions>, {ENTER_COMPLETED} REMOVE {LEAVE_WAITING}"
ENTER_COMPLETED = "completedSk = listSk"  # SET action: join CompletedIndex at the token's list position
ENTER_TIMED_OUT = "timedOutSk = listSk"  # SET action: join TimedOutIndex at the token's list position
# Set on a waiting token by each attach, in the attach's transaction; removed by the write that ends the token,
# which asks for it back (ReturnValues UPDATED_OLD): that write alone knows, at no extra request, whether
# workflows wait on the token (resume them inline) or none does (no Query for waiters).
HAS_WAITERS = "hasWaiters"
LEAVE_WAITING = f"waitingSk, duePk, {HAS_WAITERS}"  # REMOVE actions: leave WaitingIndex and DueIndex (+ the flag)
# The condition of every write that needs the token still waiting, as seen now.
STILL_WAITING = "attribute_exists(pk) AND #status = :waiting AND timeoutAt > :now AND #ttl > :nowSec"

SCHEMA = "completionSchema"  # a token's completion schema: a completing write without a check needs it absent
ALL_INDEX = "AllIndex"  # listPk / listSk: every token of an environment
WAITING_INDEX = "WaitingIndex"  # listPk / waitingSk: WAITING tokens (sparse)
COMPLETED_INDEX = "CompletedIndex"  # listPk / completedSk (sparse)
TIMED_OUT_INDEX = "TimedOutIndex"  # listPk / timedOutSk (sparse)
IDEMPOTENCY_KEY_INDEX = "IdempotencyKeyIndex"  # idemPk / listSk (sparse)
DUE_INDEX = "DueIndex"  # duePk / timeoutAt (N): WAITING tokens by deadline (sparse)
# What every list index projects (and what a tag item copies): never `output`, which can be 256 KiB.
LIST_FIELDS = (
    "env",
    "status",
    "tags",
    "createdAt",
    "timeoutAt",
    "completedAt",
    "idempotencyKey",
    "idempotencyKeyExpiresAt",
    "outputIsError",
    "ttl",
)


# Item size (docs: "Item size calculations"): attribute names plus values, UTF-8; DynamoDB refuses any write
# that would take an item past ITEM_LIMIT. Each attribute a request can grow has a budget, and the budgets
# sum to well under the limit (SECURITY.md, "Item budget"; tests/handlers/test_item_budget.py drives each).
ITEM_LIMIT = 400 * 1024
OUTPUT_BUDGET = 256 * 1024 + 64  # `output` (bodies.OFFLOAD_BYTES; larger outputs go to S3) and its name
CREATE_BUDGET = 96 * 1024  # what create writes: a 32 KiB body (schema, approval, description, completeWhen...),
# re-encoded (completeWhen as ASCII JSON: up to 3 bytes per byte sent)
DELIVERY_DIGESTS = "deliveryDigests"  # binary set of 16-byte SHA-256 prefixes of delivery ids
DELIVERY_DIGEST_BYTES = 16
DELIVERY_DIGESTS_CAP = 1024
DELIVERY_BUDGET = DELIVERY_DIGESTS_CAP * DELIVERY_DIGEST_BYTES + 1024  # the set, counters, timestamps
FINAL_BUDGET = 1024  # what ending a wait adds: status, completedAt, outputType, outputRef/outputSize, index keys
RESERVED_BUDGET = 8 * 1024  # the audit record (door, key id, IP ≤ 45, user agent ≤ 256 characters) and slack
assert OUTPUT_BUDGET + CREATE_BUDGET + DELIVERY_BUDGET + FINAL_BUDGET + RESERVED_BUDGET < ITEM_LIMIT


def delivery_digest(delivery_id: str) -> bytes:
    return hashlib.sha256(delivery_id.encode()).digest()[:DELIVERY_DIGEST_BYTES]


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (names + values; numbers by their digits, a conservative bound)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return len(v) // 2 + 2
    if kind == "B":
        return len(v)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(x) for k, x in v.items())
    return 1  # BOOL, NULL


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Shards per environment for environments created from now on (docs/scale.md, "Choosing N"): 10,000 creates/s plus
# 10,000 completions/s put 30,000 WCU/s on a tag on every token, 20,000 on AllIndex/WaitingIndex/DueIndex; 64 shards
# keep every partition at or under 469 WCU/s, under half of DynamoDB's 1,000 per partition.
DEFAULT_SHARDS = 64
MAX_SHARDS = 256
# On the ENVS item, per environment: the shards new tokens are written to, and the shards readers query (≥ writes).
WRITE_SHARDS_ATTR = "shards#"
READ_SHARDS_ATTR = "readShards#"
# On the ENVS item, once for the table: the shards of environments minted from now on, when not DEFAULT_SHARDS.
NEW_ENV_SHARDS_ATTR = "newEnvironmentShards"


def shard_of(token_id: str, shards: int) -> int:
    """The token's shard among `shards`: a stable hash of its id (the same in every process and release)."""
    if shards <= 1:
        return 0
    return int.from_bytes(hashlib.blake2b(token_id.encode(), digest_size=8).digest(), "big") % shards


def _sharded(base: str, shard: int) -> str:
    return base if shard == 0 else f"{base}#{shard}"


def shard_in(partition_key: str) -> int:
    """The shard a list or due partition key names (`LIST#<env>` is shard 0, `LIST#<env>#5` shard 5)."""
    head, _, tail = partition_key.rpartition("#")
    return int(tail) if head.count("#") >= 1 and tail.isdigit() else 0


def list_pk(env: str, shard: int = 0) -> str:
    return _sharded(f"LIST#{env}", shard)


def due_pk(env: str, shard: int = 0) -> str:
    return _sharded(f"DUE#{env}", shard)


def shard_layout_names(env: str) -> dict[str, str]:
    """ExpressionAttributeNames for an environment's shard counts on the ENVS item."""
    return {"#write": WRITE_SHARDS_ATTR + env, "#read": READ_SHARDS_ATTR + env}


def item_to_shard_layouts(item: dict[str, Any] | None) -> dict[str, tuple[int, int]]:
    """The ENVS item → {env: (write shards, read shards)}; an environment recorded before sharding has (1, 1)."""
    if not item:
        return {}
    layouts = {}
    for env in item.get("names", {}).get("SS", []):
        write = int(item.get(WRITE_SHARDS_ATTR + env, {}).get("N", "1"))
        read = int(item.get(READ_SHARDS_ATTR + env, {}).get("N", str(write)))
        layouts[env] = (write, max(read, write))
    return layouts


def item_to_new_environment_shards(item: dict[str, Any] | None) -> int:
    """The shards an environment minted now starts with: the table's own default, else DEFAULT_SHARDS."""
    recorded = (item or {}).get(NEW_ENV_SHARDS_ATTR)
    return int(recorded["N"]) if recorded else DEFAULT_SHARDS


def idempotency_index_pk(env: str, key: str) -> str:
    return f"IDEMK#{env}#{digest(key)}"


def tag_pk(env: str, tag: str, shard: int = 0) -> str:
    return _sharded(f"TAG#{env}#{digest(tag)}", shard)


def token_id_of(key: dict[str, Any]) -> str:
    """The token id in a token item's key (or a waiter's, which shares the partition)."""
    return str(key["pk"]["S"]).removeprefix("TOKEN#")


def waiter_key(token_id: str, task_token: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": WAITER_PREFIX + digest(task_token)}}


# A waiter item's handle attribute, by kind. Items written before waiters had a kind have only `taskToken`.
_HANDLE_ATTRIBUTE = {WaiterKind.STEP_FUNCTIONS: "taskToken", WaiterKind.DURABLE: "callbackId"}
WAITER_RESUMED = "resumedAt"  # set on a durable waiter once resumed (the item stays: replays attach once)
WAITER_ATTACHED = "createdAt"  # when the waiter attached (marking it resumed keeps it)


def waiter_item(waiter: Waiter, created_at: int, expires_at: int) -> dict[str, Any]:
    item = {
        **waiter_key(waiter.token_id, waiter.handle),
        _HANDLE_ATTRIBUTE[waiter.kind]: {"S": waiter.handle},
        WAITER_ATTACHED: {"N": str(created_at)},
        "ttl": {"N": str(expires_at)},
    }
    if waiter.kind is not WaiterKind.STEP_FUNCTIONS:  # old readers see Step Functions waiters unchanged
        item["kind"] = {"S": waiter.kind.value}
    return item


def to_resume(waiter_item: dict[str, Any]) -> bool:
    """Whether a waiter item is still to resume. A resumed (durable) one is kept for replays. Filtered here, not by
    a FilterExpression: a filter saves no read units, since DynamoDB reads the items before it filters them."""
    return WAITER_RESUMED not in waiter_item


def item_to_waiter(item: dict[str, Any]) -> Waiter:
    kind = WaiterKind(item["kind"]["S"]) if "kind" in item else WaiterKind.STEP_FUNCTIONS
    return Waiter(token_id_of(item), item[_HANDLE_ATTRIBUTE[kind]]["S"], kind)


WAITER_DIGEST_CHARS = 12  # what a listing shows of the handle's digest (the durable adapter logs the same prefix)
# What a waiter listing reads: the key (its digest), kind and times. Never the handle: it does not leave the table.
WAITER_SUMMARY_PROJECTION = {
    "ProjectionExpression": "sk, #kind, #attached, #resumed",
    "ExpressionAttributeNames": {"#kind": "kind", "#attached": WAITER_ATTACHED, "#resumed": WAITER_RESUMED},
}


def item_to_waiter_summary(item: dict[str, Any]) -> WaiterSummary:
    """A waiter item (as WAITER_SUMMARY_PROJECTION reads it) → what retrieve lists: kind, digest, times."""
    kind = WaiterKind(item["kind"]["S"]) if "kind" in item else WaiterKind.STEP_FUNCTIONS
    created, resumed = item.get(WAITER_ATTACHED), item.get(WAITER_RESUMED)
    return WaiterSummary(
        kind,
        str(item["sk"]["S"]).removeprefix(WAITER_PREFIX)[:WAITER_DIGEST_CHARS],
        int(created["N"]) if created else None,
        int(resumed["N"]) if resumed else None,
    )


def token_key(token_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TOKEN#{token_id}"}, "sk": {"S": TOKEN_SK}}


def idempotency_key(env: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"IDEM#{env}#{digest(key)}"}, "sk": {"S": "IDEM"}}


def api_key_key(key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": f"APIKEY#{key_hash}"}, "sk": {"S": "APIKEY"}}


def registry_key(env: str, key_id: str) -> dict[str, Any]:
    return {"pk": {"S": KEYS_PK}, "sk": {"S": f"{env}#{key_id}"}}


def registry_item(info: ApiKeyInfo, key_hash: str) -> dict[str, Any]:
    return {
        **registry_key(info.env, info.key_id),
        "keyId": {"S": info.key_id},
        "keyHash": {"S": key_hash},
        "env": {"S": info.env},
        "hint": {"S": info.hint},
        "createdAt": {"N": str(info.created_at)},
    }


def item_to_key_info(item: dict[str, Any]) -> ApiKeyInfo:
    return ApiKeyInfo(item["keyId"]["S"], item["env"]["S"], item["hint"]["S"], int(item["createdAt"]["N"]))


def tag_key(env: str, tag: str, list_sk: str, shard: int = 0) -> dict[str, Any]:
    return {"pk": {"S": tag_pk(env, tag, shard)}, "sk": {"S": list_sk}}


def _list_fields(token: Waitpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
        "env": {"S": token.env},
        "status": {"S": token.status.value},
        "createdAt": {"N": str(token.created_at)},
        "timeoutAt": {"N": str(token.timeout_at)},
        "ttl": {"N": str(token.expires_at)},
        "tags": {"L": [{"S": t} for t in token.tags]},
    }
    if token.idempotency_key is not None:
        item["idempotencyKey"] = {"S": token.idempotency_key}
        item["idempotencyKeyExpiresAt"] = {"N": str(token.idempotency_key_expires_at)}
    if token.completed_at is not None:
        item["completedAt"] = {"N": str(token.completed_at)}
        item["outputIsError"] = {"BOOL": token.output_is_error}
    return item


def token_to_item(token: Waitpoint, shards: int = 1) -> dict[str, Any]:
    """The token item, with the keys that place it in the list indexes for its status (in its shard of `shards`)."""
    list_sk = {"S": list_sort_key(token.created_at, token.id)}
    shard = shard_of(token.id, shards)
    item: dict[str, Any] = {
        **token_key(token.id),
        **_list_fields(token),
        "listPk": {"S": list_pk(token.env, shard)},
        "listSk": list_sk,
    }
    if token.status is TokenStatus.WAITING:
        item["waitingSk"] = list_sk
        item["duePk"] = {"S": due_pk(token.env, shard)}
    else:
        item["timedOutSk" if token.status is TokenStatus.TIMED_OUT else "completedSk"] = list_sk  # REJECTED too
    if token.idempotency_key is not None:
        item["idemPk"] = {"S": idempotency_index_pk(token.env, token.idempotency_key)}
    if token.output is not None:
        item["output"] = {"S": token.output}
        item["outputType"] = {"S": token.output_type or "application/json"}
    if token.description is not None:
        item["description"] = {"S": token.description}
    if token.complete_when is not None:
        item["completeWhen"] = {"S": json.dumps(token.complete_when, separators=(",", ":"))}
    if token.webhook_scheme is not None and token.webhook_secret is not None:
        item["webhookScheme"] = {"S": token.webhook_scheme}
        item["webhookSecret"] = {"B": token.webhook_secret}
    if token.audit is not None:
        item[AUDIT] = audit_value(token.audit)
    if token.schema is not None:
        item[SCHEMA] = {"S": token.schema}
    if token.approval is not None:
        item["approval"] = {"S": json.dumps(token.approval, separators=(",", ":"), ensure_ascii=False)}
    return item


AUDIT = "audit"  # the attribute: a map, written by the same update that ends the token
_AUDIT_TEXT = (("keyId", "key_id"), ("sourceIp", "source_ip"), ("userAgent", "user_agent"))


def audit_value(audit: Audit) -> dict[str, Any]:
    """An audit record as the `audit` attribute's value (a map; absent parts left out)."""
    fields: dict[str, Any] = {
        "door": {"S": audit.door.value},
        "action": {"S": audit.action.value},
        "at": {"N": str(audit.at)},
    }
    for name, attr in _AUDIT_TEXT:
        text = getattr(audit, attr)
        if text is not None:
            fields[name] = {"S": text}
    return {"M": fields}


def value_to_audit(value: dict[str, Any]) -> Audit | None:
    fields = value.get("M")
    if not fields:
        return None
    try:
        door, action = Door(fields["door"]["S"]), Action(fields["action"]["S"])
    except (KeyError, ValueError):
        return None
    text = {attr: fields[name]["S"] for name, attr in _AUDIT_TEXT if name in fields}
    return Audit(door, action, int(fields["at"]["N"]), **text)


def tag_keys(token: Waitpoint) -> list[dict[str, Any]]:
    """The keys of a token's tag items, one per distinct tag."""
    list_sk = list_sort_key(token.created_at, token.id)
    return [tag_key(token.env, tag, list_sk, token.shard) for tag in dict.fromkeys(token.tags)]


def tag_items(token: Waitpoint, shards: int = 1) -> list[dict[str, Any]]:
    """One item per distinct tag: the token's list fields in the tag's partition (the token's shard of it, the
    same shard as its list keys), at the token's list position."""
    list_sk = list_sort_key(token.created_at, token.id)
    shard = shard_of(token.id, shards)
    fields = {"id": {"S": token.id}, **_list_fields(token)}
    if shard:
        fields["shard"] = {"N": str(shard)}
    return [{**tag_key(token.env, tag, list_sk, shard), **fields} for tag in dict.fromkeys(token.tags)]


def is_token_item(item: dict[str, Any]) -> bool:
    """Whether an item of a token's partition is the token itself (the others are its waiters)."""
    return bool(item.get("sk", {}).get("S") == TOKEN_SK)


def token_from_image(image: dict[str, Any] | None) -> Waitpoint | None:
    """The token in a stream record's image, or None when the image is another kind of item."""
    return item_to_token(image) if image and is_token_item(image) else None


def decode_stream_record(change: dict[str, Any]) -> TokenChange | None:
    """A stream record's `dynamodb` part → the token before and after, or None for other kinds of item."""
    old, new = token_from_image(change.get("OldImage")), token_from_image(change.get("NewImage"))
    return TokenChange(old, new) if old or new else None


def item_to_token(item: dict[str, Any]) -> Waitpoint:
    get = item.get
    completed_at, key, key_expires_at = get("completedAt"), get("idempotencyKey"), get("idempotencyKeyExpiresAt")
    output, output_type, is_error = get("output"), get("outputType"), get("outputIsError")
    tags = get("tags")
    return Waitpoint(
        id=item["id"]["S"] if "id" in item else token_id_of(item),
        env=item["env"]["S"],
        status=TokenStatus(item["status"]["S"]),
        created_at=int(item["createdAt"]["N"]),
        timeout_at=int(item["timeoutAt"]["N"]),
        expires_at=int(item["ttl"]["N"]),
        tags=[t["S"] for t in tags["L"]] if tags else [],
        completed_at=int(completed_at["N"]) if completed_at else None,
        idempotency_key=key["S"] if key else None,
        idempotency_key_expires_at=int(key_expires_at["N"]) if key_expires_at else None,
        output=output["S"] if output else None,
        output_type=output_type["S"] if output_type else None,
        output_is_error=is_error.get("BOOL", False) if is_error else False,
        shard=_shard_of_item(item),
        **({} if _EXTENSIONS.isdisjoint(item) else _extensions(item)),  # most items have none (a list page: all)
    )


def _shard_of_item(item: dict[str, Any]) -> int:
    """The shard a token was written to: in its list key (token and index items) or `shard` (tag items)."""
    pk = item.get("listPk")
    if pk is not None:
        return shard_in(pk["S"]) if pk["S"].count("#") > 1 else 0
    shard = item.get("shard")
    return int(shard["N"]) if shard else 0


_EXTENSION_FIELDS = (
    "outputRef",
    "outputSize",
    "completeWhen",
    "webhookScheme",
    "webhookSecret",
    "deliveries",
    "lastDeliveryAt",
    "description",
    AUDIT,
    "completionSchema",
    "approval",
)
_EXTENSIONS = frozenset(_EXTENSION_FIELDS)


def _extensions(item: dict[str, Any]) -> dict[str, Any]:
    """The fields only some tokens have: an output in S3, a completion rule, a webhook secret, deliveries."""
    ref, size, rule, scheme, secret, deliveries, last, description, audit, schema, approval = map(
        item.get, _EXTENSION_FIELDS
    )
    return {
        "output_ref": ref["S"] if ref else None,
        "output_size": int(size["N"]) if size else None,
        "complete_when": json.loads(rule["S"]) if rule else None,
        "webhook_scheme": scheme["S"] if scheme else None,
        "webhook_secret": bytes(secret["B"]) if secret else None,
        "deliveries": int(deliveries["N"]) if deliveries else 0,
        "last_delivery_at": int(last["N"]) if last else None,
        "description": description["S"] if description else None,
        "audit": value_to_audit(audit) if audit else None,
        "schema": schema["S"] if schema else None,
        "approval": json.loads(approval["S"]) if approval else None,
    }


def ending_won(response: dict[str, Any]) -> Completion:
    """The outcome of a write that ended a token (`REMOVE LEAVE_WAITING`, ReturnValues UPDATED_OLD)."""
    return Completion.WON_WAITED_ON if HAS_WAITERS in response.get("Attributes", {}) else Completion.WON
