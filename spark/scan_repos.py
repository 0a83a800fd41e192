"""Scans many repositories against a provscan index on Spark.

    spark-submit --master local[2] spark/scan_repos.py \
        --index IDX --repos repos.txt --out DIR [--provscan BIN] [--ship-index]

`repos.txt` lists one repository per line: a directory or an archive
(tar, zip, sdist, crate, …) as `provscan scan` takes it; `#` starts a
comment. Each repository is one `provscan scan --format json` on an
executor, against the index on shared storage, or (--ship-index) against a
copy Spark ships to every executor with `SparkFiles`.

Writes into DIR:
* `findings.parquet/` and `findings.jsonl/`: one row per finding (the repo,
  both line ranges, the origin, its license and license class, similarity);
* `repos.json`: one entry per repository: scanned, with policy failures,
  incomplete (the scan could not look at some files: its errors are listed),
  or failed (after retries), with the reason;
* `summary.json`: findings by license class and by origin.

A repository that cannot be scanned is listed and never stops the job. Exit
code: 0 when every repository was scanned completely, 2 when some could not
be (the rest is written all the same).
"""

import argparse
import json
import os
import sys
import tempfile
import time

from pyspark import SparkFiles
from pyspark.sql import types as T

import provscan_job as pj

FINDING_SCHEMA = T.StructType([
    T.StructField("repo", T.StringType(), False),
    T.StructField("id", T.StringType(), True),
    T.StructField("path", T.StringType(), False),
    T.StructField("kind", T.StringType(), False),
    T.StructField("target_first_line", T.IntegerType(), False),
    T.StructField("target_last_line", T.IntegerType(), False),
    T.StructField("origin_project", T.StringType(), True),
    T.StructField("origin_version", T.StringType(), True),
    T.StructField("origin_path", T.StringType(), False),
    T.StructField("origin_first_line", T.IntegerType(), False),
    T.StructField("origin_last_line", T.IntegerType(), False),
    T.StructField("license", T.StringType(), True),
    T.StructField("license_class", T.StringType(), True),
    T.StructField("similarity", T.DoubleType(), False),
    T.StructField("matched_tokens", T.IntegerType(), False),
    T.StructField("edits", T.IntegerType(), True),
    T.StructField("symbol", T.StringType(), True),
    T.StructField("notice_retained", T.BooleanType(), True),
])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True, help="index directory")
    p.add_argument("--repos", required=True, help="file listing one repository per line")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--provscan", help="provscan binary [$PROVSCAN_BIN, else PATH]")
    p.add_argument("--ship-index", action="store_true",
                   help="ship the index to executors with SparkFiles instead of shared storage")
    p.add_argument("--partitions", type=int, help="tasks [one per repository, at most 10,000]")
    p.add_argument("--attempts", type=int, default=3)
    p.add_argument("--scan-arg", action="append", default=[],
                   help="extra argument for provscan scan (repeat), e.g. --scan-arg=--fail-on=strong-copyleft")
    return p.parse_args(argv)


def finding_row(repo, f):
    o = f["origin"]
    return {
        "repo": repo,
        "id": f.get("id"),
        "path": f["path"],
        "kind": f["kind"],
        "target_first_line": f["target_lines"][0],
        "target_last_line": f["target_lines"][1],
        "origin_project": o.get("project"),
        "origin_version": o.get("version"),
        "origin_path": o["path"],
        "origin_first_line": o["lines"][0],
        "origin_last_line": o["lines"][1],
        "license": o.get("license"),
        "license_class": f.get("license_class"),
        "similarity": float(f["similarity"]),
        "matched_tokens": f["matched_tokens"],
        "edits": f.get("edits"),
        "symbol": f.get("symbol"),
        "notice_retained": f.get("notice_retained"),
    }


