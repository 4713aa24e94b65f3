"""vexctl's database commands (create, list, info, drop, checkpoint, check, index) and search,
driven through the real binary on temporary databases."""
import json
import os
import pathlib
import pty
import subprocess
import sys

import numpy as np
import pytest

from conftest import BINARY, ROOT

# Six points of dim 4 with exact float coordinates, so that every distance is exact.
VECTORS = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 1, 1],
                    [2, 2, 2, 2]], dtype=np.float32)
IDS = [10, 11, 12, 13, 14, 15]
PAYLOADS = [{"color": "red", "price": 1}, {"color": "blue", "price": 2}, None,
            {"color": "red", "price": 5}, {"color": "blue", "price": 7}, {"color": "red", "price": 9}]


def write_jsonl(path):
    with open(path, "w") as f:
        for i, v, p in zip(IDS, VECTORS, PAYLOADS):
            row = {"id": i, "vector": v.tolist()}
            if p is not None:
                row["payload"] = p
            f.write(json.dumps(row) + "\n")
    return path


@pytest.fixture
def filled(ok, db, tmp_path):
    """A database holding the collection "docs" (dim 4, l2, hnsw) with the six points above."""
    ok("create", db, "docs", "--dim", "4", "--index", "hnsw")
    ok("import", db, "docs", write_jsonl(tmp_path / "points.jsonl"))
    return db


def test_create_then_list_and_info_show_the_configuration(ok, db):
    ok("create", db, "docs", "--dim", "4", "--metric", "cosine", "--index", "hnsw", "--m", "8",
       "--ef-construction", "50", "--ef-search", "20", "--seed", "3", "--sync", "normal")
    ok("create", db, "flat4", "--dim", "3", "--index", "flat")
    listed = ok("list", db, "--json").json()
    assert listed == [{"name": "docs", "dim": 4, "metric": "cosine", "index": "hnsw", "count": 0},
                      {"name": "flat4", "dim": 3, "metric": "l2", "index": "flat", "count": 0}]
    lines = ok("list", db).out.splitlines()
    assert lines[0].split() == ["name", "dim", "metric", "index", "vectors"]
    assert lines[1].split() == ["docs", "4", "cosine", "hnsw", "0"]
    assert lines[2].split() == ["flat4", "3", "l2", "flat", "0"]

    info = ok("info", db, "docs", "--json").json()
    assert info["database"]["path"] == str(db)
    assert info["database"]["snapshot.vxs"] == (db / "snapshot.vxs").stat().st_size
    assert info["database"]["wal.log"] == (db / "wal.log").stat().st_size
    [col] = info["collections"]
    assert col["name"] == "docs" and col["count"] == 0 and col["index_in_use"] == "hnsw"
    assert col["config"] == {"dim": 4, "metric": "cosine", "index": "hnsw", "hnsw_m": 8,
                             "ef_construction": 50, "ef_search": 20, "seed": 3,
                             "lsh_tables": 0, "lsh_bits": 0, "lsh_probes": 0,
                             "lsh_bucket_width": 0, "lsh_projection": "random",
                             "ivf_nlist": 0, "ivf_nprobe": 0, "ivf_codes": "f32",
                             "storage": "f32", "rerank": "in_memory"}
    assert set(col["memory_bytes"]) == {"vectors", "index", "payloads", "mapped"}
    assert col["payload_indexes"] == []
    both = ok("info", db, "--json").json()
    assert [c["name"] for c in both["collections"]] == ["docs", "flat4"]
    text = ok("info", db, "flat4").out
    assert "collection flat4" in text and "snapshot.vxs" in text
    assert "ivf_nlist" in text and "lsh_tables" in text


def test_info_shows_every_config_field_whatever_the_index(ok, db):
    ok("create", db, "v", "--dim", "8", "--index", "ivf")
    ok("create", db, "l", "--dim", "8", "--index", "lsh")
    cols = {c["name"]: c for c in ok("info", db, "--json").json()["collections"]}
    # the same keys for every kind, so scripts can rely on them (AUTO switches kind as it grows)
    assert set(cols["v"]["config"]) == set(cols["l"]["config"])
    assert {"ivf_nlist", "ivf_nprobe", "ivf_codes", "lsh_tables", "lsh_bits", "lsh_probes",
            "lsh_bucket_width", "lsh_projection"} <= set(cols["v"]["config"])
    assert cols["v"]["config"]["index"] == "ivf" and cols["l"]["config"]["index"] == "lsh"
    assert cols["v"]["config"]["ivf_codes"] == "f32"


