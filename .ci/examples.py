#!/usr/bin/env python3
"""Writes crates/server/src/openapi/examples.json: one recorded request and response per API
operation, for the OpenAPI document's examples.

Run the server's tests with VOUCH_RECORD_EXAMPLES=<folder> (crates/server/tests/common/
examples.rs writes every JSON exchange there), then this script with that folder. For each
operation of docs/openapi.json it picks a successful (2xx) exchange, preferring the one with
the most content, then the smallest text (so the choice is repeatable), and makes it stable:
ids become fixed ids of the same kind, times one fixed time, secrets placeholders.

    VOUCH_RECORD_EXAMPLES=/tmp/ex cargo test -p vouch-server
    python3 .ci/examples.py /tmp/ex

The operations are read from docs/openapi.json: after adding one, refresh that snapshot first
(VOUCH_UPDATE_OPENAPI=1 cargo test -p vouch-server --test openapi), then run this, then
refresh the snapshot again so it carries the new examples.
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ID = re.compile(r"\b([a-z]{2,4})_([0-9a-hjkmnp-tv-z]{26})\b")
TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b")
SECRETS = [
    (re.compile(r"vouch_sk_[A-Za-z0-9_-]+"), "vouch_sk_EXAMPLE"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_EXAMPLE"),
    (re.compile(r"(token=)[A-Za-z0-9._~-]+"), r"\1EXAMPLE"),
    # The tests' local receivers and servers: a public address an integrator would use.
    (re.compile(r"http://127\.0\.0\.1:\d+"), "https://hooks.example.com"),
]


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(path)) + "$")


def stable(value, ids):
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)

    def fixed_id(m):
        key = m.group(0)
        if key not in ids:
            ids[key] = "%s_01jf%022d" % (m.group(1), len(ids) + 1)
        return ids[key]

    text = ID.sub(fixed_id, text)
    text = TIME.sub("2026-11-29T12:00:00.000Z", text)
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return json.loads(text)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VOUCH_RECORD_EXAMPLES")
    if not folder:
        sys.exit("usage: examples.py FOLDER")
    doc = json.load(open(os.path.join(ROOT, "docs", "openapi.json")))
    operations = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                operations.append((op["operationId"], method, template_regex(path)))
    candidates = {}
    for name in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        for line in open(name):
            ex = json.loads(line)
            if not 200 <= ex["status"] < 300:
                continue
            for op_id, method, regex in operations:
                if ex["method"] == method and regex.match(ex["path"]):
                    candidates.setdefault(op_id, []).append(ex)
                    break
    out = {}
    for op_id, _, _ in operations:
        found = candidates.get(op_id)
        if not found:
            continue
        made = []
        for ex in found:
            ids = {}
            entry = {"status": ex["status"], "response": stable(ex["response"], ids)}
            if ex["request"] is not None:
                entry["request"] = stable(ex["request"], ids)
            text = json.dumps(entry, sort_keys=True, ensure_ascii=False)
            made.append((-len(text) if len(text) < 4000 else len(text), text, entry))
        made.sort(key=lambda m: (m[0], m[1]))
        out[op_id] = made[0][2]
    missing = [op for op, _, _ in operations if op not in out]
    target = os.path.join(ROOT, "crates", "server", "src", "openapi", "examples.json")
    with open(target, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    print(f"{len(out)} of {len(operations)} operations have an example; written to {target}")
    if missing:
        print("no successful exchange recorded for: " + ", ".join(missing))


if __name__ == "__main__":
    main()
