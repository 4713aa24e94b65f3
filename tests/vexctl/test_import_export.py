"""vexctl import / export: every format round-trips bit for bit, malformed files are refused
with a clear message and nothing written, a refused batch and Ctrl-C keep exactly the committed
rows, and the summaries (plain line, --json) carry the right counts."""
import json
import os
import re
import signal
import struct
import subprocess
import time

import numpy as np
import pytest

from conftest import BINARY


def vectors(n, d, seed=1):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def export_npy(ok, db, name, tmp_path):
    """The collection's vectors and ids, read back through vexctl export."""
    out, ids = tmp_path / f"{name}-out.npy", tmp_path / f"{name}-ids.npy"
    ok("export", db, name, out, "--ids", ids)
    return np.load(out), np.load(ids)


def write_fvecs(path, a, dtype=np.float32):
    with open(path, "wb") as f:
        for row in a:
            f.write(struct.pack("<i", len(row)))
            f.write(np.asarray(row, dtype=dtype).tobytes())


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def assert_refused(r, db, *words):
    assert r.rc == 1, r
    assert r.err.startswith("vexctl: import: "), r
    for w in words:
        assert w in r.err, r
    assert not db.exists(), "a refused file must not leave a database behind"


# ---------------------------------------------------------------------------------------------
# round trips


def test_npy_round_trip_is_byte_identical(ok, db, tmp_path):
    a = vectors(1500, 24)
    src = tmp_path / "a.npy"
    np.save(src, a)
    r = ok("import", db, "c", src)
    assert re.fullmatch(r"imported 1500 rows into c in \d+\.\d s \(\d+ rows/s\)\n", r.out), r
    out, ids = tmp_path / "out.npy", tmp_path / "ids.npy"
    ok("export", db, "c", out, "--ids", ids)
    assert out.read_bytes() == src.read_bytes()
    got_ids = np.load(ids)
    assert got_ids.dtype == np.uint64 and (got_ids == np.arange(1500)).all()
    np.save(tmp_path / "numpy-ids.npy", got_ids)
    assert ids.read_bytes() == (tmp_path / "numpy-ids.npy").read_bytes()
    assert not (tmp_path / "out.npy.tmp").exists()


def test_npy_float64_and_fortran_order(ok, db, tmp_path):
    a = np.random.default_rng(2).normal(size=(300, 7))
    np.save(tmp_path / "f64.npy", a)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(a.astype(np.float32)))
    ok("import", db, "f64", tmp_path / "f64.npy", "--ids-from", "1000")
    ok("import", db, "fortran", tmp_path / "fortran.npy")
    got, ids = export_npy(ok, db, "f64", tmp_path)
    assert np.array_equal(got.view(np.uint32), a.astype(np.float32).view(np.uint32))
    assert (ids == np.arange(1000, 1300)).all()
    got, _ = export_npy(ok, db, "fortran", tmp_path)
    assert np.array_equal(got, a.astype(np.float32))


