"""vexctl attacked from outside: malformed and hostile inputs for every command, each run against
the binary under test (scripts/test.sh: the plain and the ASan+UBSan build), with a timeout. The promises held to: every bad input
gives "vexctl: COMMAND: ..." on stderr naming the file/row/line/option and exits 1 (failure) or 2
(usage); never a crash, abort, hang, sanitizer report, partial output file or partial database
write; --json output always parses; help exists for every command.

Every case here failed once and was fixed; they stay as regression tests."""
import json
import os
import signal
import stat
import struct
import subprocess
import time

import numpy as np
import pytest

from conftest import BINARY, Result

TIMEOUT = 20          # seconds for one run; a hang fails the test
HANG_TIMEOUT = 2.0    # for the cases that are expected to hang today (FIFOs)


class Vexctl:
    """vx(*args) -> Result, runs the binary of this parametrization; vx.raw(*args) takes bytes."""

    def __init__(self, binary, env):
        self.binary, self.env = binary, env

    def _env(self):
        e = dict(os.environ)
        e.update(self.env)
        return e

    def __call__(self, *args, timeout=TIMEOUT, input=None):
        proc = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True,
                              env=self._env(), timeout=timeout, input=input)
        r = Result(proc)
        assert_clean(r)
        return r

    def raw(self, *args, timeout=TIMEOUT):
        """Arguments as bytes (paths that are not UTF-8); stdout and stderr stay bytes."""
        return subprocess.run([self.binary.encode(), *args], capture_output=True,
                              env=self._env(), timeout=timeout)

    def popen(self, *args):
        return subprocess.Popen([self.binary, *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self._env())


def assert_clean(r):
    """No sanitizer report, no abort, no signal death, whatever the exit status."""
    assert r.rc is not None and r.rc >= 0, r
    assert r.rc in (0, 1, 2), r
    for word in ("Sanitizer", "runtime error:", "LeakSanitizer", "Segmentation", "Aborted"):
        assert word not in r.err, r


@pytest.fixture(scope="module")
def binary():
    """The binary under test (conftest's BINARY: scripts/test.sh runs the suite once on the plain
    build and once on the ASan+UBSan build, with the sanitizers' options in the environment)."""
    return Vexctl(BINARY, {})


@pytest.fixture
def vx(binary):
    return binary


def refused(r, cmd, *words, rc=1):
    """The clear-failure promise: exit rc, one 'vexctl: CMD: ' message naming the words."""
    assert r.rc == rc, r
    assert r.err.startswith(f"vexctl: {cmd}: "), r
    for w in words:
        assert str(w) in r.err, r
    assert r.out == "", r


def vectors(n, d, seed=1):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def count(vx, db, name):
    r = vx("info", db, name, "--json")
    assert r.rc == 0, r
    return r.json()["collections"][0]["count"]


@pytest.fixture
def small_db(vx, tmp_path):
    """A database with collection 'c': 30 rows of dim 4, ids 0..29."""
    src = tmp_path / "small.npy"
    np.save(src, vectors(30, 4))
    db = tmp_path / "sdb"
    r = vx("import", db, "c", src)
    assert r.rc == 0, r
    return db


def tree(path):
    """Every file under path with its bytes: to show a refused command changed nothing."""
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# .npy headers that lie

def npy_bytes(header, data=b"", version=1, pad=True):
    h = header.encode()
    prefix = 10 if version == 1 else 12
    if pad:
        total = prefix + len(h) + 1
        h += b" " * ((64 - total % 64) % 64) + b"\n"
    size = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + data


def hdr(shape, descr="<f4", fortran="False"):
    return f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"


NPY_CASES = {
    "shape-larger-than-data": (npy_bytes(hdr("(1000, 4)"), b"\0" * 64), ["truncated", "16000"]),
    "negative-dim": (npy_bytes(hdr("(-1, 4)"), b"\0" * 64), ["malformed npy header"]),
    "huge-dims": (npy_bytes(hdr("(18446744073709551615, 18446744073709551615)"), b"\0" * 64),
                  ["malformed npy header"]),
    "huge-but-parsable": (npy_bytes(hdr("(4611686018427387904, 4)"), b"\0" * 64), ["truncated"]),
    "dims-times-overflow": (npy_bytes(hdr("(4611686018427387904, 65536)"), b"\0" * 64),
                           ["truncated"]),
    "zero-cols": (npy_bytes(hdr("(4, 0)")), ["0 coordinates"]),
    "dim-65537": (npy_bytes(hdr("(1, 65537)"), b"\0" * 4 * 65537), ["65537 coordinates"]),
    "float16": (npy_bytes(hdr("(4, 4)", "<f2"), b"\0" * 32), ["float16"]),
    "big-endian": (npy_bytes(hdr("(4, 4)", ">f4"), b"\0" * 64), ["big-endian"]),
    "bool": (npy_bytes(hdr("(4, 4)", "|b1"), b"\0" * 16), ["bool"]),
    "int8": (npy_bytes(hdr("(3, 4)", "|i1"), b"\0" * 12), ["int8 (3, 4)"]),
    "rank-1": (npy_bytes(hdr("(4,)"), b"\0" * 16), ["(4,)"]),
    "rank-3": (npy_bytes(hdr("(1, 2, 2)"), b"\0" * 16), ["(1, 2, 2)"]),
    "missing-fortran": (npy_bytes("{'descr': '<f4', 'shape': (4, 4), }", b"\0" * 64),
                        ["malformed npy header"]),
    "missing-shape": (npy_bytes("{'descr': '<f4', 'fortran_order': False, }", b"\0" * 64),
                      ["malformed npy header"]),
    "not-a-dict": (npy_bytes("[1, 2, 3]", b"\0" * 64), ["malformed npy header"]),
    "unknown-key": (npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), "
                              "'x': 1}", b"\0" * 16), ["malformed npy header"]),
    "unaligned-data": (npy_bytes(hdr("(1, 4)"), b"\0" * 16, pad=False), ["not a multiple of 4"]),
    "extra-bytes": (npy_bytes(hdr("(1, 4)"), b"\0" * 20), ["4 bytes after"]),
    "nan-value": (npy_bytes(hdr("(1, 4)"), np.array([0, np.nan, 0, 0], np.float32).tobytes()),
                  ["row 0", "coordinate 1 is NaN"]),
    "inf-value": (npy_bytes(hdr("(2, 4)"), np.array([0] * 7 + [np.inf], np.float32).tobytes()),
                  ["row 1", "coordinate 3"]),
    "f64-beyond-f32": (npy_bytes(hdr("(1, 2)", "<f8"), np.array([1e300, 0]).tobytes()),
                       ["row 0", "coordinate 0", "float32"]),
    "norm-overflow": (npy_bytes(hdr("(1, 2)"), np.array([3e38, 3e38], np.float32).tobytes()),
                      ["row 0", "squared norm"]),
    "wrong-magic": (b"\x93NUMPX\x01\x00" + b"\0" * 100, ["magic"]),
    "version-9": (b"\x93NUMPY\x09\x00" + b"\0" * 100, ["version 9.0"]),
    "only-magic": (b"\x93NUMPY", ["truncated npy header"]),
    "empty-file": (b"", ["not a .npy file"]),
}


