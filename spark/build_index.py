"""Builds a provscan index on Spark.

    spark-submit --master local[2] spark/build_index.py \
        --manifest corpus.toml --index IDX --work DIR [--provscan BIN]

Four stages, each a `provscan index` subcommand (see docs/scale.md):

1. shard (map): the manifest's sources are cut into tasks of
   --sources-per-task consecutive sources; each task loads them and writes a
   shard into DIR/shards (analysis, the expensive part, runs here);
2. plan (driver): `provscan index plan` gives every new content its final
   id, as one `index build` of the same manifest would;
3. runs (shuffle by fingerprint range): every shard's posting file of range
   r goes to task r through Spark's shuffle, which writes the range's sorted
   run (an SST file) into DIR/runs;
4. ingest (driver): `provscan index ingest` adds every version at once.

A source that cannot be loaded is listed in the report and the shard goes
on without it; a task whose binary crashes is retried, then listed. DIR must
be storage every executor and the driver can reach (a shared or network
file system on a real cluster); the index is written by the driver only.
Exit code: 0 when every source was added (or already indexed), 1 when some
failed (the others are in the index), 2 when the build itself failed.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib

from pyspark import SparkFiles

import provscan_job as pj


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", required=True, help="corpus.toml")
    p.add_argument("--index", required=True, help="index directory (created if absent)")
    p.add_argument("--work", required=True, help="shared working directory")
    p.add_argument("--provscan", help="provscan binary [$PROVSCAN_BIN, else PATH]")
    p.add_argument("--sources-per-task", type=int, default=1)
    p.add_argument("--ranges", type=int, default=16, help="fingerprint ranges (run tasks)")
    p.add_argument("--cache-dir", help="registry download cache on each executor")
    p.add_argument("--no-source", action="store_true", help="leave source text out")
    p.add_argument("--attempts", type=int, default=3, help="tries per step before listing it")
    p.add_argument("--report", help="where to write the JSON report [WORK/build-report.json]")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    spark, sc = pj.session("provscan-build-index")
    binary = pj.resolve_binary(args.provscan)
    manifest = os.path.abspath(args.manifest)
    with open(manifest, "rb") as f:
        manifest_bytes = f.read()
    sources = tomllib.loads(manifest_bytes.decode()).get("source", [])
    manifest_id = hashlib.blake2b(manifest_bytes, digest_size=16).hexdigest()
    work = os.path.abspath(args.work)
    index = os.path.abspath(args.index)
    shards_dir = os.path.join(work, "shards")
    runs_dir = os.path.join(work, "runs")
    os.makedirs(shards_dir, exist_ok=True)
    per = max(1, args.sources_per_task)
    tasks = [
        (t, list(range(i, min(i + per, len(sources)))))
        for t, i in enumerate(range(0, len(sources), per))
    ]
    ranges, attempts, cache_dir, no_source = args.ranges, args.attempts, args.cache_dir, args.no_source
    timings = {}

    # 1. Shards: one task per slice of the manifest.
    def shard_task(task):
        t, indices = task
        out = os.path.join(shards_dir, f"shard-{t:05d}")
        summary_path = out + ".summary.json"
        key = {"manifest": manifest_id, "sources": indices, "ranges": ranges}
        if os.path.exists(summary_path) and os.path.exists(os.path.join(out, "shard.json")):
            with open(summary_path) as f:
                done = json.load(f)
            if done.get("key") == key:
                return done  # a retried or rerun job reuses finished shards
        argv = [binary, "index", "shard", manifest, "--out", out, "--json",
                "--ranges", str(ranges), "--sources", ",".join(map(str, indices))]
        if cache_dir:
            argv += ["--cache-dir", cache_dir]
        if no_source:
            argv.append("--no-source")
        start = time.monotonic()

        def cleanup():
            shutil.rmtree(out, ignore_errors=True)

        cleanup()
        result = {"key": key, "task": t, "sources": indices, "shard": None}
        try:
            proc = pj.run_step(argv, ok_codes=(0, 1), attempts=attempts, cleanup=cleanup)
            result.update(json.loads(proc.stdout))
            result["shard"] = out
        except pj.StepFailed as e:
            cleanup()
            result["error"] = str(e)
        result["seconds"] = pj.elapsed(start)
        with open(summary_path + ".tmp", "w") as f:
            json.dump(result, f)
        os.replace(summary_path + ".tmp", summary_path)
        return result

    start = time.monotonic()
    shard_results = sorted(
        sc.parallelize(tasks, max(1, len(tasks))).map(shard_task).collect(),
        key=lambda r: r["task"],
    )
    timings["shard"] = pj.elapsed(start)
    shards = [r["shard"] for r in shard_results if r.get("shard")]

    report = {"manifest": manifest, "index": index, "sources": [], "timings": timings}
    for r in shard_results:
        failed = {f["spec"]: f["error"] for f in r.get("failed_sources", [])}
        for i in r["sources"]:
            spec = sources[i]["spec"]
            error = failed.get(spec) or r.get("error")
            report["sources"].append({"spec": spec, "task": r["task"], "error": error})
    report["shards"] = len(shards)

    if shards:
        # 2. Plan on the driver, against the index as it is now.
        start = time.monotonic()
        plan = os.path.join(work, "plan.json")
        pj.run_step([binary, "index", "--index", index, "plan", "--out", plan] + shards, attempts=1)
        timings["plan"] = pj.elapsed(start)
        with open(plan) as f:
            planned = json.load(f)
        report["plan"] = {k: planned[k] for k in ("first_content", "end_content", "new_contents",
                                                   "already_present")}

        # 3. Shuffle the posting files by fingerprint range; one run per range.
        start = time.monotonic()
        shutil.rmtree(runs_dir, ignore_errors=True)
        os.makedirs(runs_dir)
        sc.addFile(plan)
        plan_name = os.path.basename(plan)

        def posting_files(shard):
            for r in range(ranges):
                with open(os.path.join(shard, f"postings-{r:05d}.bin"), "rb") as f:
                    yield r, f.read()

        def run_task(r, items):
            with tempfile.TemporaryDirectory(prefix="provscan-run-") as tmp:
                inputs = []
                for n, (_, blob) in enumerate(items):
                    path = os.path.join(tmp, f"in-{n:05d}.bin")
                    with open(path, "wb") as f:
                        f.write(blob)
                    inputs.append(path)
                if not inputs:
                    return
                argv = [binary, "index", "run", "--plan", SparkFiles.get(plan_name),
                        "--range", str(r), "--out", runs_dir] + inputs
                # A range that cannot be written fails the job: the index
                # must not get a version set with postings missing.
                pj.run_step(argv, attempts=attempts)
                yield r

        written = (
            sc.parallelize(shards, len(shards))
            .flatMap(posting_files)
            .partitionBy(ranges, lambda r: r)
            .mapPartitionsWithIndex(run_task)
            .collect()
        )
        if sorted(written) != list(range(ranges)):
            raise SystemExit(f"runs written for ranges {sorted(written)}, expected 0..{ranges - 1}")
        timings["runs"] = pj.elapsed(start)

        # 4. Ingest on the driver: every version of the plan, all or nothing.
        start = time.monotonic()
        proc = pj.run_step([binary, "index", "--index", index, "ingest", "--plan", plan, "--json",
                            runs_dir], attempts=1)
        timings["ingest"] = pj.elapsed(start)
        report["ingest"] = json.loads(proc.stdout)

    failed = [s for s in report["sources"] if s["error"]]
    report_path = args.report or os.path.join(work, "build-report.json")
    with open(report_path, "w") as f:
        json.dump(report, f, indent=2)
    added = report.get("ingest", {}).get("added", [])
    print(f"provscan build on Spark: {len(added)} versions added, "
          f"{len(report.get('ingest', {}).get('already_present', []))} already indexed, "
          f"{len(failed)} sources failed; timings {timings}; report {report_path}")
    for s in failed:
        print(f"FAILED {s['spec']}: {s['error']}")
    spark.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