def test_npy_header_versions_2_and_3_and_format_override(ok, db, tmp_path):
    a = vectors(40, 3, seed=11)
    for version in ((2, 0), (3, 0)):
        with open(tmp_path / f"v{version[0]}.bin", "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        name = f"v{version[0]}"
        ok("import", db, name, tmp_path / f"{name}.bin", "--format", "npy")
        got, _ = export_npy(ok, db, name, tmp_path)
        assert np.array_equal(got, a)


def test_fvecs_and_bvecs_round_trip(ok, db, tmp_path):
    a = vectors(400, 12, seed=3)
    write_fvecs(tmp_path / "a.fvecs", a)
    ok("import", db, "f", tmp_path / "a.fvecs")
    ok("export", db, "f", tmp_path / "out.fvecs")
    assert (tmp_path / "out.fvecs").read_bytes() == (tmp_path / "a.fvecs").read_bytes()
    b = np.random.default_rng(4).integers(0, 256, size=(250, 9), dtype=np.uint8)
    write_fvecs(tmp_path / "b.bvecs", b, np.uint8)
    ok("import", db, "b", tmp_path / "b.bvecs")
    got, ids = export_npy(ok, db, "b", tmp_path)
    assert np.array_equal(got, b.astype(np.float32)) and (ids == np.arange(250)).all()


def test_jsonl_round_trip_keeps_ids_bits_and_payloads(ok, db, tmp_path):
    a = vectors(120, 5, seed=5)
    a[0] = [np.float32(0.1), np.float32(1e-40), np.float32(3.4028235e38 / 1e20), -0.0,
            np.float32(16777217)]
    ids = [int(i) * 7 + 3 for i in range(120)]
    rows = []
    for i, (id_, v) in enumerate(zip(ids, a)):
        row = {"id": id_, "vector": [float(x) for x in v]}
        if i % 3 == 0:
            row["payload"] = {"n": i, "big": 2 ** 63 + i, "tag": f"t{i % 4}", "nested": {"x": [1, 2]}}
        rows.append(row)
    write_jsonl(tmp_path / "a.jsonl", rows)
    ok("import", db, "j", tmp_path / "a.jsonl", "--batch", "50")
    ok("export", db, "j", tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 120
    for src, line in zip(rows, lines):
        got = json.loads(line)
        assert got["id"] == src["id"]
        assert got.get("payload") == src.get("payload")
        want = np.array(src["vector"], dtype=np.float32)
        assert np.array_equal(np.array(got["vector"], dtype=np.float32).view(np.uint32),
                              want.view(np.uint32))
    # and the exported text reads back (through vexctl's strtof) to the very same floats
    ok("import", db, "again", tmp_path / "out.jsonl")
    back, back_ids = export_npy(ok, db, "again", tmp_path)
    assert np.array_equal(back.view(np.uint32), a.view(np.uint32))
    assert back_ids.tolist() == ids


def test_jsonl_without_ids_uses_ids_from(ok, db, tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"vector": [1.5, 2]}, {"vector": [3, 4.25]}])
    ok("import", db, "j", tmp_path / "a.jsonl", "--ids-from", "40")
    got, ids = export_npy(ok, db, "j", tmp_path)
    assert ids.tolist() == [40, 41] and got.tolist() == [[1.5, 2], [3, 4.25]]