def _npy_len_past_file(version):
    b = bytearray(npy_bytes(hdr("(1, 4)"), b"\0" * 16, version=version))
    if version == 1:
        b[8:10] = struct.pack("<H", 60000)
    else:
        b[8:12] = b"\xff\xff\xff\xff"
    return bytes(b)


NPY_CASES["header-len-past-file"] = (_npy_len_past_file(1), ["truncated npy header", "60000"])
NPY_CASES["v2-header-len-4G"] = (_npy_len_past_file(2), ["truncated npy header", "4294967295"])


@pytest.mark.parametrize("case", sorted(NPY_CASES))
def test_lying_npy_is_refused_with_nothing_written(vx, tmp_path, case):
    data, words = NPY_CASES[case]
    f = tmp_path / "x.npy"
    f.write_bytes(data)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "x.npy", *words)
    assert not db.exists()


def test_npy_lie_into_existing_collection_leaves_it_unchanged(vx, tmp_path, small_db):
    f = tmp_path / "x.npy"
    f.write_bytes(npy_bytes(hdr("(1000, 4)"), b"\0" * 64))
    before = tree(small_db)
    refused(vx("import", small_db, "c", f, "--ids-from", "1000"), "import", "truncated")
    assert tree(small_db) == before
    assert count(vx, small_db, "c") == 30


def test_npy_shape_0_by_4_makes_an_empty_collection(vx, tmp_path):
    """(0, 4) is a valid, empty array: the import succeeds with 0 rows and a dim-4 collection
    (unlike an empty .jsonl, which has no dimension and is refused)."""
    f = tmp_path / "e.npy"
    f.write_bytes(npy_bytes(hdr("(0, 4)")))
    db = tmp_path / "db"
    r = vx("import", db, "c", f, "--json")
    assert r.rc == 0, r
    assert r.json()["rows"] == 0
    info = vx("info", db, "c", "--json").json()["collections"][0]
    assert info["count"] == 0 and info["config"]["dim"] == 4


# ---------------------------------------------------------------------------------------------
# TEXMEX

@pytest.mark.parametrize("word,ext", [(0, "fvecs"), (-1, "fvecs"), (-2**31, "fvecs"),
                                      (2**31 - 1, "fvecs"), (65537, "bvecs"), (0, "bvecs")])
def test_texmex_bad_dimension_word(vx, tmp_path, word, ext):
    f = tmp_path / f"x.{ext}"
    f.write_bytes(struct.pack("<i", word) + b"\0" * 16)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", f"x.{ext}", "row 0", f"dimension word {word}")
    assert not db.exists()


def test_texmex_later_row_with_other_word_and_truncation(vx, tmp_path):
    good = struct.pack("<i", 2) + struct.pack("<2f", 1, 2)
    f = tmp_path / "x.fvecs"
    f.write_bytes(good * 3 + struct.pack("<i", 3) + struct.pack("<2f", 1, 2))
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "row 3", "dimension word 3")
    f.write_bytes(good * 3 + good[:7])
    refused(vx("import", db, "c", f), "import", "truncated", "row 3")
    f.write_bytes(good + struct.pack("<i", 2) + struct.pack("<f", np.float32(np.inf)) + b"\0" * 4)
    refused(vx("import", db, "c", f), "import", "row 1", "coordinate 0")
    assert not db.exists()


@pytest.mark.parametrize("ext", ["fvecs", "bvecs", "npy", "jsonl", "csv", "hdf5"])
def test_zero_byte_file_of_every_format(vx, tmp_path, ext):
    f = tmp_path / f"z.{ext}"
    f.write_bytes(b"")
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", f"z.{ext}")
    assert not db.exists()


# ---------------------------------------------------------------------------------------------
# files that are not files

@pytest.mark.parametrize("ext", ["npy", "jsonl", "csv", "fvecs", "hdf5"])
def test_directory_as_file(vx, tmp_path, ext):
    d = tmp_path / f"dir.{ext}"
    d.mkdir()
    db = tmp_path / "db"
    r = vx("import", db, "c", d)
    refused(r, "import", f"dir.{ext}")
    assert not db.exists()


@pytest.mark.parametrize("fmt", ["npy", "jsonl", "csv", "bvecs"])
def test_dev_null_as_file(vx, tmp_path, fmt):
    db = tmp_path / "db"
    refused(vx("import", db, "c", "/dev/null", "--format", fmt), "import", "/dev/null")
    assert not db.exists()


def test_dev_null_without_format_is_a_usage_error(vx, tmp_path):
    refused(vx("import", tmp_path / "db", "c", "/dev/null"), "import", "--format", rc=2)


def fifo_case(vx, tmp_path, name, *args):
    """Runs vexctl with a FIFO (nobody writing) named name: it must refuse, not wait."""
    f = tmp_path / name
    os.mkfifo(f)
    try:
        r = vx(*[f if a == "FIFO" else a for a in args], timeout=HANG_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"vexctl {' '.join(map(str, args))} hangs on a FIFO")
    return r


@pytest.mark.parametrize("ext", ["npy", "jsonl", "hdf5"])
def test_fifo_import_does_not_hang(vx, tmp_path, ext):
    db = tmp_path / "db"
    r = fifo_case(vx, tmp_path, f"pipe.{ext}", "import", db, "c", "FIFO")
    refused(r, "import", f"pipe.{ext}")
    assert not db.exists()


def test_fifo_search_query_does_not_hang(vx, tmp_path, small_db):
    r = fifo_case(vx, tmp_path, "q.npy", "search", small_db, "c", "--query", "FIFO")
    refused(r, "search", "q.npy")


def test_fifo_bench_ann_does_not_hang(vx, tmp_path):
    r = fifo_case(vx, tmp_path, "a.hdf5", "bench", "ann", "FIFO")
    refused(r, "bench", "a.hdf5")


def test_missing_file(vx, tmp_path):
    db = tmp_path / "db"
    refused(vx("import", db, "c", tmp_path / "nope.npy"), "import", "nope.npy",
            "No such file or directory")
    refused(vx("import", db, "c", tmp_path / "noext"), "import", "--format", rc=2)
    assert not db.exists()


# ---------------------------------------------------------------------------------------------
# .jsonl

