#!/usr/bin/env python3
"""clang-tidy over the library's and the CLI's translation units in a build's
compile_commands.json, with a result cache: a unit is checked again only when
its compile command, a project file it includes (from ninja's dependency log),
a .clang-tidy file or clang-tidy itself changed. Prints every finding and the
count per check; exit status 1 when there is any.

    tidy.py SOURCE_DIR BUILD_DIR CACHE_DIR CLANG_TIDY
"""
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys

FINDING = re.compile(r"^/.*: (warning|error): ")


def file_digest(path, memo={}):
    if path not in memo:
        with open(path, "rb") as f:
            memo[path] = hashlib.sha256(f.read()).hexdigest()
    return memo[path]


def ninja_deps(build):
    """object file (relative to the build dir) -> the files it was compiled from."""
    out = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":")[0]
            deps[current] = []
        elif line.strip() and current:
            deps[current].append(line.strip())
    return deps


def main():
    root, build, cache, tidy = sys.argv[1:5]
    os.makedirs(cache, exist_ok=True)
    version = subprocess.run([tidy, "--version"], capture_output=True, text=True).stdout
    configs = sorted(os.path.join(d, ".clang-tidy") for d, _, files in os.walk(root)
                     if ".clang-tidy" in files and "/build" not in d and "/.git" not in d)
    common = version + "".join(c + file_digest(c) for c in configs)
    deps = ninja_deps(build)
    units = [u for u in json.load(open(os.path.join(build, "compile_commands.json")))
             if re.match(re.escape(root) + r"/(libquant/src|apps|python/src)/.*\.cpp$", u["file"])]

    def key(unit):
        obj = re.search(r" -o (\S+)", unit["command"])
        files = deps.get(obj.group(1)) if obj else None
        if not files:
            return None  # never built: no dependency list, always checked
        h = hashlib.sha256((common + unit["command"]).encode())
        for f in sorted(f for f in files if f.startswith(root + "/") and os.path.exists(f)):
            h.update((f + file_digest(f)).encode())
        return h.hexdigest()

    def check(unit):
        k = key(unit)
        cached = os.path.join(cache, k) if k else None
        if cached and os.path.exists(cached):
            with open(cached) as f:
                return f.read(), True
        run = subprocess.run([tidy, "-p", build, "-quiet", unit["file"]], capture_output=True, text=True)
        findings = "".join(l + "\n" for l in (run.stdout + run.stderr).splitlines() if FINDING.match(l))
        if run.returncode != 0 and not findings:
            findings = f"{unit['file']}: error: clang-tidy failed: {run.stderr.strip()[:500]}\n"
        if cached:
            with open(cached + ".tmp", "w") as f:
                f.write(findings)
            os.replace(cached + ".tmp", cached)
        return findings, False

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        results = list(pool.map(check, units))
    findings = sorted(set(l for text, _ in results for l in text.splitlines()))
    reused = sum(hit for _, hit in results)
    if findings:
        print("\n".join(findings))
        counts = {}
        for l in findings:
            m = re.search(r"\[([a-z0-9.-]+)(,[^\]]*)?\]$", l)
            counts[m.group(1) if m else "other"] = counts.get(m.group(1) if m else "other", 0) + 1
        print("clang-tidy findings by check:")
        for check_name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"{n:7d} {check_name}")
        return 1
    print(f"clang-tidy: clean ({len(units)} translation units of libquant/src, apps and python/src, "
          f"{len(units) - reused} checked, {reused} unchanged since a clean check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
