#!/usr/bin/env python3
"""Fails when a crate gains a dependency that breaks Vouch's layers:

    domain <- store <- app <- (server, jobs) <- vouch

Each crate may depend (normal or build dependencies) only on the crates below it, and the
application layer on no HTTP or template crate. Test-only dependencies are free: a server test
may run a worker to drain the job queue.
"""
import json
import subprocess
import sys

ALLOWED = {
    "vouch-domain": set(),
    "vouch-store": {"vouch-domain"},
    "vouch-app": {"vouch-domain", "vouch-store"},
    "vouch-jobs": {"vouch-domain", "vouch-store", "vouch-app"},
    "vouch-server": {"vouch-domain", "vouch-store", "vouch-app"},
    "vouch": {"vouch-domain", "vouch-store", "vouch-app", "vouch-jobs", "vouch-server"},
}
# What "knows no HTTP" means for the application layer (and, below it, store and domain).
WEB = {"axum", "axum-core", "axum-extra", "askama", "askama_web", "tower", "tower-http",
       "hyper", "utoipa-axum", "reqwest"}
NO_WEB = {"vouch-domain", "vouch-store", "vouch-app"}

meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--no-deps"],
    check=True, capture_output=True, text=True).stdout)
problems = []
seen = set()
for pkg in meta["packages"]:
    name = pkg["name"]
    if name not in ALLOWED:
        if name.startswith("vouch"):
            problems.append(f"{name}: a new crate; give it its place in .ci/layers.py")
        continue
    seen.add(name)
    for dep in pkg["dependencies"]:
        if dep.get("kind") == "dev":
            continue
        d = dep["name"]
        if d in ALLOWED and d not in ALLOWED[name]:
            problems.append(f"{name} depends on {d}: the layers are domain <- store <- app <- (server, jobs) <- vouch")
        if name in NO_WEB and d in WEB:
            problems.append(f"{name} depends on {d}: this layer knows no HTTP")
for missing in sorted(set(ALLOWED) - seen):
    problems.append(f"{missing}: expected in the workspace")
if problems:
    print("Layer check failed:", *problems, sep="\n- ")
    sys.exit(1)
print(f"layers hold for {len(seen)} crates")