def test_csv_round_trip_with_header(ok, db, tmp_path):
    a = vectors(200, 6, seed=6)
    ids = np.arange(200) * 5 + 11
    with open(tmp_path / "a.csv", "w") as f:
        f.write("id,x0,x1,x2,x3,x4,x5\n")
        for i, v in zip(ids, a):
            f.write(",".join([str(i)] + [repr(float(x)) for x in v]) + "\n")
    ok("import", db, "c", tmp_path / "a.csv")
    got, got_ids = export_npy(ok, db, "c", tmp_path)
    assert np.array_equal(got.view(np.uint32), a.view(np.uint32))
    assert (got_ids == ids).all()
    ok("export", db, "c", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text().splitlines()
    assert len(text) == 200 and text[0].split(",")[0] == "11"
    ok("import", db, "c2", tmp_path / "out.csv")
    back, _ = export_npy(ok, db, "c2", tmp_path)
    assert np.array_equal(back.view(np.uint32), a.view(np.uint32))


def test_hdf5_train_and_dataset_option(ok, db, tmp_path, ann_hdf5):
    import h5py
    with h5py.File(ann_hdf5) as f:
        train, test = f["train"][:], f["test"][:]
    r = ok("import", db, "train", ann_hdf5, "--json")
    assert r.json()["rows"] == 600 and r.json()["dim"] == 16
    got, _ = export_npy(ok, db, "train", tmp_path)
    assert np.array_equal(got, train)
    ok("import", db, "test", ann_hdf5, "--dataset", "test")
    got, _ = export_npy(ok, db, "test", tmp_path)
    assert np.array_equal(got, test)


# ---------------------------------------------------------------------------------------------
# malformed files: exit 1, a clear message, nothing written


def npy_bytes(a):
    import io
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_npy_truncated_header(vexctl, db, tmp_path):
    (tmp_path / "t.npy").write_bytes(npy_bytes(vectors(3, 4))[:40])
    assert_refused(vexctl("import", db, "c", tmp_path / "t.npy"), db, "t.npy",
                   "truncated npy header")


def test_npy_wrong_magic(vexctl, db, tmp_path):
    (tmp_path / "m.npy").write_bytes(b"\x93NUMPZ" + npy_bytes(vectors(3, 4))[6:])
    assert_refused(vexctl("import", db, "c", tmp_path / "m.npy"), db, "not a .npy file")


def test_npy_int8_and_3d(vexctl, db, tmp_path):
    np.save(tmp_path / "i.npy", np.zeros((3, 4), dtype=np.int8))
    assert_refused(vexctl("import", db, "c", tmp_path / "i.npy"), db,
                   "i.npy: expected a 2-D float32 or float64 array, got int8 (3, 4)")
    np.save(tmp_path / "3d.npy", np.zeros((2, 3, 4), dtype=np.float32))
    assert_refused(vexctl("import", db, "c", tmp_path / "3d.npy"), db,
                   "expected a 2-D float32 or float64 array, got float32 (2, 3, 4)")


def test_npy_truncated_data(vexctl, db, tmp_path):
    (tmp_path / "d.npy").write_bytes(npy_bytes(vectors(3, 4))[:-5])
    assert_refused(vexctl("import", db, "c", tmp_path / "d.npy"), db, "truncated", "43")


def test_fvecs_bad_dimension_word_in_row_3(vexctl, db, tmp_path):
    write_fvecs(tmp_path / "a.fvecs", vectors(6, 8))
    raw = bytearray((tmp_path / "a.fvecs").read_bytes())
    raw[3 * 36:3 * 36 + 4] = struct.pack("<i", 9)
    (tmp_path / "a.fvecs").write_bytes(raw)
    assert_refused(vexctl("import", db, "c", tmp_path / "a.fvecs"), db,
                   "row 3 at byte 108: dimension word 9, expected 8")


def test_fvecs_truncated(vexctl, db, tmp_path):
    write_fvecs(tmp_path / "a.fvecs", vectors(6, 8))
    (tmp_path / "a.fvecs").write_bytes((tmp_path / "a.fvecs").read_bytes()[:-7])
    assert_refused(vexctl("import", db, "c", tmp_path / "a.fvecs"), db,
                   "truncated: row 5 at byte 180 has 29 of its 36 bytes")


def test_jsonl_broken_line_7(vexctl, db, tmp_path):
    rows = [json.dumps({"id": i, "vector": [i, 1.0]}) for i in range(10)]
    rows[6] = '{"id": 6, "vector": [6, 1.0}'
    (tmp_path / "b.jsonl").write_text("\n".join(rows) + "\n")
    assert_refused(vexctl("import", db, "c", tmp_path / "b.jsonl"), db, "b.jsonl: line 7")


def test_jsonl_nan_and_bad_payload(vexctl, db, tmp_path):
    (tmp_path / "n.jsonl").write_text('{"id": 1, "vector": [1, 2]}\n{"id": 2, "vector": [NaN, 2]}\n')
    assert_refused(vexctl("import", db, "c", tmp_path / "n.jsonl"), db, "line 2", "NaN",
                   "finite")
    (tmp_path / "p.jsonl").write_text('{"id": 1, "vector": [1, 2]}\n'
                                      '{"id": 2, "vector": [1, 2], "payload": {"a": 1, "a": 2}}\n')
    assert_refused(vexctl("import", db, "c", tmp_path / "p.jsonl"), db, "line 2", "payload")


def test_csv_short_row(vexctl, db, tmp_path):
    (tmp_path / "s.csv").write_text("id,a,b,c\n1,0.5,1,2\n2,1,2,3\n3,1,2\n")
    assert_refused(vexctl("import", db, "c", tmp_path / "s.csv"), db,
                   "line 4: 2 coordinates, expected 3 (as on line 2)")


def test_hdf5_without_train(vexctl, db, tmp_path):
    import h5py
    with h5py.File(tmp_path / "x.hdf5", "w") as f:
        f.create_dataset("test", data=vectors(3, 4))
        f.create_dataset("neighbors", data=np.zeros((3, 2), dtype=np.int32))
    assert_refused(vexctl("import", db, "c", tmp_path / "x.hdf5"), db,
                   "no dataset 'train' (the file holds: neighbors, test)")


def test_bad_file_leaves_an_existing_collection_unchanged(ok, vexctl, db, tmp_path):
    a = vectors(50, 4)
    np.save(tmp_path / "a.npy", a)
    ok("import", db, "c", tmp_path / "a.npy")
    (tmp_path / "bad.csv").write_text("100,1,2,3,4\n101,1,2,3,inf\n")
    r = vexctl("import", db, "c", tmp_path / "bad.csv")
    assert r.rc == 1 and "row 1 (line 2): coordinate 3 is infinite" in r.err, r
    r = vexctl("import", db, "c", tmp_path / "a.npy", "--metric", "ip", "--ids-from", "50")
    assert r.rc == 1 and "exists with --metric l2, not ip" in r.err, r
    np.save(tmp_path / "wide.npy", vectors(5, 6))
    r = vexctl("import", db, "c", tmp_path / "wide.npy", "--ids-from", "50")
    assert r.rc == 1 and "collection 'c' has dimension 4" in r.err and "has 6" in r.err, r
    got, ids = export_npy(ok, db, "c", tmp_path)
    assert np.array_equal(got, a) and (ids == np.arange(50)).all()


def test_usage_errors_exit_2(vexctl, db, tmp_path):
    np.save(tmp_path / "a.npy", vectors(3, 4))
    for args in (["import", db, "c"], ["import", db, "c", tmp_path / "a.npy", "--batch", "0"],
                 ["import", db, "c", tmp_path / "a.npy", "--bogus"],
                 ["import", db, "c", tmp_path / "a.txt"],
                 ["export", db, "c", tmp_path / "a.bvecs"]):
        r = vexctl(*args)
        assert r.rc == 2 and r.err.startswith("vexctl: "), r
    assert not db.exists()


# ---------------------------------------------------------------------------------------------
# a batch the library refuses; Ctrl-C


def write_csv(path, ids, a):
    with open(path, "w") as f:
        for i, v in zip(ids, a):
            f.write(",".join([str(i)] + [repr(float(x)) for x in v]) + "\n")


def test_id_conflict_in_batch_3_keeps_batches_1_and_2(ok, vexctl, db, tmp_path):
    first = vectors(1, 4, seed=7)
    write_csv(tmp_path / "first.csv", [900000], first)
    ok("import", db, "c", tmp_path / "first.csv")
    a = vectors(3500, 4, seed=8)
    ids = np.arange(3500) + 10
    ids[2345] = 900000  # already in the collection
    write_csv(tmp_path / "dup.csv", ids, a)
    r = vexctl("import", db, "c", tmp_path / "dup.csv", "--batch", "1000")
    assert r.rc == 1, r
    assert "dup.csv: vexfs_insert: row 2345 (line 2346): id 900000" in r.err, r
    assert "2000 rows committed before it (rows 0..1999 of" in r.err, r
    got, got_ids = export_npy(ok, db, "c", tmp_path)
    assert (got_ids == np.append(ids[:2000], 900000)).all()
    assert np.array_equal(got, np.vstack([a[:2000], first]))


def test_duplicate_ids_within_the_file_are_refused_before_writing(vexctl, db, tmp_path):
    write_csv(tmp_path / "dup.csv", [5, 6, 7, 6], vectors(4, 3))
    assert_refused(vexctl("import", db, "c", tmp_path / "dup.csv"), db,
                   "row 3 (line 4): id 6 is also row 1 (line 2)'s")


def test_ids_from_near_the_reserved_id(ok, vexctl, db, tmp_path):
    np.save(tmp_path / "a.npy", vectors(3, 2))
    top = 2 ** 64 - 1
    assert_refused(vexctl("import", db, "c", tmp_path / "a.npy", "--ids-from", str(top - 2)),
                   db, "--ids-from")
    ok("import", db, "c", tmp_path / "a.npy", "--ids-from", str(top - 3))
    _, ids = export_npy(ok, db, "c", tmp_path)
    assert ids.tolist() == [top - 3, top - 2, top - 1]


def test_sigint_keeps_exactly_the_committed_rows(ok, db, tmp_path):
    a = vectors(200000, 32, seed=9)
    np.save(tmp_path / "big.npy", a)
    proc = subprocess.Popen([BINARY, "import", str(db), "c", str(tmp_path / "big.npy"),
                             "--batch", "1000", "--sync", "off", "--index", "hnsw", "--m", "8",
                             "--ef-construction", "40"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wal = db / "wal.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 4 * 1000 * 32 * 4:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    m = re.search(r"vexctl: import: interrupted: (\d+) rows committed \(rows 0\.\.(\d+) of "
                  r".*big\.npy\), the rest not imported", err)
    assert m, err
    n = int(m.group(1))
    assert 0 < n < 200000 and n % 1000 == 0 and int(m.group(2)) == n - 1
    got, ids = export_npy(ok, db, "c", tmp_path)
    assert len(ids) == n and (ids == np.arange(n)).all()
    assert np.array_equal(got, a[:n])


def test_json_summary_and_plain_line(ok, db, tmp_path):
    np.save(tmp_path / "a.npy", vectors(1234, 3))
    r = ok("import", db, "c", tmp_path / "a.npy", "--batch", "100", "--json", "--index", "flat")
    s = r.json()
    assert (s["rows"], s["dim"], s["count"], s["created"], s["collection"], s["format"]) == \
        (1234, 3, 1234, True, "c", "npy")
    r = ok("import", db, "c", tmp_path / "a.npy", "--ids-from", "5000", "--index", "flat")
    assert re.fullmatch(r"imported 1234 rows into c in \d+\.\d s \(\d+ rows/s\)\n", r.out), r
    r = ok("export", db, "c", tmp_path / "o.jsonl", "--json")
    assert r.json()["rows"] == 2468 and r.json()["format"] == "jsonl"
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 2468
