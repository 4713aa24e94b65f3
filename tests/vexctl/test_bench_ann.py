"""vexctl bench ann: the ann-benchmarks sweep on small ann-benchmarks-format HDF5 files made here."""
import h5py
import numpy as np

from conftest import exact_neighbours


def test_flat_finds_every_true_neighbour_at_every_ef(ok, ann_hdf5):
    out = ok("bench", "ann", ann_hdf5, "--index", "flat", "--ef", "5,10,40", "--json").json()
    assert [row["ef"] for row in out["rows"]] == [5, 10, 40]
    assert all(row["recall"] == 1.0 for row in out["rows"]), out["rows"]
    assert all(row["qps"] > 0 and row["p99_latency_us"] >= 0 for row in out["rows"])
    assert (out["metric"], out["index"], out["index_in_use"]) == ("l2", "flat", "flat")
    assert (out["train"], out["dim"], out["queries"], out["k"]) == (600, 16, 25, 10)
    # a flat index holds the rows only: at least 16 float32 per vector
    assert out["bytes_per_vector"] >= 64 and out["memory_bytes"]["index"] == 0


def test_hnsw_reaches_high_recall_at_the_largest_ef(ok, ann_hdf5):
    out = ok("bench", "ann", ann_hdf5, "--threads", "1", "--m", "8", "--ef-construction", "64",
             "--json").json()
    assert [row["ef"] for row in out["rows"]] == [10, 20, 40, 80]
    assert out["rows"][-1]["recall"] >= 0.9, out["rows"]
    assert out["index_in_use"] == "hnsw" and out["memory_bytes"]["index"] > 0
    table = ok("bench", "ann", ann_hdf5, "--queries", "5", "-k", "5").out.splitlines()
    assert table[0].endswith("index hnsw (in use: hnsw), k 5") and "5 queries" in table[0]
    assert table[1].split() == ["ef", "recall", "QPS", "mean", "us", "p99", "us"]
    assert [line.split()[0] for line in table[2:6]] == ["10", "20", "40", "80"]
    assert table[6].startswith("build: ") and table[7].startswith("memory: ")


def test_plot_writes_an_svg_of_the_sweep(ok, ann_hdf5, tmp_path):
    plot = tmp_path / "sweep.svg"
    ok("bench", "ann", ann_hdf5, "--index", "flat", "--ef", "10,20", "--plot", plot)
    svg = plot.read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<polyline" in svg or "<path" in svg


def test_an_angular_file_is_searched_by_cosine(ok, tmp_path):
    rng = np.random.default_rng(3)
    train = rng.normal(size=(300, 8)).astype(np.float32)
    test = rng.normal(size=(10, 8)).astype(np.float32)
    neighbors, _ = exact_neighbours(train, test, 10, metric="angular")
    path = tmp_path / "small-8-angular.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = "angular"
        f.create_dataset("train", data=train)
        f.create_dataset("test", data=test)
        f.create_dataset("neighbors", data=neighbors)
    out = ok("bench", "ann", path, "--index", "flat", "--ef", "10", "--json").json()
    assert out["metric"] == "cosine" and out["rows"][0]["recall"] == 1.0


def make_file(path, distance="euclidean", without=None):
    rng = np.random.default_rng(1)
    data = {"train": rng.normal(size=(50, 4)).astype(np.float32),
            "test": rng.normal(size=(3, 4)).astype(np.float32),
            "neighbors": np.zeros((3, 10), dtype=np.int32)}
    with h5py.File(path, "w") as f:
        if distance:
            f.attrs["distance"] = distance
        for name, values in data.items():
            if name != without:
                f.create_dataset(name, data=values)
    return path


def test_bad_files_fail_with_exit_1_naming_the_problem(vexctl, ann_hdf5, tmp_path):
    r = vexctl("bench", "ann", ann_hdf5, "-k", "11")
    assert r.rc == 1 and "'neighbors' holds 10 per query, fewer than -k 11" in r.err and r.out == "", r
    r = vexctl("bench", "ann", make_file(tmp_path / "hamming.hdf5", distance="hamming"))
    assert r.rc == 1 and "distance 'hamming'" in r.err, r
    r = vexctl("bench", "ann", make_file(tmp_path / "nodist.hdf5", distance=None))
    assert r.rc == 1 and "'distance'" in r.err, r
    r = vexctl("bench", "ann", make_file(tmp_path / "notrain.hdf5", without="train"))
    assert r.rc == 1 and "notrain.hdf5" in r.err and "train" in r.err and r.out == "", r
    r = vexctl("bench", "ann", tmp_path / "absent.hdf5")
    assert r.rc == 1 and "absent.hdf5" in r.err, r
    plot = tmp_path / "no-such-dir" / "p.svg"
    r = vexctl("bench", "ann", ann_hdf5, "--index", "flat", "--plot", plot)
    assert r.rc == 1 and str(plot) in r.err and r.out == "", r


def test_usage_errors_exit_2(vexctl, ann_hdf5):
    for args in (["bench"], ["bench", "sift"], ["bench", "ann"], ["bench", "ann", ann_hdf5, "--ef", "10,,20"],
                 ["bench", "ann", ann_hdf5, "--ef", "0"], ["bench", "ann", ann_hdf5, "--index", "tree"],
                 ["bench", "ann", ann_hdf5, "--m", "1"], ["bench", "ann", ann_hdf5, "--bogus"],
                 ["bench", "ann", ann_hdf5, "--threads", "0"], ["bench", "ann", ann_hdf5, "extra"]):
        r = vexctl(*args)
        assert r.rc == 2 and r.err.startswith("vexctl: bench: "), (args, r)


def test_help_names_every_option(ok):
    text = ok("bench", "--help").out
    assert text.startswith("usage: vexctl bench ann FILE.hdf5") and "example:" in text
    for option in ("--index", "--ef", "-k", "--threads", "--m", "--ef-construction", "--queries",
                   "--plot", "--json"):
        assert option in text, option