@pytest.mark.parametrize("storage,rerank", [("sq8", "mapped"), ("f16", "none"), ("sq4", "in_memory")])
def test_create_takes_storage_and_rerank(ok, db, storage, rerank):
    ok("create", db, "v", "--dim", "6", "--index", "hnsw", "--storage", storage, "--rerank", rerank)
    [col] = ok("info", db, "--json").json()["collections"]
    assert col["config"]["storage"] == storage and col["config"]["rerank"] == rerank


def test_create_an_existing_name_fails(ok, vexctl, db):
    ok("create", db, "docs", "--dim", "4")
    r = vexctl("create", db, "docs", "--dim", "8")
    assert r.rc == 1 and "a collection called 'docs' already exists" in r.err, r
    assert ok("list", db, "--json").json()[0]["dim"] == 4


@pytest.mark.parametrize("args", [
    ["--dim", "0"], ["--dim", "x"], ["--dim", "65537"], [], ["--dim", "4", "--metric", "hamming"],
    ["--dim", "4", "--index", "tree"], ["--dim", "4", "--m", "1"], ["--dim", "4", "--sync", "sometimes"],
    ["--dim", "4", "--ef-search", "0"], ["--dim", "4", "--bogus"], ["--dim"],
    ["--dim", "4", "--index", "flat", "--storage", "int8"],
    ["--dim", "4", "--index", "flat", "--rerank", "disk"],
    ["--dim", "4", "--storage", "sq8"],  # index auto keeps f32 rows
    ["--dim", "4", "--index", "flat", "--rerank", "none"],  # f32 is the exact copy
])
def test_bad_create_options_exit_2_and_create_nothing(vexctl, db, args):
    r = vexctl("create", db, "docs", *args)
    assert r.rc == 2 and r.err.startswith("vexctl: create: "), r
    assert not db.exists()


def test_a_bad_collection_name_exits_2_and_creates_nothing(vexctl, db):
    r = vexctl("create", db, ".hidden", "--dim", "4")
    assert r.rc == 2 and "'.hidden' is not a collection name" in r.err, r
    assert not db.exists()


@pytest.mark.parametrize("args", [["list"], ["info"], ["checkpoint"], ["check"], ["create", "DB"],
                                  ["drop", "DB"], ["index", "DB", "docs", "k"],
                                  ["list", "DB", "extra"], ["list", "DB", "--bogus"],
                                  ["search", "DB"], ["info", "DB", "-x"]])
def test_missing_or_extra_arguments_exit_2(vexctl, args):
    r = vexctl(*args)
    assert r.rc == 2 and r.err.startswith(f"vexctl: {args[0]}: ") and "Try 'vexctl help" in r.err, r