JSONL_CASES = {
    "duplicate-id-key": ('{"id": 1, "id": 2, "vector": [1, 2]}\n', ["line 1", "twice"]),
    "duplicate-vector-key": ('{"vector": [1, 2], "vector": [1, 2]}\n', ["line 1", "twice"]),
    "duplicate-payload-key": ('{"id": 1, "vector": [1, 2], "payload": {"a": 1, "a": 2}}\n',
                              ["line 1", "repeats a key"]),
    "deep-object-payload": ('{"id": 1, "vector": [1, 2], "payload": ' + '{"a": ' * 10000 + "1"
                            + "}" * 10000 + "}\n", ["line 1", "nested deeper"]),
    "deep-array-payload": ('{"id": 1, "vector": [1, 2], "payload": {"a": ' + "[" * 10000
                           + "]" * 10000 + "}}\n", ["line 1", "nested deeper"]),
    "id-past-u64": ('{"id": 18446744073709551616, "vector": [1, 2]}\n', ["line 1", '"id"']),
    "id-u64-max-reserved": ('{"id": 18446744073709551615, "vector": [1, 2]}\n',
                            ["line 1", "18446744073709551615"]),
    "id-negative": ('{"id": -1, "vector": [1, 2]}\n', ["line 1", "non-negative integer"]),
    "id-fraction": ('{"id": 1.5, "vector": [1, 2]}\n', ["line 1", "1.5"]),
    "id-exponent": ('{"id": 1e3, "vector": [1, 2]}\n', ["line 1", "1e3"]),
    "id-string": ('{"id": "1", "vector": [1, 2]}\n', ["line 1", '"id"']),
    "id-null": ('{"id": null, "vector": [1, 2]}\n', ["line 1", '"id"']),
    "float-overflow": ('{"id": 1, "vector": [1e39, 2]}\n', ["line 1", "1e39", "float32"]),
    "neg-float-overflow": ('{"id": 1, "vector": [2, -1e39]}\n', ["line 1", "-1e39"]),
    "nan-word": ('{"id": 1, "vector": [NaN, 2]}\n', ["line 1", "NaN"]),
    "infinity-word": ('{"id": 1, "vector": [Infinity, 2]}\n', ["line 1", "Infinity"]),
    "minus-infinity-word": ('{"id": 1, "vector": [1, -Infinity]}\n', ["line 1", "-Infinity"]),
    "hex-number": ('{"id": 1, "vector": [0x10, 2]}\n', ["line 1", "coordinate 0"]),
    "plus-sign": ('{"id": 1, "vector": [+1, 2]}\n', ["line 1", "coordinate 0"]),
    "string-coordinate": ('{"id": 1, "vector": [1, "2"]}\n', ["line 1", "coordinate 1"]),
    "nested-vector": ('{"id": 1, "vector": [[1, 2]]}\n', ["line 1", "coordinate 0"]),
    "vector-not-array": ('{"id": 1, "vector": "1,2"}\n', ["line 1", '"vector"']),
    "empty-vector": ('{"id": 1, "vector": []}\n', ["line 1", "no coordinates"]),
    "no-vector": ('{"id": 1}\n', ["line 1", '"vector"']),
    "payload-array": ('{"id": 1, "vector": [1, 2], "payload": [1, 2]}\n', ["line 1", "object"]),
    "payload-string": ('{"id": 1, "vector": [1, 2], "payload": "x"}\n', ["line 1", "object"]),
    "payload-number": ('{"id": 1, "vector": [1, 2], "payload": 5}\n', ["line 1", "object"]),
    "payload-unterminated": ('{"id": 1, "vector": [1, 2], "payload": {"a": "b}\n', ["line 1"]),
    "payload-bad-bracket": ('{"id": 1, "vector": [1, 2], "payload": {]}\n', ["line 1"]),
    "unknown-key": ('{"id": 1, "vector": [1, 2], "meta": 1}\n', ["line 1", "meta"]),
    "long-unknown-key": ('{"' + "k" * 5000 + '": 1, "vector": [1]}\n', ["line 1"]),
    "text-after": ('{"id": 1, "vector": [1, 2]} x\n', ["line 1", "text after"]),
    "not-an-object": ('[1, 2]\n', ["line 1"]),
    "dim-changes": ('{"vector": [1, 2]}\n{"vector": [1, 2, 3]}\n', ["line 2", "expected 2"]),
    "duplicate-ids": ('{"id": 4, "vector": [1, 2]}\n\n{"id": 4, "vector": [3, 4]}\n',
                      ["line 3", "id 4", "line 1"]),
    "empty-file": ("", ["no vectors"]),
    "only-blank-lines": ("\n \n\t\n\r\n", ["no vectors"]),
    "broken-line-7": ("".join('{"id": %d, "vector": [1, 2]}\n' % i for i in range(6))
                      + '{"id": 6, "vector": [1, 2\n', ["line 7"]),
    "payload-is-number-late": ("".join('{"id": %d, "vector": [1, 2]}\n' % i for i in range(9))
                               + '{"id": 9, "vector": [1, 2], "payload": {"a": tru}}\n',
                               ["line 10"]),
}


@pytest.mark.parametrize("case", sorted(JSONL_CASES))
def test_bad_jsonl_is_refused_with_nothing_written(vx, tmp_path, case):
    text, words = JSONL_CASES[case]
    f = tmp_path / "x.jsonl"
    f.write_text(text, encoding="utf-8")
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "x.jsonl", *words)
    assert not db.exists()


@pytest.mark.parametrize("raw,words", [
    (b'{"id": 1, "vector": [1, 2], "payload": {"a": "\xff"}}\n', ["line 1", "UTF-8"]),
    (b'{"id": 1, "vector": [1, 2], "payload": {"a": "\x01"}}\n', ["line 1", "control"]),
    (b'{"id": 1, "vector": [1, 2]}\x00\n', ["line 1", "NUL"]),
])
def test_jsonl_bytes_that_are_not_text(vx, tmp_path, raw, words):
    f = tmp_path / "x.jsonl"
    f.write_bytes(raw)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", *words)
    assert not db.exists()


def test_jsonl_payload_of_70_mb_is_refused(vx, tmp_path):
    f = tmp_path / "big.jsonl"
    with open(f, "w") as out:
        out.write('{"id": 1, "vector": [1, 2]}\n{"id": 2, "vector": [1, 2], "payload": {"t": "')
        out.write("x" * (70 << 20))
        out.write('"}}\n')
    db = tmp_path / "db"
    refused(vx("import", db, "c", f, timeout=60), "import", "line 2", "payload")
    assert not db.exists()


def test_jsonl_edge_values_and_line_forms_are_read_exactly(vx, tmp_path):
    """CRLF lines, blank lines, no newline at EOF, -0, subnormals, and underflow to 0."""
    f = tmp_path / "ok.jsonl"
    f.write_bytes(b'\r\n{"id": 1, "vector": [-0, -0.0, 1e-45]}\r\n\n   \n'
                  b'{"id": 2, "vector": [1e-40, 1e-50, 9.2e18], "payload": null}\r\n'
                  b'{"vector": [1, 2, 3], "payload": {"k": "v"}}')
    db = tmp_path / "db"
    r = vx("import", db, "c", f, "--ids-from", "7", "--json")
    assert r.rc == 0, r
    assert r.json()["rows"] == 3
    out = tmp_path / "out.npy"
    ids = tmp_path / "ids.npy"
    assert vx("export", db, "c", out, "--ids", ids).rc == 0
    got = np.load(out)
    assert list(np.load(ids)) == [1, 2, 9]
    bits = got.view(np.uint32)
    assert bits[0, 0] == 0x80000000 and bits[0, 1] == 0x80000000   # -0 kept
    assert got[0, 2] == np.float32(1e-45) and got[0, 2] > 0      # smallest subnormal
    assert got[1, 0] == np.float32(1e-40) and got[1, 1] == 0
    assert got[1, 2] == np.float32(9.2e18)


