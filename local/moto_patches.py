"""One change to moto for the local stack: transactions roll back what they touched, not the
whole table.

moto's ``TransactWriteItems`` deep-copies every table it writes to before each transaction, so
that it can put the copy back if the transaction fails. Every webhook, claim and notice is a
transaction here, so each one copies the whole table (its items and stream records): the local
stack's time and memory per webhook grew with the table, and the process kept the high-water
mark (1.6 GiB after 1,000 webhooks).

This keeps moto's own transaction code and semantics and changes only how it undoes: before the
transaction the items it names are copied (one per operation, at most 100), and the length of
each stream is noted; if moto raises, those items are put back (or removed, if they did not
exist) and the stream records the transaction added are dropped. The table copy moto asks for
becomes the table itself, so its own rollback is a no-op. ``tests/unit/local/test_moto_patches.py``
runs random transactions through patched and unpatched moto and compares every item and stream
record.

Only the local stack installs this; the test suite's moto is unpatched.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

__all__ = ["install", "installed", "uninstall"]

_lock = threading.Lock()
_saved: dict[str, Any] = {}


@dataclass
class _Touched:
    table: Any
    hash_key: Any
    range_key: Any
    before: Any  # a copy of the item before the transaction, or None when there was none


def _tables_by_reference() -> SimpleNamespace:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: a table "copy" is the
    table itself; everything else is copied as before."""
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)

    return SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)


def _snapshot(
    backend: Any, transact_items: list[dict[str, Any]]
) -> tuple[list[_Touched], list[Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched: list[_Touched] = []
    streams: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            attrs = op["Item"] if "Item" in op else op["Key"]
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError, StopIteration):
            continue  # moto rejects this operation before it writes anything
        bucket = table.items.get(hash_key)  # never index: items is a defaultdict
        current = bucket if range_key is None else (bucket or {}).get(range_key)
        touched.append(_Touched(table, hash_key, range_key, copy.deepcopy(current)))
        shard = table.stream_shard
        if shard is not None and id(shard) not in streams:
            streams[id(shard)] = (shard, shard.starting_sequence_number + len(shard.items))
    return touched, list(streams.values())


def _restore(touched: list[_Touched], streams: list[Any]) -> None:
    for t in touched:
        items = t.table.items
        if t.range_key is None:
            if t.before is None:
                items.pop(t.hash_key, None)
            else:
                items[t.hash_key] = t.before
            continue
        bucket = items.get(t.hash_key)
        if t.before is not None:
            items[t.hash_key][t.range_key] = t.before
        elif bucket is not None:
            bucket.pop(t.range_key, None)
            if not bucket:
                del items[t.hash_key]
    for shard, end in streams:
        del shard.items[max(0, end - shard.starting_sequence_number) :]


def install() -> None:
    """Patch moto in this process (idempotent)."""
    import moto.dynamodb.models as models

    with _lock:
        if _saved:
            return
        backend = models.DynamoDBBackend
        original = backend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            touched, streams = _snapshot(self, transact_items)
            try:
                original(self, transact_items)
            except Exception:
                _restore(touched, streams)
                raise

        module: Any = models  # its ``copy`` is the module it imported, not an export
        _saved.update(copy=module.copy, transact_write_items=original)
        module.copy = _tables_by_reference()
        backend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def uninstall() -> None:
    import moto.dynamodb.models as models

    with _lock:
        if not _saved:
            return
        module: Any = models
        module.copy = _saved.pop("copy")
        module.DynamoDBBackend.transact_write_items = _saved.pop("transact_write_items")


class installed:
    """``with installed(): ...``: the patch for the duration of a block (tests)."""

    def __enter__(self) -> None:
        install()

    def __exit__(self, *exc: object) -> None:
        uninstall()