def main(argv):
    args = parse_args(argv)
    spark, sc = pj.session("provscan-scan-repos")
    binary = pj.resolve_binary(args.provscan)
    with open(args.repos) as f:
        repos = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    index = os.path.abspath(args.index)
    index_name = None
    if args.ship_index:
        sc.addFile(index, recursive=True)
        index_name = os.path.basename(index.rstrip("/"))
    extra, attempts = list(args.scan_arg), args.attempts

    def scan_repo(item):
        n, repo = item
        idx = SparkFiles.get(index_name) if index_name else index
        start = time.monotonic()
        entry = {"repo": repo, "order": n, "findings": []}
        with tempfile.TemporaryDirectory(prefix="provscan-scan-") as tmp:
            out = os.path.join(tmp, "report.json")
            argv = [binary, "scan", "--index", idx, "--format", "json", "-o", out] + extra + [repo]
            try:
                # 0 clean, 1 policy failed, 2 could not look everywhere: all
                # three write a report; anything else is retried.
                proc = pj.run_step(argv, ok_codes=(0, 1, 2), attempts=attempts)
                if not os.path.exists(out):
                    raise pj.StepFailed(argv, proc.returncode, proc.stderr)
                with open(out) as f:
                    report = json.load(f)
            except pj.StepFailed as e:
                entry.update(status="failed", error=str(e), seconds=pj.elapsed(start))
                return entry
        summary = report.get("summary", {})
        errors = report.get("errors", [])
        entry.update(
            status="incomplete" if errors else ("policy-failed" if proc.returncode == 1 else "scanned"),
            exit_code=proc.returncode,
            files=summary.get("files"),
            bytes=summary.get("bytes"),
            skipped=len(report.get("skipped", [])),
            errors=errors,
            by_license_class=summary.get("findings_by_license_class", {}),
            findings=[finding_row(repo, f) for f in report.get("findings", [])],
            seconds=pj.elapsed(start),
        )
        return entry

    start = time.monotonic()
    parts = args.partitions or min(max(1, len(repos)), 10_000)
    results = (
        sc.parallelize(list(enumerate(repos)), parts).map(scan_repo).cache()
    )
    rows = results.flatMap(lambda e: e["findings"])
    findings = spark.createDataFrame(rows, FINDING_SCHEMA)
    os.makedirs(args.out, exist_ok=True)
    findings.write.mode("overwrite").parquet(os.path.join(args.out, "findings.parquet"))
    findings.write.mode("overwrite").json(os.path.join(args.out, "findings.jsonl"))
    entries = sorted(
        results.map(lambda e: {k: v for k, v in e.items() if k != "findings"}
                    | {"findings": len(e["findings"])}).collect(),
        key=lambda e: e["order"],
    )
    by_origin = (
        findings.groupBy("origin_project", "origin_version", "license", "license_class")
        .agg({"*": "count", "repo": "approx_count_distinct"})
        .collect()
    )
    by_class = {}
    for e in entries:
        for cls, count in (e.get("by_license_class") or {}).items():
            by_class[cls] = by_class.get(cls, 0) + count
    summary = {
        "repos": len(entries),
        "scanned": sum(e["status"] in ("scanned", "policy-failed") for e in entries),
        "policy_failed": sum(e["status"] == "policy-failed" for e in entries),
        "incomplete": sum(e["status"] == "incomplete" for e in entries),
        "failed": sum(e["status"] == "failed" for e in entries),
        "findings": sum(e["findings"] for e in entries),
        "findings_by_license_class": dict(sorted(by_class.items())),
        "findings_by_origin": sorted(
            (
                {
                    "project": r["origin_project"],
                    "version": r["origin_version"],
                    "license": r["license"],
                    "license_class": r["license_class"],
                    "findings": r["count(1)"],
                    "repos": r["approx_count_distinct(repo)"],
                }
                for r in by_origin
            ),
            key=lambda o: (-o["findings"], o["project"] or "", o["version"] or ""),
        ),
        "seconds": pj.elapsed(start),
    }
    with open(os.path.join(args.out, "repos.json"), "w") as f:
        json.dump(entries, f, indent=2)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"provscan scan on Spark: {summary['repos']} repositories, {summary['findings']} findings, "
          f"{summary['incomplete']} incomplete, {summary['failed']} failed; "
          f"by class {summary['findings_by_license_class']}; written to {args.out}")
    for e in entries:
        if e["status"] in ("failed", "incomplete"):
            print(f"{e['status'].upper()} {e['repo']}: {e.get('error') or e.get('errors')}")
    spark.stop()
    return 2 if summary["failed"] or summary["incomplete"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
