"""The checks and figures of scripts/spark-e2e.sh (run by it, with its paths).

Compares the Spark-built indexes with the single-machine one (record digest
from `provscan index verify --json`), the scans against them, and the org
scan's findings table with the one-by-one scans; prints the figures. Exits 1
on any disagreement.
"""

import glob
from collections import Counter
import json
import subprocess
import sys


def verify(provscan, index):
    out = subprocess.run([provscan, "index", "--index", index, "verify", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def source_bytes(provscan, index):
    out = subprocess.run([provscan, "index", "--index", index, "stats", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["source_bytes"]


def finding_key(repo, f):
    o = f["origin"]
    return (repo, f["path"], f["kind"], tuple(f["target_lines"]), o.get("project"),
            o.get("version"), o["path"], tuple(o["lines"]), o.get("license"))


def row_key(r):
    # Spark's JSON writer leaves null fields out.
    return (r["repo"], r["path"], r["kind"], (r["target_first_line"], r["target_last_line"]),
            r.get("origin_project"), r.get("origin_version"), r["origin_path"],
            (r["origin_first_line"], r["origin_last_line"]), r.get("license"))


def main(run, provscan):
    failures = []
    single = verify(provscan, f"{run}/single")
    for cores in (1, 2):
        spark = verify(provscan, f"{run}/spark-{cores}")
        if spark["digest"] != single["digest"] or spark["records"] != single["records"]:
            failures.append(f"index built on local[{cores}] differs: {spark} vs {single}")
    expected = {line.strip() for line in open(f"{run}/expected-failures") if line.strip()}
    for cores in (1, 2):
        report = json.load(open(f"{run}/work-{cores}/build-report.json"))
        failed = {s["spec"] for s in report["sources"] if s["error"]}
        if failed != expected:
            failures.append(f"local[{cores}] build lists failed sources {failed}, expected {expected}")
    print(f"indexes: single and Spark (local[1], local[2]) hold the same records, digest "
          f"{single['digest'][:16]}…, {single['records']['postings']} fingerprints, "
          f"{single['records']['contents']} contents")

    repos = [line.strip() for line in open(f"{run}/repos.txt") if line.strip()]
    one_by_one = Counter()
    for n, repo in enumerate(repos):
        a = json.load(open(f"{run}/one-by-one/{n}-single.json"))
        b = json.load(open(f"{run}/one-by-one/{n}-spark-2.json"))
        ka = Counter(finding_key(repo, f) for f in a["findings"])
        kb = Counter(finding_key(repo, f) for f in b["findings"])
        if ka != kb:
            failures.append(f"{repo}: findings differ between the single and the Spark index "
                            f"({sum(ka.values())} vs {sum(kb.values())})")
        one_by_one += ka
        print(f"  {repo.rsplit('/', 1)[-1]}: {sum(ka.values())} findings")

    rows = [json.loads(line) for p in sorted(glob.glob(f"{run}/org/findings.jsonl/part-*"))
            for line in open(p)]
    table = Counter(row_key(r) for r in rows)
    if table != one_by_one:
        failures.append(f"org scan table ({len(rows)} rows) differs from the one-by-one scans "
                        f"({sum(one_by_one.values())} findings): "
                        f"{sum((table - one_by_one).values())} extra, "
                        f"{sum((one_by_one - table).values())} missing")
    summary = json.load(open(f"{run}/org/summary.json"))
    statuses = {e["repo"]: e["status"] for e in json.load(open(f"{run}/org/repos.json"))}
    missing = [r for r in statuses if r not in repos]
    if (summary["failed"] != 1 or summary["incomplete"] or summary["repos"] != len(repos) + 1
            or [statuses[r] for r in missing] != ["failed"]):
        failures.append(f"org scan summary: {summary}, statuses {statuses}")
    print(f"org scan: {summary['repos']} repositories ({summary['failed']} unreadable, listed as "
          f"failed), {summary['findings']} findings, by class "
          f"{summary['findings_by_license_class']}; equal to scanning them one by one")
    print(f"failed sources listed by both Spark builds: {sorted(expected)}")

    timings = {}
    for line in open(f"{run}/timings"):
        what, s, e = line.split()
        timings[what] = float(e) - float(s)
    mb = source_bytes(provscan, f"{run}/single") / 1e6
    base = timings["single"]
    print(f"\nbuild of {mb:.1f} MB of indexed source (downloads cached):")
    print(f"  provscan index build (2 cores): {base:6.1f} s  {mb / base:5.1f} MB/s  1.00x")
    for cores in ("1", "2"):
        t = timings[cores]
        print(f"  Spark local[{cores}]:              {t:6.1f} s  {mb / t:5.1f} MB/s  "
              f"{base / t:.2f}x")
    print(f"org scan of {len(repos)} packages on local[2]: {timings['scan']:.1f} s "
          f"(including Spark's start)")
    if failures:
        print("\nFAILED:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    print("\nspark-e2e: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
