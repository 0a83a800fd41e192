"""What both Spark jobs share: finding the provscan binary and running it.

The jobs never read or write provscan's files themselves; every step that
touches the index format is a `provscan` subcommand, so the format stays the
binary's business and the jobs only move files and rows around.
"""

import os
import shutil
import subprocess
import time


def session(app_name):
    """A Spark session for one of the jobs, with this module shipped to the
    executors (the tasks' closures call it there)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(app_name).getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel(os.environ.get("PROVSCAN_SPARK_LOG", "WARN"))
    sc.addPyFile(os.path.abspath(__file__))
    return spark, sc


def resolve_binary(explicit=None):
    """The provscan binary: --provscan, $PROVSCAN_BIN, else the PATH."""
    candidate = explicit or os.environ.get("PROVSCAN_BIN") or shutil.which("provscan")
    if not candidate or not os.access(candidate, os.X_OK):
        raise SystemExit(
            "no provscan binary: pass --provscan PATH, set PROVSCAN_BIN, or put it on the PATH"
        )
    return os.path.abspath(candidate)


class StepFailed(Exception):
    """A provscan step that failed every attempt; carries what it printed."""

    def __init__(self, argv, code, stderr):
        super().__init__(f"{' '.join(argv)} exited {code}: {stderr.strip()[-2000:]}")
        self.code = code
        self.stderr = stderr


def task_env():
    """The environment of a provscan process on an executor: as many worker
    threads as the task has cores (`spark.task.cpus`), not the machine's,
    so that tasks running side by side do not oversubscribe it."""
    env = dict(os.environ)
    try:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        cpus = ctx.cpus() if ctx is not None else None
    except Exception:  # outside a task (the driver)
        cpus = None
    if cpus:
        env["RAYON_NUM_THREADS"] = str(cpus)
    return env


def run_step(argv, ok_codes=(0,), attempts=3, cleanup=None):
    """Runs one provscan command, retrying a crash (a code not in ok_codes).

    Spark retries a task whose executor died; a step that fails inside a
    live task is retried here, and after the last attempt the caller lists it
    as failed instead of failing the whole job. `cleanup` runs before each
    retry (e.g. removing a half-written shard).
    """
    last = None
    for attempt in range(attempts):
        if attempt and cleanup:
            cleanup()
        proc = subprocess.run(argv, capture_output=True, text=True, env=task_env())
        if proc.returncode in ok_codes:
            return proc
        last = StepFailed(argv, proc.returncode, proc.stderr)
        time.sleep(min(2 ** attempt, 5))
    raise last


def elapsed(start):
    return round(time.monotonic() - start, 3)
