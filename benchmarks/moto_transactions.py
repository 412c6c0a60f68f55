"""The embedded runtime's DynamoDB transaction fix, measured against moto as shipped.

Times 3-item TransactWriteItems on a table of 5,000 items, in two fresh processes: moto as
shipped (a deep copy of the whole table per operation) and with local/moto_patches.py applied
(an undo record of the touched items only). Target: >= 10 x faster.

    .venv/bin/python benchmarks/moto_transactions.py
"""

from __future__ import annotations

import os
import subprocess
import sys

TARGET = 10.0
ITEMS, ROUNDS = 5000, 20
PROBE = f"""
import os, sys, time
import boto3
from moto import mock_aws
if sys.argv[1] == "patched":
    from cvat_serverless_tools.local import moto_patches
    moto_patches.apply()
with mock_aws():
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{{"AttributeName": "pk", "AttributeType": "S"}},
                              {{"AttributeName": "sk", "AttributeType": "S"}}],
        KeySchema=[{{"AttributeName": "pk", "KeyType": "HASH"}}, {{"AttributeName": "sk", "KeyType": "RANGE"}}])
    from moto.backends import get_backend
    backend = get_backend("dynamodb")["123456789012"]["us-east-1"]
    for i in range({ITEMS}):
        backend.put_item("t", {{"pk": {{"S": f"x{{i}}"}}, "sk": {{"S": "1"}}, "d": {{"S": "y" * 200}}}})
    started = time.perf_counter()
    for i in range({ROUNDS}):
        ddb.transact_write_items(TransactItems=[
            {{"Put": {{"TableName": "t", "Item": {{"pk": {{"S": f"n{{i}}-{{j}}"}}, "sk": {{"S": "1"}}}}}}}}
            for j in range(3)])
    print((time.perf_counter() - started) / {ROUNDS})
"""


def per_transaction(mode: str) -> float:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    shipped, patched = per_transaction("shipped"), per_transaction("patched")
    print(f"# moto as shipped: {shipped * 1000:.1f} ms per 3-item transaction at {ITEMS} items")
    print(f"# with moto_patches: {patched * 1000:.1f} ms")
    ratio = shipped / patched
    print(f"transaction_speedup_vs_moto: {ratio:.0f}x (target >= {TARGET:.0f}x)")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