def test_bad_jsonl_into_existing_collection_leaves_it_unchanged(vx, tmp_path, small_db):
    f = tmp_path / "x.jsonl"
    f.write_text("".join('{"id": %d, "vector": [1, 2, 3, 4]}\n' % (100 + i) for i in range(50))
                 + '{"id": 150, "vector": [1, 2, 3, NaN]}\n')
    before = tree(small_db)
    refused(vx("import", small_db, "c", f), "import", "line 51", "NaN")
    assert tree(small_db) == before
    assert count(vx, small_db, "c") == 30


# ---------------------------------------------------------------------------------------------
# .csv

CSV_CASES = {
    "empty-field": ("1,,0.5\n", ["line 1", "coordinate 0"]),
    "trailing-comma": ("1,1,2,\n", ["line 1", "coordinate 2"]),
    "header-only": ("id,x,y\n", ["no vectors"]),
    "two-headers": ("id,x\nid,x\n1,2\n", ["line 2", "'id'"]),
    "quoted-coordinate": ('1,"0.5",0.5\n', ["line 1", "coordinate 0"]),
    "quoted-ids": ('"1",0.5,0.5\n"2",1,1\n', ["line 2", '"2"']),
    "id-only": ("1\n2\n", ["line 1", "no coordinates"]),
    "semicolons": ("1;2;3\n", []),
    "negative-id": ("-1,1,2\n", ["line 1", "'-1'"]),
    "id-past-u64": ("18446744073709551616,1,2\n", ["line 1", "18446744073709551616"]),
    "id-u64-max-reserved": ("18446744073709551615,1,2\n", ["line 1", "reserved"]),
    "id-fraction": ("1.5,1,2\n", ["line 1", "'1.5'"]),
    "nan-id-first-line": ("nan,1,2\n1,2,3\n", ["line 1", "'nan'"]),
    "float-overflow": ("1,1e39,2\n", ["line 1", "coordinate 0"]),
    "nan-value": ("1,2,nan\n", ["line 1", "coordinate 1", "NaN"]),
    "inf-value": ("1,2,-inf\n", ["line 1", "coordinate 1"]),
    "dim-changes": ("1,1,2\n2,1,2,3\n", ["line 2", "expected 2"]),
    "duplicate-ids": ("5,1,2\n5,1,2\n", ["line 2", "id 5"]),
    "nul-byte": ("1,1,2\n2,1\x00,2\n", ["line 2", "NUL"]),
    "spaces-inside-number": ("1,1 2,3\n", ["line 1", "coordinate 0"]),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_csv_is_refused_with_nothing_written(vx, tmp_path, case):
    text, words = CSV_CASES[case]
    f = tmp_path / "x.csv"
    f.write_text(text)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "x.csv", *words)
    assert not db.exists()


def test_csv_spaces_crlf_header_and_no_final_newline(vx, tmp_path):
    f = tmp_path / "ok.csv"
    f.write_bytes(b"id, x ,y\r\n 1 , 0.5 , -0.5 \r\n\r\n2,\t1,1e-45")
    db = tmp_path / "db"
    assert vx("import", db, "c", f).rc == 0
    out = tmp_path / "out.jsonl"
    assert vx("export", db, "c", out).rc == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2]
    assert rows[0]["vector"] == [0.5, -0.5]
    assert np.float32(rows[1]["vector"][1]) == np.float32(1e-45)


@pytest.mark.parametrize("name,text", [("bom.jsonl", '{"id": 1, "vector": [1, 2]}\n'),
                                       ("bom-header.csv", "id,x,y\n1,2,3\n")])
def test_a_utf8_bom_is_ignored(vx, tmp_path, name, text):
    f = tmp_path / name
    f.write_bytes(b"\xef\xbb\xbf" + text.encode())
    db = tmp_path / "db"
    assert vx("import", db, "c", f).rc == 0
    assert count(vx, db, "c") == 1


def test_csv_bom_before_data_does_not_drop_the_first_row(vx, tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbf1,2,3\n2,3,4\n")
    db = tmp_path / "db"
    r = vx("import", db, "c", f)
    if r.rc == 0:
        assert count(vx, db, "c") == 2, "row 1 (id 1) was dropped as if it were a header"
    else:
        refused(r, "import", "line 1")


# ---------------------------------------------------------------------------------------------
# HDF5

def h5(path, **datasets):
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = "euclidean"
        for k, v in datasets.items():
            if v is None:
                f.create_group(k)
            else:
                f.create_dataset(k, data=v)
    return path


HDF5_CASES = {
    "int-train": (dict(train=np.ones((5, 4), np.int32)), ["int32 (5, 4)"]),
    "1-d": (dict(train=np.ones(5, np.float32)), ["(5,)"]),
    "3-d": (dict(train=np.ones((2, 2, 2), np.float32)), ["(2, 2, 2)"]),
    "scalar": (dict(train=np.float32(1)), ["float32 ()"]),
    "zero-cols": (dict(train=np.ones((4, 0), np.float32)), ["0 coordinates"]),
    "float16": (dict(train=np.ones((5, 4), np.float16)), ["float16"]),
    "strings": (dict(train=np.array([b"ab", b"cd"])), ["string"]),
    "group": (dict(train=None), ["not a dataset"]),
    "no-train": (dict(test=np.ones((5, 4), np.float32)), ["no dataset 'train'", "test"]),
    "nan": (dict(train=np.full((5, 4), np.nan, np.float32)), ["row 0", "NaN"]),
    "f64-beyond-f32": (dict(train=np.full((2, 2), 1e300)), ["row 0", "float32"]),
}


@pytest.mark.parametrize("case", sorted(HDF5_CASES))
def test_bad_hdf5_is_refused_with_nothing_written(vx, tmp_path, case):
    datasets, words = HDF5_CASES[case]
    f = h5(tmp_path / "x.hdf5", **datasets)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "x.hdf5", *words)
    assert not db.exists()


def test_not_hdf5_and_missing_dataset(vx, tmp_path):
    f = tmp_path / "fake.h5"
    f.write_bytes(b"not hdf5 " * 100)
    db = tmp_path / "db"
    refused(vx("import", db, "c", f), "import", "fake.h5", "not an HDF5 file")
    g = h5(tmp_path / "g.hdf5", train=np.ones((3, 2), np.float32))
    refused(vx("import", db, "c", g, "--dataset", "nope"), "import", "no dataset 'nope'", "train")
    refused(vx("import", db, "c", tmp_path / "x.npy", "--dataset", "t"), "import", "--dataset",
            rc=2)
    assert not db.exists()


def test_hdf5_empty_train_makes_an_empty_collection(vx, tmp_path):
    f = h5(tmp_path / "e.hdf5", train=np.ones((0, 4), np.float32))
    db = tmp_path / "db"
    assert vx("import", db, "c", f).rc == 0
    assert count(vx, db, "c") == 0


# ---------------------------------------------------------------------------------------------
# import into an existing collection, and import's own options