def test_a_missing_database_fails_naming_it(vexctl, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for cmd in (["list"], ["info"], ["checkpoint"], ["search", "docs", "--vector", "[1]"]):
        r = vexctl(cmd[0], empty, *cmd[1:])
        assert r.rc == 1 and f"{empty}: no vexfs database there" in r.err, r
    r = vexctl("list", tmp_path / "nowhere")
    assert r.rc == 1 and str(tmp_path / "nowhere") in r.err, r
    assert not (tmp_path / "nowhere").exists()
    assert os.listdir(empty) == []


def test_search_finds_a_stored_row_at_distance_zero(ok, filled):
    out = ok("search", filled, "docs", "--vector", "[1, 1, 1, 1]", "-k", "3", "--json").json()
    # [1,1,1,1] is id 14; the unit vectors are at 3, [2,2,2,2] at 4: ties go by ascending id.
    assert out == {"results": [{"id": 14, "distance": 0}, {"id": 10, "distance": 3},
                               {"id": 11, "distance": 3}]}
    lines = ok("search", filled, "docs", "--vector", "[2,2,2,2]", "-k", "2").out.splitlines()
    assert lines[0].split() == ["rank", "id", "distance"]
    assert lines[1].split() == ["1", "15", "0"] and lines[2].split() == ["2", "14", "4"]


def test_search_with_filter_and_payload(ok, filled):
    red = '{"must": [{"key": "color", "match": {"value": "red"}}]}'
    out = ok("search", filled, "docs", "--vector", "[0,0,0,1]", "--filter", red, "--with-payload",
             "--json").json()
    assert out["results"] == [
        {"id": 13, "distance": 0, "payload": {"color": "red", "price": 5}},
        {"id": 10, "distance": 2, "payload": {"color": "red", "price": 1}},
        {"id": 15, "distance": 13, "payload": {"color": "red", "price": 9}}]
    # a hit without a payload: null in JSON, "-" in the table
    out = ok("search", filled, "docs", "--vector", "[0,0,1,0]", "-k", "1", "--with-payload",
             "--json").json()
    assert out["results"] == [{"id": 12, "distance": 0, "payload": None}]
    table = ok("search", filled, "docs", "--vector", "[0,0,1,0]", "-k", "1", "--with-payload").out
    assert table.splitlines()[1].split() == ["1", "12", "0", "-"]
    cheap = '{"must": [{"key": "price", "range": {"lt": 3}}]}'
    out = ok("search", filled, "docs", "--vector", "[2,2,2,2]", "--filter", cheap, "--exact",
             "--ef", "5", "--json").json()
    assert [h["id"] for h in out["results"]] == [10, 11]


def test_search_reads_the_query_from_a_file_row(ok, vexctl, filled, tmp_path):
    np.save(tmp_path / "q.npy", VECTORS.astype(np.float64))
    out = ok("search", filled, "docs", "--query", tmp_path / "q.npy", "--row", "3", "-k", "1",
             "--json").json()
    assert out["results"] == [{"id": 13, "distance": 0}]
    with open(tmp_path / "q.fvecs", "wb") as f:
        for v in VECTORS:
            f.write(np.int32(4).tobytes() + v.tobytes())
    out = ok("search", filled, "docs", "--query", tmp_path / "q.fvecs", "-k", "1", "--json").json()
    assert out["results"] == [{"id": 10, "distance": 0}]
    r = vexctl("search", filled, "docs", "--query", tmp_path / "q.npy", "--row", "6")
    assert r.rc == 1 and "--row 6 asked, the file has 6 rows" in r.err, r
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00")
    r = vexctl("search", filled, "docs", "--query", tmp_path / "bad.npy")
    assert r.rc == 1 and "bad.npy" in r.err and r.out == "", r


def test_search_errors(vexctl, filled):
    r = vexctl("search", filled, "docs", "--vector", "[1, 2, 3]")
    assert r.rc == 1 and "the query has 3 dimensions, the collection 'docs' has 4" in r.err, r
    for bad in ("[1, 2, 3, x]", "[1, 2, 3, 4", "[1, 2, 3, \"4\"]", "{}", "[]", "[1, 2, 3, 1e39]",
                "[1, 2, 3, 4] 5", "[01, 2, 3, 4]"):
        r = vexctl("search", filled, "docs", "--vector", bad)
        assert r.rc == 2 and r.err.startswith("vexctl: search: --vector"), (bad, r)
    r = vexctl("search", filled, "docs", "--vector", "[1,0,0,0]",
               "--filter", '{"must": [{"key": "price", "range": {"gt": "cheap"}}]}')
    assert r.rc == 1 and "filter.must[0].range.gt" in r.err and r.out == "", r
    r = vexctl("search", filled, "nope", "--vector", "[1,0,0,0]")
    assert r.rc == 1 and "no collection called 'nope'" in r.err, r
    for args in (["--vector", "[1,0,0,0]", "--query", "q.npy"], [], ["--vector", "[1,0,0,0]", "--row", "1"],
                 ["--vector", "[1,0,0,0]", "-k", "0"]):
        r = vexctl("search", filled, "docs", *args)
        assert r.rc == 2, (args, r)


def test_payload_indexes_are_created_listed_and_dropped(ok, vexctl, filled):
    ok("index", filled, "docs", "price", "numeric")
    ok("index", filled, "docs", "color", "keyword")
    col = ok("info", filled, "docs", "--json").json()["collections"][0]
    assert col["payload_indexes"] == [{"key": "color", "kind": "keyword"},
                                      {"key": "price", "kind": "numeric"}]
    assert "payload_indexes    color (keyword), price (numeric)" in ok("info", filled, "docs").out
    r = vexctl("index", filled, "docs", "color", "keyword")
    assert r.rc == 1 and "color" in r.err, r
    r = vexctl("index", filled, "docs", "color", "fulltext")
    assert r.rc == 2 and "keyword or numeric" in r.err, r
    ok("index", filled, "docs", "color", "keyword", "--drop")
    col = ok("info", filled, "docs", "--json").json()["collections"][0]
    assert col["payload_indexes"] == [{"key": "price", "kind": "numeric"}]
    r = vexctl("index", filled, "docs", "color", "keyword", "--drop")
    assert r.rc == 1, r
    # an indexed filter gives what the scan gave
    out = ok("search", filled, "docs", "--vector", "[2,2,2,2]", "--filter",
             '{"must": [{"key": "price", "range": {"lt": 3}}]}', "--json").json()
    assert [h["id"] for h in out["results"]] == [10, 11]


def run_on_a_terminal(args, answer):
    """Runs vexctl with stdin on a pseudo-terminal and types answer; returns (rc, stderr)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([BINARY, *map(str, args)], stdin=follower, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    os.close(follower)
    os.write(leader, answer.encode())
    out, err = proc.communicate(timeout=60)
    os.close(leader)
    return proc.returncode, err


def test_drop_asks_on_a_terminal_and_wants_yes_otherwise(ok, vexctl, db):
    ok("create", db, "a", "--dim", "2")
    ok("create", db, "b", "--dim", "2")
    r = vexctl("drop", db, "a")
    assert r.rc == 2 and "--yes" in r.err, r
    rc, err = run_on_a_terminal(["drop", db, "a"], "n\n")
    assert rc == 1 and "Drop the collection 'a'" in err and "not dropped" in err, err
    assert [c["name"] for c in ok("list", db, "--json").json()] == ["a", "b"]
    rc, err = run_on_a_terminal(["drop", db, "a"], "y\n")
    assert rc == 0, err
    assert [c["name"] for c in ok("list", db, "--json").json()] == ["b"]
    ok("drop", db, "b", "--yes")
    assert ok("list", db, "--json").json() == []
    r = vexctl("drop", db, "b", "--yes")
    assert r.rc == 1 and "no collection called 'b'" in r.err, r


def test_checkpoint_keeps_the_data(ok, filled):
    ok("checkpoint", filled)
    assert ok("list", filled, "--json").json()[0]["count"] == 6
    out = ok("search", filled, "docs", "--vector", "[0,1,0,0]", "-k", "1", "--json").json()
    assert out["results"] == [{"id": 11, "distance": 0}]


def test_check_passes_a_healthy_database(ok, filled):
    r = ok("check", filled)
    assert r.out.startswith("ok\n") and "snapshot.vxs" in r.out, r
    assert any(line.split() == ["docs", "6", "vectors"] for line in r.out.splitlines()), r
    report = ok("check", filled, "--json").json()
    assert report["ok"] is True
    assert report["collections"] == [{"name": "docs", "vectors": 6}]
    assert report["snapshot"]["bytes"] == (filled / "snapshot.vxs").stat().st_size


def flip_byte(path, at):
    data = bytearray(path.read_bytes())
    data[at] ^= 0x40
    path.write_bytes(bytes(data))


def test_check_finds_a_flipped_byte_in_the_snapshot(ok, vexctl, filled):
    snap = filled / "snapshot.vxs"
    flip_byte(snap, snap.stat().st_size // 2)
    r = vexctl("check", filled)
    assert r.rc == 1 and r.err.startswith("vexctl: check: ") and "snapshot.vxs" in r.err, r
    assert r.out == ""
    r = vexctl("check", filled, "--json")
    assert r.rc == 1 and r.json()["ok"] is False and "snapshot.vxs" in r.json()["problem"], r


# Writes a database whose log holds records the snapshot does not cover: the process ends
# without closing it (vexctl's commands all close, and closing checkpoints).
UNCLOSED_WRITER = """
import os, sys
import numpy as np
import vexfs
db = vexfs.Database(sys.argv[1])
c = db.get_collection("docs")
c.add([100, 101], np.array([[5, 5, 5, 5], [6, 6, 6, 6]], dtype=np.float32))
os._exit(0)
"""


def test_check_finds_a_flipped_byte_in_a_log_record(ok, vexctl, filled):
    env = dict(os.environ, VEXFS_LIBRARY=str(ROOT / "build" / "lib" / "libvexfs.so"),
               PYTHONPATH=str(ROOT / "bindings" / "python"))
    subprocess.run([sys.executable, "-c", UNCLOSED_WRITER, str(filled)], env=env, check=True,
                   timeout=60)
    log = filled / "wal.log"
    report = ok("check", filled, "--json").json()
    assert report["log"]["records"] >= 1 and report["collections"] == [{"name": "docs", "vectors": 8}]
    size = log.stat().st_size
    flip_byte(log, size - 8)  # inside the last record
    r = vexctl("check", filled)
    assert r.rc == 1 and "wal.log" in r.err and r.out == "", r


def test_help_of_each_command_is_complete(ok):
    for cmd, words in {"create": ["--dim", "--metric", "--index", "--m", "--ef-construction",
                                  "--ef-search", "--seed", "--sync"],
                       "list": ["--json"], "info": ["--json"], "drop": ["--yes"],
                       "checkpoint": [], "check": ["--json"], "index": ["--drop"],
                       "search": ["--vector", "--query", "--row", "-k", "--ef", "--filter",
                                  "--with-payload", "--exact", "--json"]}.items():
        text = ok(cmd, "--help").out
        assert text.startswith(f"usage: vexctl {cmd} ") and "example:" in text, cmd
        for w in words:
            assert w in text, (cmd, w)
