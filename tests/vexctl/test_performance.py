"""vexctl performance: metrics, monitor, benchmark, report, simd, memory-pools, and the
reference's subcommands that do not apply to a library. Workloads run for well under a second
on small collections, so the file runs in a few seconds."""
import json
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import BINARY

SMALL = ["--rows", "400", "--dim", "8"]  # an in-memory collection that loads at once


@pytest.fixture
def docs_db(tmp_path, ok):
    """A database with 'docs' (300 x 8 float32, hnsw, imported) and an empty 'other' (dim 4)."""
    path = tmp_path / "db"
    rows = np.random.default_rng(3).normal(size=(300, 8)).astype(np.float32)
    np.save(tmp_path / "docs.npy", rows)
    ok("create", path, "docs", "--dim", "8", "--index", "hnsw")
    ok("import", path, "docs", tmp_path / "docs.npy")
    ok("create", path, "other", "--dim", "4")
    return path


def collections(ok, path):
    return ok("list", path, "--json").json()


def exported(ok, tmp_path, path, name):
    out = tmp_path / f"export-{time.monotonic_ns()}.npy"
    ok("export", path, name, out)
    return out.read_bytes()


# ---- metrics ----

def test_metrics_table_lists_every_collection(ok, docs_db):
    r = ok("performance", "metrics", docs_db)
    rows = {line.split()[0]: line.split() for line in r.out.splitlines() if line.strip()}
    assert rows["collection"][1] == "vectors"
    assert rows["docs"][1:4] == ["300", "8", "l2"]
    assert rows["other"][1:4] == ["0", "4", "l2"]
    isa = ok("version").out.split("kernels: ")[1].split(")")[0]
    assert f"process: simd {isa}," in r.out


def test_metrics_json_has_the_library_figures(ok, docs_db):
    for args in (["--json"], ["--format", "json"]):
        doc = ok("performance", "metrics", docs_db, *args).json()
        assert doc["database"] == str(docs_db)
        by_name = {c["collection"]: c for c in doc["collections"]}
        assert set(by_name) == {"docs", "other"}
        assert by_name["docs"]["vectors"] == 300 and by_name["other"]["vectors"] == 0
        assert by_name["docs"]["memory_bytes"]["vectors"] > 300 * 8 * 4
        assert by_name["docs"]["searches"] == 0  # a fresh read-only open has searched nothing
    one = ok("performance", "metrics", docs_db, "docs", "--json").json()
    assert [c["collection"] for c in one["collections"]] == ["docs"]


def test_metrics_prometheus_merges_families(ok, docs_db):
    text = ok("performance", "metrics", docs_db, "--format", "prometheus").out
    assert 'vexfs_vectors{collection="docs"} 300' in text.splitlines()
    assert 'vexfs_vectors{collection="other"} 0' in text.splitlines()
    types = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types)) and "vexfs_vectors" in types  # each family once
    # every sample of a family sits right under its header, for both collections
    family, seen = None, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            family = line.split()[2]
        elif not line.startswith("#"):
            assert line.startswith(family), line
            seen.setdefault(family, set()).add(re.search(r'collection="([^"]+)"', line).group(1))
    assert all(names == {"docs", "other"} for names in seen.values())
    only = ok("performance", "metrics", docs_db, "docs", "--format", "prometheus").out
    assert 'collection="docs"' in only and 'collection="other"' not in only


def test_metrics_errors(vexctl, docs_db, tmp_path):
    r = vexctl("performance", "metrics", docs_db, "nope")
    assert r.rc == 1 and "no collection called 'nope'" in r.err and r.out == ""
    r = vexctl("performance", "metrics", tmp_path / "missing")
    assert r.rc == 1 and "missing" in r.err
    r = vexctl("performance", "metrics", docs_db, "--format", "xml")
    assert r.rc == 2 and "--format: 'xml'" in r.err


# ---- monitor ----

def test_monitor_prints_one_line_per_interval(ok):
    r = ok("performance", "monitor", *SMALL, "--duration", "1s", "--interval", "250ms")
    lines = r.out.splitlines()
    assert len(lines) == 4, r
    pattern = re.compile(r"t=(\d+\.\d\d)s ops=(\d+) ops/s=[\d.]+ search=(\d+) insert=0 "
                         r"p50_us=[\d.]+ p95_us=[\d.]+ p99_us=[\d.]+ pool_hit=[\d.]+%$")
    times = []
    for line in lines:
        m = pattern.match(line)
        assert m, line
        assert int(m.group(2)) == int(m.group(3)) > 0
        times.append(float(m.group(1)))
    assert times == sorted(times) and abs(times[-1] - 1.0) < 0.1
    assert "\033[" not in r.out  # no live view when stdout is not a terminal