def test_import_into_existing_collection_with_other_settings(vx, tmp_path, small_db):
    before = tree(small_db)
    f8 = tmp_path / "d8.npy"
    np.save(f8, vectors(5, 8))
    refused(vx("import", small_db, "c", f8, "--ids-from", "100"), "import", "dimension 4", "8",
            "nothing imported")
    f4 = tmp_path / "d4.npy"
    np.save(f4, vectors(5, 4))
    for opt, val, words in [("--metric", "ip", ["--metric l2", "ip"]),
                            ("--metric", "cosine", ["cosine"]),
                            ("--index", "hnsw", ["--index auto", "hnsw"]),
                            ("--ef-search", "12", ["--ef-search 64", "12"])]:
        refused(vx("import", small_db, "c", f4, "--ids-from", "100", opt, val), "import", *words)
    refused(vx("import", small_db, "c", f4), "import", "id 0 is already", "0 rows committed")
    assert tree(small_db) == before
    assert count(vx, small_db, "c") == 30


@pytest.mark.parametrize("args,words", [
    (["--batch", "0"], ["--batch"]), (["--batch", "-1"], ["--batch"]),
    (["--batch", "99999999999999"], ["--batch"]), (["--batch"], ["--batch"]),
    (["--ids-from", "-1"], ["--ids-from"]),
    (["--ids-from", "18446744073709551615"], ["--ids-from"]),
    (["--ids-from", "99999999999999999999999"], ["--ids-from"]),
    (["--format", "xyz"], ["--format"]), (["--metric", "foo"], ["--metric"]),
    (["--index", "btree"], ["--index"]), (["--sync", "sometimes"], ["--sync"]),
    (["--bogus"], ["--bogus"]), (["extra"], []),
])
def test_import_bad_options_are_usage_errors(vx, tmp_path, args, words):
    f = tmp_path / "a.npy"
    np.save(f, vectors(5, 4))
    db = tmp_path / "db"
    refused(vx("import", db, "c", f, *args), "import", *words, rc=2)
    assert not db.exists()


def test_import_ids_from_near_the_top(vx, tmp_path):
    f = tmp_path / "a.npy"
    np.save(f, vectors(20, 4))
    db = tmp_path / "db"
    refused(vx("import", db, "c", f, "--ids-from", "18446744073709551600"), "import",
            "--ids-from 18446744073709551600")
    assert not db.exists()
    r = vx("import", db, "c", f, "--ids-from", "18446744073709551595", "--json")
    assert r.rc == 0, r
    ids = tmp_path / "ids.npy"
    assert vx("export", db, "c", tmp_path / "o.npy", "--ids", ids).rc == 0
    assert int(np.load(ids)[-1]) == 2**64 - 2


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "", "x" * 129, "sp ace", "ü"])
def test_bad_collection_names(vx, tmp_path, name):
    f = tmp_path / "a.npy"
    np.save(f, vectors(5, 4))
    db = tmp_path / "db"
    r = vx("create", db, name, "--dim", "4")
    refused(r, "create", "collection name", rc=2)
    r = vx("import", db, name, f)
    assert r.rc in (1, 2), r
    assert r.err.startswith("vexctl: import: ") and "name" in r.err, r
    assert not db.exists()


def test_import_bad_collection_name_is_a_usage_error_like_create(vx, tmp_path):
    f = tmp_path / "a.npy"
    np.save(f, vectors(5, 4))
    refused(vx("import", tmp_path / "db", "a/b", f), "import", "a/b", rc=2)


# ---------------------------------------------------------------------------------------------
# create

@pytest.mark.parametrize("dim", ["0", "65537", "abc", "-4", "4x", "4294967300", "", " 4"])
def test_create_bad_dim(vx, tmp_path, dim):
    db = tmp_path / "db"
    refused(vx("create", db, "c", "--dim", dim), "create", "--dim", rc=2)
    assert not db.exists()


@pytest.mark.parametrize("args,words", [
    ([], ["--dim"]), (["--dim"], ["--dim"]), (["--dim", "4", "--metric", "hamming"], ["--metric"]),
    (["--dim", "4", "--m", "1"], ["--m"]), (["--dim", "4", "--m", "2049"], ["--m"]),
    (["--dim", "4", "--ef-search", "0"], ["--ef-search"]),
    (["--dim", "4", "--ef-construction", "-1"], ["--ef-construction"]),
    (["--dim", "4", "--sync", "x"], ["--sync"]), (["--dim", "4", "--nope"], ["--nope"]),
    (["--dim", "4", "extra"], []),
])
def test_create_bad_options(vx, tmp_path, args, words):
    db = tmp_path / "db"
    refused(vx("create", db, "c", *args), "create", *words, rc=2)
    assert not db.exists()


def test_create_on_a_file_and_twice(vx, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    refused(vx("create", f, "c", "--dim", "4"), "create", "not a directory")
    db = tmp_path / "db"
    assert vx("create", db, "c", "--dim", "4").rc == 0
    before = tree(db)
    refused(vx("create", db, "c", "--dim", "4"), "create", "already exists")
    assert tree(db) == before


def test_option_given_twice_takes_the_last(vx, tmp_path):
    """getopt's convention: a repeated option's last value wins (not an error)."""
    db = tmp_path / "db"
    assert vx("create", db, "c", "--dim", "4", "--dim", "8").rc == 0
    assert vx("info", db, "c", "--json").json()["collections"][0]["config"]["dim"] == 8


# ---------------------------------------------------------------------------------------------
# search

@pytest.mark.parametrize("vector,words,rc", [
    ("[1,2", ["--vector", "not valid JSON"], 2), ("[]", ["--vector"], 2),
    ("[1e39,1,1,1]", ["--vector", "1e39"], 2), ("nan", ["--vector"], 2),
    ("[NaN,1,1,1]", ["--vector"], 2), ("[1,2,3,\"4\"]", ["--vector", "element 3"], 2),
    ("[[1,2,3,4]]", ["--vector"], 2), ("{}", ["--vector"], 2), ("", ["--vector"], 2),
    ("[" * 10000, ["--vector", "nested"], 2), ("[1,2,3]", ["3 dimensions", "4"], 1),
    ("[1,2,3,4,5]", ["5 dimensions"], 1), ("[3e38,3e38,0,0]", ["too large"], 1),
])
def test_search_bad_vectors(vx, small_db, vector, words, rc):
    refused(vx("search", small_db, "c", "--vector", vector), "search", *words, rc=rc)
    refused(vx("search", small_db, "c", "--vector", vector, "--json"), "search", *words, rc=rc)


@pytest.mark.parametrize("args,words", [
    (["-k", "0"], ["-k"]), (["-k", "-1"], ["-k"]), (["-k", "99999999999"], ["-k"]),
    (["-k", "4294967297"], ["-k"]), (["-k", "abc"], ["-k"]), (["--ef", "0"], ["--ef"]),
    (["--ef", "99999999999"], ["--ef"]), (["--row", "3"], ["--row"]), (["--bogus"], ["--bogus"]),
    (["--query", "x.npy"], ["--vector or --query"]), (["extra"], ["unexpected"]),
])
def test_search_bad_options(vx, small_db, args, words):
    refused(vx("search", small_db, "c", "--vector", "[1,2,3,4]", *args), "search", *words, rc=2)


def test_search_k_huge_returns_every_row_as_json(vx, small_db):
    r = vx("search", small_db, "c", "--vector", "[1,2,3,4]", "-k", "16777216", "--json")
    assert r.rc == 0, r
    res = r.json()["results"]
    assert len(res) == 30 and sorted(x["id"] for x in res) == list(range(30))
    d = [x["distance"] for x in res]
    assert d == sorted(d)


def test_search_query_file_cases(vx, tmp_path, small_db):
    q = tmp_path / "q.npy"
    np.save(q, vectors(3, 4))
    refused(vx("search", small_db, "c", "--query", q, "--row", "3"), "search", "q.npy",
            "--row 3", "3 rows")
    refused(vx("search", small_db, "c", "--query", q, "--row", "-1"), "search", "--row", rc=2)
    refused(vx("search", small_db, "c", "--query", q, "--row", "18446744073709551616"), "search",
            "--row", rc=2)
    q8 = tmp_path / "q8.npy"
    np.save(q8, vectors(3, 8))
    refused(vx("search", small_db, "c", "--query", q8), "search", "8 dimensions")
    refused(vx("search", small_db, "c", "--query", tmp_path / "none.npy"), "search", "none.npy")
    (tmp_path / "d.npy").mkdir()
    refused(vx("search", small_db, "c", "--query", tmp_path / "d.npy"), "search", "d.npy")
    h = h5(tmp_path / "t.hdf5", train=np.ones((5, 4), np.float32))
    refused(vx("search", small_db, "c", "--query", h), "search", "no dataset 'test'")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"vector": [1, 2, 3, 4]}\n{"vector": [1, 2, NaN, 4]}\n')
    refused(vx("search", small_db, "c", "--query", bad), "search", "bad.jsonl", "line 2")
    assert vx("search", small_db, "c", "--query", q, "--row", "2", "--json").rc == 0


def test_search_missing_things(vx, tmp_path, small_db):
    refused(vx("search", tmp_path / "nodb", "c", "--vector", "[1]"), "search", "nodb",
            "no vexfs database")
    refused(vx("search", small_db, "zz", "--vector", "[1,2,3,4]"), "search", "'zz'")
    refused(vx("search", small_db, "c"), "search", "--vector", rc=2)
    refused(vx("search", small_db, "c", "--vector"), "search", "--vector", rc=2)


@pytest.mark.parametrize("flt,words", [
    ("{", ["filter", "not valid JSON"]), ("[" * 10000, ["filter", "nested"]),
    ('{"must": 5}', ["filter.must"]), ('{"bogus": []}', ["filter.bogus"]),
    ('{"must": [{"key": "n", "range": {"gt": 1e400}}]}', ["filter"]),
])
def test_search_bad_filters(vx, small_db, flt, words):
    refused(vx("search", small_db, "c", "--vector", "[1,2,3,4]", "--filter", flt), "search",
            *words)


def test_search_empty_collection(vx, tmp_path):
    db = tmp_path / "db"
    assert vx("create", db, "e", "--dim", "4").rc == 0
    r = vx("search", db, "e", "--vector", "[1,2,3,4]", "--json", "--with-payload")
    assert r.rc == 0 and r.json() == {"results": []}, r


# ---------------------------------------------------------------------------------------------
# export

def test_export_to_missing_or_bad_places_leaves_nothing(vx, tmp_path, small_db):
    refused(vx("export", small_db, "c", tmp_path / "nodir" / "x.npy"), "export", "nodir/x.npy")
    assert not (tmp_path / "nodir").exists()
    refused(vx("export", small_db, "c", small_db, "--format", "npy"), "export", "directory")
    refused(vx("export", small_db, "c", small_db), "export", "--format", rc=2)
    refused(vx("export", small_db, "c", tmp_path / "x.hdf5"), "export", "x.hdf5", rc=2)
    refused(vx("export", small_db, "c", tmp_path / "x.npy", "--format", "bogus"), "export",
            "--format", rc=2)
    refused(vx("export", small_db, "c", tmp_path / "x.npy", "--ids", tmp_path / "x.npy"),
            "export", "--ids", rc=2)
    refused(vx("export", small_db, "c", tmp_path / "y.npy", "--ids", tmp_path / "no" / "i.npy"),
            "export", "no/i.npy")
    assert not (tmp_path / "y.npy").exists() and not (tmp_path / "y.npy.tmp").exists()
    refused(vx("export", small_db, "zz", tmp_path / "z.npy"), "export", "'zz'")
    assert not (tmp_path / "z.npy").exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_export_failure_keeps_the_old_file(vx, tmp_path, small_db):
    out = tmp_path / "e.npy"
    out.write_bytes(b"ORIGINAL")
    (tmp_path / "e.npy.tmp").mkdir()   # in the way of a fixed temporary name: not of ours
    refused(vx("export", small_db, "c", out, "--ids", tmp_path / "no" / "i.npy"), "export", "i.npy")
    assert out.read_bytes() == b"ORIGINAL"
    assert sorted(p.name for p in tmp_path.glob("e.npy*")) == ["e.npy", "e.npy.tmp"]
    assert vx("export", small_db, "c", out).rc == 0 and out.read_bytes() != b"ORIGINAL"


def test_export_under_a_file_instead_of_a_directory(vx, tmp_path, small_db):
    blocker = tmp_path / "plain-file"
    blocker.write_bytes(b"x")
    refused(vx("export", small_db, "c", blocker / "x.npy"), "export", "x.npy")
    assert blocker.read_bytes() == b"x"


@pytest.mark.parametrize("victim,fmt", [("snapshot.vxs", "npy"), ("wal.log", "jsonl")])
def test_export_onto_the_database_itself_is_refused(vx, tmp_path, small_db, victim, fmt):
    before = tree(small_db)
    r = vx("export", small_db, "c", small_db / victim, "--format", fmt)
    try:
        assert r.rc in (1, 2), r
        assert r.err.startswith("vexctl: export: "), r
        assert tree(small_db) == before
    finally:
        assert vx("check", small_db).rc == 0, "the database was damaged by export"