def test_monitor_json_lines(ok):
    r = ok("performance", "monitor", *SMALL, "--duration", "600ms", "--interval", "200ms",
           "--workload", "mixed", "--json")
    lines = r.out.splitlines()
    assert len(lines) == 3
    docs = [json.loads(line) for line in lines]
    for d in docs:
        assert d["ops"] == d["searches"] + d["inserts"] > 0
        assert abs(d["ops_per_sec"] - d["ops"] / d["interval_s"]) < 1e-6 * d["ops_per_sec"] + 1e-9
        lat = d["latency_us"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert sum(d["inserts"] for d in docs) > 0  # mixed: about one call in ten inserts
    assert abs(docs[-1]["t"] - 0.6) < 0.1


def test_monitor_interval_that_does_not_divide_the_duration(ok):
    r = ok("performance", "monitor", *SMALL, "--duration", "500ms", "--interval", "200ms", "--json")
    spans = [json.loads(line)["interval_s"] for line in r.out.splitlines()]
    assert len(spans) == 3 and spans[-1] < 0.15  # 200 + 200 + 100 ms


# ---- benchmark ----

def test_benchmark_reports_the_achievement(ok):
    r = ok("performance", "benchmark", *SMALL, "--duration", "300ms",
           "--target-ops-per-sec", "1000000000")
    m = re.search(r"^achieved (\d+) ops/s of the 1000000000 targeted: (\d+\.\d)%, target missed$",
                  r.out, re.M)
    assert m, r
    assert float(m.group(2)) == pytest.approx(int(m.group(1)) / 1e7, abs=0.11)
    r = ok("performance", "benchmark", *SMALL, "--duration", "300ms", "--target-ops-per-sec", "1")
    assert re.search(r"^achieved \d+ ops/s of the 1 targeted: [\d.]+%, target met$", r.out, re.M)


def test_benchmark_json(ok):
    d = ok("performance", "benchmark", *SMALL, "--duration", "300ms", "--threads", "2",
           "--target-ops-per-sec", "50", "--json").json()
    assert d["workload"] == "search" and d["threads"] == 2
    assert d["ops"] == d["searches"] > 0 and d["inserts"] == 0
    assert d["ops_per_sec"] == pytest.approx(d["ops"] / d["elapsed_s"])
    lat = d["latency_us"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert d["achievement"] == pytest.approx(d["ops_per_sec"] / 50) and d["target_met"] is True
    assert d["collection"]["in_memory"] and d["collection"]["rows"] == 400
    assert d["collection"]["dim"] == 8 and d["collection"]["index"] == "hnsw"
    plain = ok("performance", "benchmark", *SMALL, "--duration", "100ms", "--json").json()
    assert plain["target_ops_per_sec"] is None and plain["achievement"] is None


@pytest.mark.parametrize("workload", ["search", "insert", "mixed"])
def test_database_workload_leaves_the_data_unchanged(ok, docs_db, tmp_path, workload):
    before_list, before_rows = collections(ok, docs_db), exported(ok, tmp_path, docs_db, "docs")
    d = ok("performance", "benchmark", docs_db, "docs", "--duration", "300ms",
           "--workload", workload, "--json").json()
    assert d["collection"]["name"] == "docs" and d["collection"]["rows"] == 300
    if workload == "search":
        assert d["inserts"] == 0 and d["collection"]["scratch"] is None
    else:
        assert d["inserts"] > 0 and d["collection"]["scratch"].startswith("vexctl-bench-")
    assert collections(ok, docs_db) == before_list  # no scratch collection left
    assert exported(ok, tmp_path, docs_db, "docs") == before_rows


def test_interrupted_database_workload_drops_the_scratch_collection(ok, docs_db):
    before = collections(ok, docs_db)
    proc = subprocess.Popen([BINARY, "performance", "monitor", str(docs_db), "docs",
                             "--duration", "30s", "--interval", "100ms", "--workload", "insert",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()  # one interval done: the scratch collection exists
    assert json.loads(first)["inserts"] > 0
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "interrupted by SIGINT" in err
    assert collections(ok, docs_db) == before


def test_workload_on_a_missing_collection(vexctl, docs_db):
    r = vexctl("performance", "benchmark", docs_db, "nope", "--duration", "100ms")
    assert r.rc == 1 and "no collection called 'nope'" in r.err and r.out == ""


# ---- report ----

def test_report_writes_one_self_contained_html_file(ok, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report = out_dir / "report.html"
    r = ok("performance", "report", "--output", report, *SMALL, "--duration", "600ms",
           "--interval", "200ms", "--workload", "mixed", "--target-ops-per-sec", "10")
    assert f"report    {report}" in r.out and "target met" in r.out
    assert [p.name for p in out_dir.iterdir()] == ["report.html"]  # no temporary file left
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert html.count("<svg") == 2 and html.count("</svg>") == 2
    assert "http" not in html and "<script" not in html.lower() and "href" not in html
    assert "Latency histogram" in html and "Throughput per interval" in html
    assert html.count("<circle") == 3 * 3  # mixed: all, search and insert, 3 intervals each
    version = ok("version").out
    assert f"<th>SIMD level</th><td class=\"n\">{version.split('kernels: ')[1].split(')')[0]}<" in html


def test_report_json_and_errors(ok, vexctl, docs_db, tmp_path):
    report = tmp_path / "r.html"
    d = ok("performance", "report", "--output", report, docs_db, "docs", "--duration", "200ms",
           "--json").json()
    assert d["report"] == str(report) and d["ops"] > 0
    assert "docs" in report.read_text()
    r = vexctl("performance", "report", "--duration", "200ms", *SMALL)
    assert r.rc == 2 and "--output" in r.err
    r = vexctl("performance", "report", "--output", tmp_path / "no" / "r.html", *SMALL)
    assert r.rc == 1 and "cannot create a file beside it" in r.err and r.out == ""


# ---- simd and memory pools ----

def test_simd_measures_scalar_and_the_level_in_use(ok):
    in_use = ok("version").out.split("kernels: ")[1].split(")")[0]
    d = ok("performance", "simd", "--json").json()
    assert d["simd_isa"] == in_use
    kernels = {k["level"]: k for k in d["kernels"]}
    for level in {"scalar", in_use}:
        assert kernels[level]["measured"] and kernels[level]["isa"] == level
        assert kernels[level]["distances_per_sec"] > 0
        assert kernels[level]["gb_per_sec"] == pytest.approx(
            kernels[level]["distances_per_sec"] * d["dim"] * 4 / 1e9, rel=1e-3)
    for k in d["kernels"]:
        assert k["measured"] or k["missing"]  # a skipped level says what the CPU lacks
    text = ok("performance", "simd").out
    assert re.search(rf"^level in use\s+{in_use}$", text, re.M)


def test_simd_follows_vexfs_simd(ok):
    d = ok("performance", "simd", "--json", env={"VEXFS_SIMD": "scalar"}).json()
    assert d["simd_isa"] == "scalar" and d["vexfs_simd_env"] == "scalar"
    # the children are started with their own VEXFS_SIMD: every runnable level is measured
    assert all(k["isa"] == k["level"] for k in d["kernels"] if k["measured"])


def test_memory_pools(ok):
    d = ok("performance", "memory-pools", "--warm=300ms", "--json").json()
    assert d["scope"] == "process" and d["warm"]["searches"] > 0
    sizes = [t["block_size"] for t in d["tiers"]]
    assert sizes and sizes == sorted(sizes)
    requests = sum(t["requests"] for t in d["tiers"])
    hits = sum(t["hits"] for t in d["tiers"])
    assert requests > 0 and d["hit_rate"] == pytest.approx(hits / requests)
    cold = ok("performance", "memory-pools", "--json").json()
    assert cold["warm"] is None and sum(t["requests"] for t in cold["tiers"]) == 0
    assert "per process" in ok("performance", "memory-pools").out


# ---- what does not apply, and usage errors ----

@pytest.mark.parametrize("sub", ["stack", "bridge", "auto-optimize", "optimize", "validate",
                                 "targets"])
def test_reference_subcommands_that_do_not_apply(vexctl, sub):
    r = vexctl("performance", sub, "configure", "--limit", "3072")
    assert r.rc == 2 and r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith(f"vexctl: performance {sub}: does not "
                                                       "apply to a library")


def test_configure_subcommands_say_what_to_do_instead(vexctl):
    r = vexctl("performance", "memory-pools", "configure", "--small-buffers", "256")
    assert r.rc == 2 and "vexfs_pool_configure()" in r.err
    r = vexctl("performance", "simd", "configure", "--enable-avx2")
    assert r.rc == 2 and "VEXFS_SIMD" in r.err


@pytest.mark.parametrize("args", [
    ["monitor", "--duration", "abc"], ["monitor", "--duration", "-1s"],
    ["monitor", "--duration", "0"], ["monitor", "--interval", "5ms"],
    ["monitor", "--interval", "2x"], ["monitor", "--duration", "1s", "--interval", "2s"],
    ["benchmark", "--duration", "10 s"], ["report", "--output", "r.html", "--interval", ""],
    ["benchmark", "--workload", "delete"], ["benchmark", "--threads", "0"],
    ["benchmark", "only-db"], ["benchmark", "db", "name", "--rows", "5"],
    ["benchmark", "--interval", "1s"], ["monitor", "--target-ops-per-sec", "5"],
    ["benchmark", "--target-ops-per-sec", "-5"], ["memory-pools", "--warm=forever"],
    ["simd", "extra"], ["nonsense"], [],
])
def test_usage_errors(vexctl, args):
    r = vexctl("performance", *args)
    assert r.rc == 2 and r.out == "", r
    assert r.err.startswith("vexctl: performance"), r


def test_help_lists_every_subcommand(ok):
    text = ok("help", "performance").out
    for sub in ["metrics", "monitor", "benchmark", "report", "simd", "memory-pools"]:
        assert f"  {sub} " in text
    assert ok("performance", "monitor", "--help").out == text