def test_export_onto_a_fifo_does_not_replace_it(vx, tmp_path, small_db):
    out = tmp_path / "pipe.jsonl"
    os.mkfifo(out)
    try:
        r = vx("export", small_db, "c", out, timeout=HANG_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("export hangs on a FIFO")
    finally:
        is_fifo = stat.S_ISFIFO(os.lstat(out).st_mode)
    assert is_fifo, "the FIFO was replaced by a regular file"
    refused(r, "export", "pipe.jsonl")


# ---------------------------------------------------------------------------------------------
# check, info, list and friends on things that are not databases

def test_not_a_database(vx, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    empty = tmp_path / "emptydir"
    empty.mkdir()
    for path, words in [(f, ["file.txt"]), (empty, ["no database"]), (tmp_path / "nope", ["nope"]),
                        ("/dev/null", ["/dev/null"])]:
        refused(vx("check", path), "check", *words)
        r = vx("check", path, "--json")
        assert r.rc == 1 and r.err.startswith("vexctl: check: "), r
        if r.out:
            json.loads(r.out)
    for cmd in (["list"], ["info"], ["checkpoint"], ["performance", "metrics"]):
        for path in (f, tmp_path / "nope"):
            r = vx(*cmd, path)
            refused(r, " ".join(cmd), str(path.name))
    assert not (tmp_path / "nope").exists()
    assert list(empty.iterdir()) == []


def test_check_damaged_database_json_parses(vx, tmp_path, small_db):
    assert vx("checkpoint", small_db).rc == 0
    snap = small_db / "snapshot.vxs"
    b = bytearray(snap.read_bytes())
    b[len(b) // 2] ^= 0xFF
    snap.write_bytes(bytes(b))
    r = vx("check", small_db, "--json")
    assert r.rc == 1, r
    j = r.json()
    assert j["ok"] is False and "snapshot.vxs" in j["problem"]
    assert r.err.startswith("vexctl: check: ")


@pytest.mark.parametrize("args,rc", [
    (["list"], 2), (["list", "a", "b"], 2), (["info"], 2), (["drop", "db", "c"], 2),
    (["index", "db", "c", "k", "bogus"], 2), (["index", "db", "c"], 2), (["checkpoint"], 2),
    (["check"], 2), (["check", "a", "b"], 2), (["nosuchcmd"], 2), (["help", "nosuch"], 2),
    (["performance"], 2), (["performance", "nosuch"], 2), (["performance", "simd", "extra"], 2),
    (["performance", "stack"], 2), (["performance", "bridge"], 2), (["performance", "optimize"], 2),
    (["bench"], 2), (["bench", "foo"], 2), (["bench", "ann"], 2),
])
def test_usage_errors(vx, tmp_path, args, rc):
    r = vx(*[tmp_path / a if a == "db" else a for a in args])
    assert r.rc == rc, r
    assert r.err.startswith("vexctl: "), r
    assert not (tmp_path / "db").exists()


def test_version_with_extra_argument_is_a_usage_error(vx):
    r = vx("version", "extra")
    assert r.rc == 2, r


COMMANDS = ["create", "list", "info", "drop", "checkpoint", "check", "index", "import", "export",
            "search", "performance", "bench", "help", "version"]


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_exists_for_every_command(vx, cmd):
    a = vx("help", cmd)
    assert a.rc == 0 and len(a.out) > 40, a
    if cmd not in ("help", "version"):
        assert a.out.startswith(f"usage: vexctl {cmd}"), a


@pytest.mark.parametrize("cmd", COMMANDS)
def test_dash_dash_help_on_every_command(vx, cmd):
    b = vx(cmd, "--help")
    assert b.rc == 0 and b.out.startswith("usage: vexctl"), b


@pytest.mark.parametrize("sub", ["metrics", "monitor", "benchmark", "report", "simd",
                                 "memory-pools"])
def test_help_exists_for_every_performance_subcommand(vx, sub):
    r = vx("performance", sub, "--help")
    assert r.rc == 0 and sub in r.out, r
    r = vx("help", "performance", sub)
    assert r.rc == 0 and sub in r.out, r


# ---------------------------------------------------------------------------------------------
# performance

@pytest.mark.parametrize("dur", ["0s", "-1s", "1x", "1e30s", "0", "", "nan", "inf", "1e-9s",
                                 "99999999999h", "0.0001ms", "s", "1s1"])
def test_performance_bad_durations(vx, dur):
    r = vx("performance", "benchmark", "--duration", dur, "--rows", "50", "--dim", "4")
    refused(r, "performance benchmark", "--duration", rc=2)


@pytest.mark.parametrize("args,words", [
    (["monitor", "--duration", "1s", "--interval", "0s"], ["--interval"]),
    (["monitor", "--duration", "1s", "--interval", "5s"], ["--interval"]),
    (["benchmark", "--rows", "0"], ["--rows"]), (["benchmark", "--dim", "0"], ["--dim"]),
    (["benchmark", "--dim", "65537"], ["--dim"]), (["benchmark", "--threads", "0"], ["--threads"]),
    (["benchmark", "--threads", "100000"], ["--threads"]),
    (["benchmark", "--target-ops-per-sec", "-5"], ["--target-ops-per-sec"]),
    (["benchmark", "--workload", "foo"], ["--workload"]), (["benchmark", "-k", "0"], ["-k"]),
    (["report", "--duration", "0.2s"], ["--output"]),
    (["memory-pools", "--warm=0s"], ["--warm"]), (["memory-pools", "--warm=-1s"], ["--warm"]),
    (["metrics", "db", "--format", "xml"], ["--format"]),
])
def test_performance_bad_options(vx, tmp_path, args, words):
    args = [tmp_path / a if a == "db" else a for a in args]
    r = vx("performance", *args)
    refused(r, "performance " + args[0], *words, rc=2)


def test_performance_report_to_missing_directory(vx, tmp_path):
    out = tmp_path / "nodir" / "r.html"
    r = vx("performance", "report", "--output", out, "--duration", "0.2s", "--rows", "50",
           "--dim", "4")
    refused(r, "performance report", "nodir/r.html")
    assert not (tmp_path / "nodir").exists()


def test_performance_json_outputs_parse(vx, tmp_path, small_db):
    r = vx("performance", "benchmark", small_db, "c", "--duration", "0.2s", "--json")
    assert r.rc == 0, r
    assert r.json()["collection"]["rows"] == 30
    r = vx("performance", "monitor", "--duration", "0.3s", "--interval", "0.1s", "--rows", "50",
           "--dim", "4", "--json", "--workload", "mixed")
    assert r.rc == 0, r
    assert len([json.loads(line) for line in r.out.splitlines()]) >= 2
    r = vx("performance", "metrics", small_db, "--format", "json")
    assert r.rc == 0 and r.json()["collections"][0]["vectors"] == 30, r
    r = vx("performance", "memory-pools", "--json")
    assert r.rc == 0 and "tiers" in r.json(), r
    out = tmp_path / "r.html"
    r = vx("performance", "report", "--output", out, "--duration", "0.2s", "--rows", "50",
           "--dim", "4", "--json")
    assert r.rc == 0 and r.json()["report"] == str(out), r
    assert "<svg" in out.read_text()
    assert vx("list", small_db).rc == 0 and count(vx, small_db, "c") == 30   # never changed


# ---------------------------------------------------------------------------------------------
# bench ann

def ann(path, train, test, neighbors, distance="euclidean"):
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = distance
        for k, v in (("train", train), ("test", test), ("neighbors", neighbors)):
            if v is not None:
                f.create_dataset(k, data=v)
    return path


@pytest.fixture(scope="module")
def ann_parts():
    rng = np.random.default_rng(0)
    return rng.normal(size=(200, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)


@pytest.mark.parametrize("case,words", [
    ("short-neighbors", ["'neighbors' holds 3 per query", "-k 10"]),
    ("no-test", ["no dataset 'test'"]), ("no-neighbors", ["no dataset 'neighbors'"]),
    ("test-dim", ["'test' has 7 columns"]), ("neighbor-rows", ["'neighbors' has 3 rows"]),
    ("distance", ["hamming"]), ("float-neighbors", ["'neighbors'", "integer"]),
    ("empty-test", ["'test' 0"]),
])
def test_bench_ann_bad_files(vx, tmp_path, ann_parts, case, words):
    tr, te = ann_parts
    nb = np.zeros((5, 10), np.int32)
    args = {"short-neighbors": (tr, te, nb[:, :3]), "no-test": (tr, None, nb),
            "no-neighbors": (tr, te, None), "test-dim": (tr, te[:, :7], nb),
            "neighbor-rows": (tr, te, nb[:3]), "distance": (tr, te, nb),
            "float-neighbors": (tr, te, nb.astype(np.float32)),
            "empty-test": (tr, te[:0], nb[:0])}[case]
    f = ann(tmp_path / "a.hdf5", *args, distance="hamming" if case == "distance" else "euclidean")
    refused(vx("bench", "ann", f, "--index", "flat", "--ef", "10"), "bench", "a.hdf5", *words)


def test_bench_ann_short_neighbors_with_smaller_k_runs(vx, tmp_path, ann_parts):
    tr, te = ann_parts
    f = ann(tmp_path / "a.hdf5", tr, te, np.zeros((5, 3), np.int32))
    r = vx("bench", "ann", f, "--index", "flat", "--ef", "10", "-k", "3", "--json")
    assert r.rc == 0, r
    assert r.json()["k"] == 3


@pytest.mark.parametrize("args,words", [
    (["--ef", ""], ["--ef"]), (["--ef", "10,,20"], ["--ef"]), (["--ef", "0"], ["--ef"]),
    (["--ef", "-5"], ["--ef"]), (["--queries", "0"], ["--queries"]), (["-k", "0"], ["-k"]),
    (["--index", "btree"], ["--index"]), (["--threads", "0"], ["--threads"]),
])
def test_bench_ann_bad_options(vx, tmp_path, ann_parts, args, words):
    tr, te = ann_parts
    f = ann(tmp_path / "a.hdf5", tr, te, np.zeros((5, 10), np.int32))
    refused(vx("bench", "ann", f, *args), "bench", *words, rc=2)


def test_bench_ann_plot_to_missing_directory(vx, tmp_path, ann_parts):
    tr, te = ann_parts
    f = ann(tmp_path / "a.hdf5", tr, te, np.zeros((5, 10), np.int32))
    r = vx("bench", "ann", f, "--index", "flat", "--ef", "10", "--plot", tmp_path / "no" / "p.svg")
    assert r.rc == 1 and r.err.startswith("vexctl: bench: ") and "no/p.svg" in r.err, r


@pytest.mark.parametrize("kind", ["text", "dir", "npy"])
def test_bench_ann_on_a_non_hdf5_file_says_so(vx, tmp_path, kind):
    f = tmp_path / "x.hdf5"
    if kind == "dir":
        f.mkdir()
    elif kind == "npy":
        np.save(tmp_path / "x.npy", vectors(3, 4))
        f = tmp_path / "x.npy"
    else:
        f.write_text("hello")
    r = vx("bench", "ann", f)
    refused(r, "bench", f.name)
    assert "not an HDF5 file" in r.err or "not a regular file" in r.err, r


@pytest.mark.parametrize("value", [-1, 10**9])
def test_bench_ann_neighbors_out_of_range(vx, tmp_path, ann_parts, value):
    tr, te = ann_parts
    f = ann(tmp_path / "a.hdf5", tr, te, np.full((5, 10), value, np.int32))
    refused(vx("bench", "ann", f, "--index", "flat", "--ef", "10"), "bench", "neighbors")


# ---------------------------------------------------------------------------------------------
# --json with paths that are not plain ASCII

@pytest.mark.parametrize("dbname", [b'db"q\\x\x01\ttab', "dbü-☃".encode()])
def test_json_with_quotes_and_controls_in_paths_parses(vx, tmp_path, dbname):
    src = tmp_path / "s.npy"
    np.save(src, vectors(5, 4))
    db = os.fsencode(tmp_path) + b"/" + dbname
    for args in ([b"import", db, b"c", os.fsencode(src), b"--json"], [b"info", db, b"--json"],
                 [b"export", db, b"c", os.fsencode(tmp_path / 'o"\x01.npy'), b"--json"],
                 [b"performance", b"metrics", db, b"--json"]):
        p = vx.raw(*args)
        assert p.returncode == 0, p
        j = json.loads(p.stdout.decode("utf-8"))
        assert isinstance(j, dict)
    assert json.loads(vx.raw(b"info", db, b"--json").stdout)["database"]["path"] == db.decode()


def test_json_with_non_utf8_path_parses(vx, tmp_path):
    src = tmp_path / "s.npy"
    np.save(src, vectors(5, 4))
    db = os.fsencode(tmp_path) + b"/db\xff"
    p = vx.raw(b"import", db, b"c", os.fsencode(src), b"--json")
    assert p.returncode == 0, p
    json.loads(p.stdout.decode("utf-8"))


# ---------------------------------------------------------------------------------------------
# every command while another process has the database open for writing

BUSY_COMMANDS = [
    ("create", ["create", "DB", "n", "--dim", "4"]),
    ("import", ["import", "DB", "c", "SMALL", "--ids-from", "1000"]),
    ("list", ["list", "DB"]), ("info", ["info", "DB", "--json"]),
    ("search", ["search", "DB", "c", "--vector", "[1,2,3,4]", "--json"]),
    ("export", ["export", "DB", "c", "OUT"]), ("check", ["check", "DB"]),
    ("drop", ["drop", "DB", "c", "--yes"]), ("checkpoint", ["checkpoint", "DB"]),
    ("index", ["index", "DB", "c", "k", "keyword"]),
    ("performance metrics", ["performance", "metrics", "DB"]),
    ("performance benchmark", ["performance", "benchmark", "DB", "c", "--duration", "0.2s"]),
]


def test_every_command_on_a_busy_database(vx, tmp_path):
    """A background 'vexctl import' (slow: batches of 20 rows, each fsynced) holds the database
    open for writing; every command then fails at once with a clear message, exit 1, and writes
    nothing; the background import is stopped with SIGINT and keeps what it committed."""
    db = tmp_path / "db"
    np.save(tmp_path / "small.npy", vectors(10, 4))
    assert vx("import", db, "c", tmp_path / "small.npy").rc == 0
    np.save(tmp_path / "big.npy", vectors(400000, 4, seed=3))
    proc = vx.popen("import", db, "bg", tmp_path / "big.npy", "--batch", "20", "--sync", "full")
    try:
        # wait, without opening the database (which would race the import's own open), until
        # the import has committed something: the log grows
        wal = db / "wal.log"
        start, deadline = wal.stat().st_size, time.monotonic() + 15
        while wal.stat().st_size == start:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the background import commits nothing"
            time.sleep(0.02)
        subs = {"DB": db, "SMALL": tmp_path / "small.npy"}
        for cmd, args in BUSY_COMMANDS:
            subs["OUT"] = tmp_path / f"out-{cmd}.npy"
            r = vx(*[subs.get(a, a) for a in args])
            refused(r, cmd, "db", "open for writing by another")
            assert not subs["OUT"].exists()
        r = vx("check", db, "--json")  # scripts still get a report
        assert r.rc == 1 and r.json()["ok"] is False, r
        assert "open for writing by another" in r.json()["problem"], r
        assert proc.poll() is None, "the background import must still be running"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "interrupted" in err and "rows committed" in err, (out, err)
    assert count(vx, db, "c") == 10
    assert vx("check", db).rc == 0
