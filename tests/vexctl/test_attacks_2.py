"""vexctl attacked from outside, second round: what test_attacks.py did not cover. Database
workloads of `performance monitor|benchmark|report` (the data unchanged, no scratch collection
left, also after SIGINT/SIGTERM, with --threads 2, on every index kind and with payloads and
payload indexes), the HTML report's well-formedness, the live views on a pseudo-terminal,
interrupted and concurrent imports, hostile filters, AUTO collections before and after their
switch, `bench ann` options and metrics, and `check` after drop, index --drop and a killed writer.

Every bug found here was fixed; the cases stay as regression tests."""
import fcntl
import html.parser
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import BINARY, Result, exact_neighbours

TIMEOUT = 30


def vx(*args, timeout=TIMEOUT, input=None):
    proc = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, input=input)
    r = Result(proc)
    assert r.rc in (0, 1, 2), r  # never a signal death
    for word in ("Sanitizer", "runtime error:", "Segmentation", "Aborted"):
        assert word not in r.err, r
    return r


def ok(*args, **kw):
    r = vx(*args, **kw)
    assert r.rc == 0, r
    return r


def popen(*args):
    return subprocess.Popen([BINARY, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def assert_no_sanitizer(err):
    for word in ("Sanitizer", "runtime error:"):
        assert word not in err, err


def vectors(n, d, seed=1):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def exported(db, name, tmp_path):
    """(ids, vectors, payloads by id) of a collection, read back by export."""
    out = tmp_path / f"exp-{name}.jsonl"
    ok("export", db, name, out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    out.unlink()
    return sorted((r["id"], tuple(r["vector"]), json.dumps(r.get("payload"), sort_keys=True))
                  for r in rows)


def names(db):
    return [c["name"] for c in ok("list", db, "--json").json()]


INDEXES = ["flat", "hnsw", "ivf", "lsh", "auto"]


@pytest.fixture(scope="module")
def kinds_db(tmp_path_factory):
    """A database with one collection per index kind (300 x 8) and 'pay': 300 rows with payloads
    and two payload indexes."""
    d = tmp_path_factory.mktemp("kinds")
    a = vectors(300, 8, seed=11)
    np.save(d / "v.npy", a)
    db = d / "db"
    for ix in INDEXES:
        ok("import", db, ix, d / "v.npy", "--index", ix)
    with open(d / "p.jsonl", "w") as f:
        for i in range(300):
            f.write(json.dumps({"id": i, "vector": a[i].tolist(),
                                "payload": {"lang": ["en", "de"][i % 2], "n": i,
                                            "meta": {"x": i}}}) + "\n")
    ok("import", db, "pay", d / "p.jsonl")
    ok("index", db, "pay", "lang", "keyword")
    ok("index", db, "pay", "n", "numeric")
    return db


# ---------------------------------------------------------------------------------------------
# database workloads: the user's data is never changed, the scratch collection never stays

@pytest.mark.parametrize("name", INDEXES + ["pay"])
def test_insert_and_mixed_workloads_on_every_index_leave_the_data_unchanged(kinds_db, tmp_path,
                                                                            name):
    before_names, before = names(kinds_db), exported(kinds_db, name, tmp_path)
    info_before = ok("info", kinds_db, name, "--json").json()["collections"][0]
    for workload in ("insert", "mixed"):
        d = ok("performance", "benchmark", kinds_db, name, "--duration", "150ms", "--workload",
               workload, "--threads", "2", "--json").json()
        assert d["threads"] == 2 and d["inserts"] > 0, d
        assert d["collection"]["scratch"].startswith("vexctl-bench-")
    assert names(kinds_db) == before_names
    assert exported(kinds_db, name, tmp_path) == before
    info_after = ok("info", kinds_db, name, "--json").json()["collections"][0]
    assert info_after["count"] == info_before["count"] == 300
    assert info_after["payload_indexes"] == info_before["payload_indexes"]
    ok("check", kinds_db)


@pytest.mark.parametrize("sub", ["monitor", "benchmark", "report"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_database_workload_drops_the_scratch(kinds_db, tmp_path, sub, sig):
    before_names, before = names(kinds_db), exported(kinds_db, "pay", tmp_path)
    report = tmp_path / "r.html"
    extra = ["--output", report] if sub == "report" else []
    p = popen("performance", sub, *extra, kinds_db, "pay", "--duration", "30s",
              "--workload", "mixed", "--threads", "2", "--json")
    time.sleep(0.4)  # past setup: the scratch collection exists (the writer holds the lock)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1, (out, err)
    assert f"interrupted by {sig.name}" in err, err
    assert_no_sanitizer(err)
    assert not report.exists() and not list(tmp_path.glob("r.html.tmp*"))
    assert names(kinds_db) == before_names
    assert exported(kinds_db, "pay", tmp_path) == before


def test_two_signals_in_a_row_still_drop_the_scratch(kinds_db, tmp_path):
    before_names = names(kinds_db)
    p = popen("performance", "benchmark", kinds_db, "hnsw", "--duration", "30s",
              "--workload", "insert", "--threads", "2")
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1 and "interrupted by" in err, err
    assert names(kinds_db) == before_names


def test_workload_while_an_import_holds_the_database_is_refused(kinds_db, tmp_path):
    db = tmp_path / "busy"
    ok("import", db, "c", kinds_db.parent / "v.npy")
    np.save(tmp_path / "more.npy", vectors(2000, 8, seed=3))
    p = popen("import", db, "c", tmp_path / "more.npy", "--batch", "1", "--sync", "full",
              "--ids-from", "1000")
    try:
        time.sleep(0.2)
        for wl in ("search", "insert"):
            r = vx("performance", "benchmark", db, "c", "--duration", "100ms", "--workload", wl)
            assert r.rc == 1 and "open for writing" in r.err and r.out == "", r
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=30)
    assert not [n for n in names(db) if n.startswith("vexctl-bench-")]


# ---------------------------------------------------------------------------------------------
# the HTML report

class _Strict(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed",
            "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src", "xlink:href", "action") or (v and re.search(r"(?i)(https?:|url\()", v)):
                self.links.append((tag, k, v))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.mark.parametrize("where", ["memory", "database"])
def test_report_is_well_formed_html_with_parseable_svg_and_no_links(kinds_db, tmp_path, where):
    out = tmp_path / "report.html"
    target = [kinds_db, "pay"] if where == "database" else ["--rows", "500", "--dim", "8"]
    r = ok("performance", "report", "--output", out, *target, "--duration", "500ms",
           "--interval", "100ms", "--workload", "mixed", "--threads", "2",
           "--target-ops-per-sec", "5")
    assert f"report    {out}" in r.out
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    p = _Strict()
    p.feed(text)
    p.close()
    assert p.problems == [] and p.stack == [], (p.problems, p.stack)
    assert p.links == []
    assert not re.search(r"(?i)<script|<link|<iframe|<img|https?://|@import|url\(", text)
    svgs = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    assert len(svgs) == 2
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "svg"
        assert root.findall(".//rect") or root.findall(".//polyline") or root.findall(".//path")
    if where == "database":
        assert names(kinds_db) == INDEXES_SORTED


INDEXES_SORTED = sorted(INDEXES + ["pay"])


def test_report_with_markup_in_the_path_is_escaped(tmp_path):
    d = tmp_path / "a<b>&c\"d"
    d.mkdir()
    np.save(tmp_path / "v.npy", vectors(50, 4))
    db = d / "db<x>"
    ok("import", db, "c", tmp_path / "v.npy")
    out = tmp_path / "r.html"
    ok("performance", "report", "--output", out, db, "c", "--duration", "200ms",
       "--interval", "100ms")
    text = out.read_text()
    assert "<b>" not in text and "<x>" not in text
    p = _Strict()
    p.feed(text)
    p.close()
    assert p.problems == [] and p.stack == []


# ---------------------------------------------------------------------------------------------
# live views on a pseudo-terminal

def read_pty(m, p, timeout=30, tick=None):
    """Reads the master side m of a pty until the child p closes its side (or exits), or until
    timeout seconds (the child is then killed); tick(elapsed) runs between reads."""
    out, start = b"", time.monotonic()
    while True:
        if tick:
            tick(time.monotonic() - start)
        r, _, _ = select.select([m], [], [], 0.05)
        if r:
            try:
                d = os.read(m, 65536)
            except OSError:
                break
            if not d:
                break
            out += d
        elif p.poll() is not None:
            break
        if time.monotonic() - start > timeout:
            p.kill()
            break
    return out


def run_pty(args, cols=80, rows=24, timeout=30, signal_after=None, sig=signal.SIGINT):
    """Runs vexctl with stdout and stderr on a pty of cols x rows; returns (rc, bytes)."""
    m, s = pty.openpty()
    fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen([BINARY, *map(str, args)], stdin=subprocess.DEVNULL, stdout=s, stderr=s)
    os.close(s)
    sent = []

    def signal_once(elapsed):
        if signal_after is not None and not sent and elapsed > signal_after:
            p.send_signal(sig)
            sent.append(sig)
    out = read_pty(m, p, timeout, signal_once)
    p.wait()
    os.close(m)
    return p.returncode, out


def emulate(data, cols=80, rows=24):
    """A small VT100: text with autowrap, CR, LF, CSI n A/B/C/D, K, J, m. Returns the screen's
    lines (those scrolled off kept above) and the sequences it did not know."""
    text = data.decode("utf-8", "replace")
    lines, top, y, x, unknown = [[]], 0, 0, 0, []

    def line(i):
        while len(lines) <= i:
            lines.append([])
        return lines[i]

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":
            m = re.match(r"\x1b\[([0-9;?]*)([A-Za-z])", text[i:])
            if not m:
                unknown.append(text[i:i + 4])
                i += 1
                continue
            arg, cmd = m.group(1), m.group(2)
            n = int(arg) if arg.isdigit() else 1
            if cmd == "A":
                y = max(top, y - n)
            elif cmd == "B":
                y += n
            elif cmd == "C":
                x = min(cols - 1, x + n)
            elif cmd == "D":
                x = max(0, x - n)
            elif cmd == "K" and arg in ("", "0"):
                del line(y)[x:]
            elif cmd == "J" and arg in ("", "0"):
                del line(y)[x:]
                del lines[y + 1:]
            elif cmd != "m":
                unknown.append(m.group(0))
            i += m.end()
            continue
        if ch == "\r":
            x = 0
        elif ch == "\n":
            y += 1
            top = max(top, y - rows + 1)
        elif ch < " ":
            unknown.append(repr(ch))
        else:
            if x >= cols:
                x, y = 0, y + 1
                top = max(top, y - rows + 1)
            ln = line(y)
            while len(ln) < x:
                ln.append(" ")
            if x < len(ln):
                ln[x] = ch
            else:
                ln.append(ch)
            x += 1
        i += 1
    return ["".join(ln).rstrip() for ln in lines], unknown


def check_monitor_screen(screen, unknown):
    assert unknown == [], unknown
    body = [ln for ln in screen if ln]
    assert sum("vexctl performance monitor" in ln for ln in body) == 1, "\n".join(screen)
    for label in ("elapsed", "ops/s", "latency", "pool hit", "total"):
        assert sum(ln.strip().startswith(label) for ln in body) == 1, "\n".join(screen)


def test_monitor_on_a_wide_terminal_redraws_in_place(kinds_db):
    rc, out = run_pty(["performance", "monitor", kinds_db, "hnsw", "--duration", "600ms",
                       "--interval", "100ms", "--workload", "mixed", "--threads", "2"],
                      cols=400)
    assert rc == 0, out
    screen, unknown = emulate(out, cols=400)
    check_monitor_screen(screen, unknown)
    assert "elapsed   0.6 s of 0.6 s" in "\n".join(screen)


def test_monitor_on_an_80_column_terminal_redraws_in_place(kinds_db):
    rc, out = run_pty(["performance", "monitor", kinds_db, "hnsw", "--duration", "500ms",
                       "--interval", "100ms", "--workload", "mixed"], cols=80)
    assert rc == 0, out
    screen, unknown = emulate(out, cols=80)
    check_monitor_screen(screen, unknown)


def test_monitor_on_a_pty_interrupted_ends_cleanly(kinds_db):
    before = names(kinds_db)
    rc, out = run_pty(["performance", "monitor", kinds_db, "pay", "--duration", "30s",
                       "--interval", "100ms", "--workload", "insert"], cols=400,
                      signal_after=0.6)
    assert rc == 1, out
    screen, unknown = emulate(out, cols=400)
    assert unknown == []
    text = "\n".join(screen)
    assert "Sanitizer" not in text
    assert screen[-1].startswith("vexctl: performance monitor: interrupted by SIGINT"), text
    assert names(kinds_db) == before


def test_import_on_a_pty_draws_a_bar_and_ends_with_the_summary(tmp_path):
    np.save(tmp_path / "v.npy", vectors(6000, 16))
    rc, out = run_pty(["import", tmp_path / "db", "c", tmp_path / "v.npy", "--batch", "20",
                       "--sync", "off", "--index", "hnsw", "--m", "8"])
    assert rc == 0, out
    assert re.search(rb"\r\[[#.]{30}\] \d+/6000 rows", out), out[:400]
    assert b"6000/6000 rows 100.0%" in out
    screen, unknown = emulate(out)
    assert unknown == []
    body = [ln for ln in screen if ln]
    assert len(body) == 1 and re.fullmatch(
        r"imported 6000 rows into c in [0-9.]+ s \(\d+ rows/s\)", body[0]), screen


def test_import_progress_bar_on_a_60_column_terminal_leaves_only_the_summary(tmp_path):
    np.save(tmp_path / "v.npy", vectors(6000, 16))
    rc, out = run_pty(["import", tmp_path / "db", "c", tmp_path / "v.npy", "--batch", "20",
                       "--sync", "off", "--index", "hnsw", "--m", "8"], cols=60)
    assert rc == 0, out
    screen, unknown = emulate(out, cols=60)
    assert unknown == []
    body = [ln for ln in screen if ln]
    assert len(body) == 1 and body[0].startswith("imported 6000 rows into c"), screen


def test_import_on_a_pty_with_json_keeps_stdout_pure(tmp_path):
    """Progress goes to stderr only; with --json stdout must still be one JSON object even when
    both are terminals (here stdout is a pipe, stderr the pty)."""
    np.save(tmp_path / "v.npy", vectors(3000, 8))
    m, s = pty.openpty()
    p = subprocess.Popen([BINARY, "import", str(tmp_path / "db"), "c", str(tmp_path / "v.npy"),
                          "--batch", "10", "--json"], stdout=subprocess.PIPE, stderr=s)
    os.close(s)
    err = read_pty(m, p)
    out = p.stdout.read()
    p.wait()
    os.close(m)
    assert p.returncode == 0
    assert json.loads(out)["count"] == 3000
    assert b"rows" in err and err.endswith(b"\r\x1b[K")


# ---------------------------------------------------------------------------------------------
# interrupted, concurrent and killed imports

def wait_for_log(db, size, deadline=20):
    end = time.monotonic() + deadline
    wal = db / "wal.log"
    while time.monotonic() < end:
        if wal.exists() and wal.stat().st_size > size:
            return
        time.sleep(0.005)
    raise AssertionError("the import wrote nothing")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("index", ["hnsw", "ivf"])
def test_signal_during_import_batch_1_sync_full_keeps_exactly_the_reported_rows(tmp_path, sig,
                                                                                 index):
    a = vectors(3000, 8, seed=5)
    np.save(tmp_path / "s.npy", a)
    db = tmp_path / "db"
    p = popen("import", db, "c", tmp_path / "s.npy", "--batch", "1", "--sync", "full",
              "--index", index)
    wait_for_log(db, 3000)
    time.sleep(0.05)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1 and out == "", (out, err)
    m = re.search(r"vexctl: import: interrupted: (\d+) rows committed \(rows 0\.\.(\d+) of ", err)
    assert m, err
    n = int(m.group(1))
    assert 0 < n < 3000 and int(m.group(2)) == n - 1
    ok("export", db, "c", tmp_path / "o.npy", "--ids", tmp_path / "ids.npy")
    assert (np.load(tmp_path / "ids.npy") == np.arange(n)).all()
    assert np.array_equal(np.load(tmp_path / "o.npy"), a[:n])
    r = ok("check", db, "--json").json()
    assert r["ok"] and r["collections"] == [{"name": "c", "vectors": n}]


def background_import(tmp_path, seed, log_bytes):
    """Starts a slow import (one fsynced row per batch) of 3000 x 8 rows into tmp_path/db and
    returns (rows, db, process) once its log holds more than log_bytes."""
    a = vectors(3000, 8, seed=seed)
    np.save(tmp_path / "s.npy", a)
    db = tmp_path / "db"
    p = popen("import", db, "c", tmp_path / "s.npy", "--batch", "1", "--sync", "full")
    wait_for_log(db, log_bytes)
    return a, db, p


def test_a_second_import_into_a_busy_database_is_refused_cleanly(tmp_path):
    a, db, p = background_import(tmp_path, 6, 1000)
    for name, extra in (("d", []), ("c", ["--ids-from", "10000"])):
        r = vx("import", db, name, tmp_path / "s.npy", *extra)
        assert r.rc == 1 and r.out == "", r
        assert r.err.startswith("vexctl: import: ") and "open for writing" in r.err, r
        assert r.err.count("\n") == 1, r
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    n = int(re.search(r"interrupted: (\d+) rows committed", err).group(1))
    assert names(db) == ["c"]
    assert ok("info", db, "c", "--json").json()["collections"][0]["count"] == n


def test_check_after_a_writer_killed_mid_import_counts_the_committed_rows(tmp_path):
    a, db, p = background_import(tmp_path, 7, 4000)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL
    r = ok("check", db, "--json").json()
    assert r["ok"], r
    n = r["collections"][0]["vectors"]
    assert 0 < n < 3000
    # every committed row is a whole prefix of the file (batch 1, sync full: one record each)
    assert r["log"]["records"] >= n
    ok("export", db, "c", tmp_path / "o.npy", "--ids", tmp_path / "ids.npy")
    assert (np.load(tmp_path / "ids.npy") == np.arange(n)).all()
    assert np.array_equal(np.load(tmp_path / "o.npy"), a[:n])
    # and the database takes the rest afterwards
    ok("import", db, "c", tmp_path / "s.npy", "--format", "npy", "--ids-from", "100000")
    assert ok("check", db, "--json").json()["collections"][0]["vectors"] == n + 3000


def test_check_after_a_workload_killed_with_sigkill_shows_the_leftover_scratch(kinds_db,
                                                                              tmp_path):
    """SIGKILL cannot be caught: the scratch collection stays. check must still pass and list
    it; the next insert run drops it (a user can too), and a user's own collection named like
    one, when it is the one measured, is never dropped."""
    db = tmp_path / "db"
    np.save(tmp_path / "v.npy", vectors(100, 8))
    ok("import", db, "c", tmp_path / "v.npy")
    p = popen("performance", "benchmark", db, "c", "--duration", "30s", "--workload", "insert")
    time.sleep(0.4)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    r = ok("check", db, "--json").json()
    assert r["ok"]
    left = [c["name"] for c in r["collections"] if c["name"] != "c"]
    assert left == [f"vexctl-bench-{p.pid}"]
    ok("performance", "benchmark", db, "c", "--duration", "0.2s", "--workload", "insert")
    assert names(db) == ["c"]
    ok("check", db)
    # killed again: this time the user drops the leftover by hand
    p = popen("performance", "benchmark", db, "c", "--duration", "30s", "--workload", "insert")
    time.sleep(0.4)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    ok("drop", db, f"vexctl-bench-{p.pid}", "--yes")
    assert names(db) == ["c"]
    # a collection of the user's named like a scratch one, measured itself, stays
    ok("import", db, "vexctl-bench-7", tmp_path / "v.npy")
    ok("performance", "benchmark", db, "vexctl-bench-7", "--duration", "0.2s", "--workload", "insert")
    assert names(db) == ["c", "vexctl-bench-7"]


def test_check_after_drop_and_index_drop(kinds_db, tmp_path):
    db = tmp_path / "db"
    src = kinds_db.parent
    ok("import", db, "a", src / "v.npy")
    ok("import", db, "b", src / "p.jsonl")
    ok("index", db, "b", "lang", "keyword")
    ok("index", db, "b", "meta.x", "numeric")
    ok("drop", db, "a", "--yes")
    r = ok("check", db, "--json").json()
    assert r["ok"] and r["collections"] == [{"name": "b", "vectors": 300}]
    ok("index", db, "b", "lang", "keyword", "--drop")
    r = ok("check", db, "--json").json()
    assert r["ok"] and r["collections"] == [{"name": "b", "vectors": 300}]
    assert ok("info", db, "b", "--json").json()["collections"][0]["payload_indexes"] == [
        {"key": "meta.x", "kind": "numeric"}]
    got = ok("search", db, "b", "--vector", Q, "-k", "300", "--json", "--filter",
             '{"must":[{"key":"lang","match":{"value":"de"}}]}').json()["results"]
    assert len(got) == 150  # the dropped index changes nothing but speed
    ok("checkpoint", db)
    ok("check", db)
    ok("drop", db, "b", "--yes")
    r = ok("check", db, "--json").json()
    assert r["ok"] and r["collections"] == []
    assert names(db) == []


# ---------------------------------------------------------------------------------------------
# search --filter: huge, deep, wrong-typed (the argument limit is 128 KiB per word)

Q = "[0,0,0,0,0,0,0,0]"


@pytest.mark.parametrize("flt, words", [
    ('{"must":' * 4000 + "[]" + "}" * 4000, ["nested deeper than"]),
    ('{"must":[' + '{"must":[' * 3000 + "]}" * 3000 + "]}", ["nested deeper than"]),
    ("[" * 50000 + "]" * 50000, ["nested deeper than"]),
    ('{"must":[{"key":"lang","match":{"value":[1,2]}}]}', ["match.value", "array"]),
    ('{"must":[{"key":"n","range":{"gte":"a"}}]}', ["range.gte", "string"]),
    ('{"must":[{"key":5,"match":{"value":"en"}}]}', ["key", "integer"]),
    ('{"must":[{"has_id":["a"]}]}', ["has_id"]),
    ('{"must":[{"has_id":[-1]}]}', ["has_id"]),
    ('{"must":[{"key":"n","range":{"gte":1e999}}]}', ["out of the range"]),
    ('{"must":[],"must":[]}', ["repeats a key"]),
    ('{"must":[]} x', ["after the value"]),
    ('{"must":[{"key":"lang","match":{"value":"\\ud800"}}]}', ["surrogate"]),
    ("[]", ["expected an object"]),
    ("null", ["expected an object"]),
    ("", []),
])
def test_bad_filters_fail_clearly(kinds_db, flt, words):
    r = vx("search", kinds_db, "pay", "--vector", Q, "--filter", flt, "--json")
    assert r.rc in (1, 2) and r.out == "", r
    assert r.err.startswith("vexctl: search: ") and r.err.count("\n") <= 2, r
    for w in words:
        assert w in r.err, r


def test_huge_filters_that_are_valid_work(kinds_db):
    many = json.dumps({"should": [{"key": "n", "match": {"value": i}} for i in range(2500)]})
    got = ok("search", kinds_db, "pay", "--vector", Q, "--filter", many, "-k", "300",
             "--json").json()["results"]
    assert len(got) == 300
    long_value = json.dumps({"must": [{"key": "lang", "match": {"value": "x" * 120000}}]})
    assert ok("search", kinds_db, "pay", "--vector", Q, "--filter", long_value,
              "--json").json()["results"] == []
    deep_ok = '{"must":[' * 30 + '{"key":"lang","match":{"value":"en"}}' + "]}" * 30
    got = ok("search", kinds_db, "pay", "--vector", Q, "--filter", deep_ok, "-k", "300",
             "--with-payload", "--json").json()["results"]
    assert len(got) == 150 and all(h["payload"]["lang"] == "en" for h in got)


def test_filters_on_indexed_and_unindexed_keys_agree(kinds_db):
    """Results never depend on indexes: 'n' is indexed (numeric), 'meta.x' is not; same values."""
    for lo, hi in ((0, 10), (100.5, 140), (299, 1000)):
        a = ok("search", kinds_db, "pay", "--vector", Q, "-k", "300", "--exact", "--json",
               "--filter", json.dumps({"must": [{"key": "n", "range": {"gte": lo, "lt": hi}}]}))
        b = ok("search", kinds_db, "pay", "--vector", Q, "-k", "300", "--exact", "--json",
               "--filter", json.dumps({"must": [{"key": "meta.x",
                                                 "range": {"gte": lo, "lt": hi}}]}))
        assert a.json() == b.json()
        want = sum(1 for i in range(300) if lo <= i < hi)
        assert len(a.json()["results"]) == want


# ---------------------------------------------------------------------------------------------
# AUTO collections before and after they switch index (IVF from 2 560 vectors at d=256)

def test_info_and_list_on_auto_before_and_after_the_switch(tmp_path):
    a = vectors(8192, 256, seed=8)
    np.save(tmp_path / "a1.npy", a[:2000])
    np.save(tmp_path / "a2.npy", a[2000:])
    db = tmp_path / "db"
    ok("import", db, "c", tmp_path / "a1.npy", "--sync", "off")
    c = ok("info", db, "c", "--json").json()["collections"][0]
    assert c["config"]["index"] == "auto" and c["index_in_use"] == "auto" and c["count"] == 2000
    keys_before = set(c["config"])
    assert ok("list", db, "--json").json()[0]["count"] == 2000
    assert "auto" in ok("info", db, "c").out
    ok("import", db, "c", tmp_path / "a2.npy", "--ids-from", "2000", "--sync", "off")
    c = ok("info", db, "c", "--json").json()["collections"][0]
    assert c["config"]["index"] == "auto" and c["index_in_use"] == "auto:ivf"
    assert c["count"] == 8192 and c["memory_bytes"]["index"] > 0
    assert set(c["config"]) == keys_before  # scripts can rely on the keys
    table = ok("list", db).out
    assert re.search(r"^c\s+256\s+l2\s+auto:ivf\s+8192$", table, flags=re.M), table
    r = ok("check", db, "--json").json()
    assert r["ok"] and r["collections"] == [{"name": "c", "vectors": 8192}]
    hit = ok("search", db, "c", "--vector", json.dumps(a[5000].tolist()), "-k", "1",
             "--json").json()["results"][0]
    assert hit["id"] == 5000 and hit["distance"] == 0
    ok("export", db, "c", tmp_path / "o.npy", "--ids", tmp_path / "ids.npy")
    order = np.argsort(np.load(tmp_path / "ids.npy"))
    assert np.array_equal(np.load(tmp_path / "o.npy")[order], a)
    # a workload on the switched collection leaves it switched and whole
    d = ok("performance", "benchmark", db, "c", "--duration", "200ms", "--workload", "mixed",
           "--json").json()
    assert d["collection"]["index_in_use"] == "auto:ivf"
    assert ok("info", db, "c", "--json").json()["collections"][0]["count"] == 8192


# ---------------------------------------------------------------------------------------------
# bench ann: threads, --queries past the test set, k 1 and 100, angular and dot files

@pytest.fixture(scope="module")
def ann_files(tmp_path_factory):
    import h5py
    d = tmp_path_factory.mktemp("ann2")
    rng = np.random.default_rng(5)
    train = rng.normal(size=(400, 12)).astype(np.float32)
    test = rng.normal(size=(15, 12)).astype(np.float32)
    out = {}
    for dist in ("euclidean", "angular", "dot"):
        if dist == "dot":
            nb = np.argsort(-(test @ train.T), axis=1, kind="stable")[:, :100].astype(np.int32)
        else:
            nb, _ = exact_neighbours(train, test, 100, dist)
        path = d / f"t-12-{dist}.hdf5"
        with h5py.File(path, "w") as f:
            f.attrs["distance"] = dist
            f.create_dataset("train", data=train)
            f.create_dataset("test", data=test)
            f.create_dataset("neighbors", data=nb)
        out[dist] = path
    return out


@pytest.mark.parametrize("dist, metric", [("euclidean", "l2"), ("angular", "cosine"),
                                          ("dot", "ip")])
def test_bench_ann_metrics_k_and_queries(ann_files, dist, metric):
    f = ann_files[dist]
    flat = ok("bench", "ann", f, "--index", "flat", "-k", "100", "--ef", "5", "--json").json()
    assert flat["metric"] == metric and flat["k"] == 100 and flat["queries"] == 15
    assert flat["rows"][0]["recall"] == 1.0  # exact search finds the file's neighbours
    one = ok("bench", "ann", f, "--index", "flat", "-k", "1", "--json").json()
    assert [r["recall"] for r in one["rows"]] == [1.0] * 4
    more = ok("bench", "ann", f, "--queries", "1000", "--threads", "2", "--json").json()
    assert more["queries"] == 15 and len(more["rows"]) == 4
    assert more["rows"][-1]["recall"] >= 0.9
    few = ok("bench", "ann", f, "--queries", "3", "--threads", "1", "-k", "100",
             "--ef", "200", "--json").json()
    assert few["queries"] == 3 and few["rows"][0]["recall"] >= 0.9


def test_bench_ann_one_thread_build_is_reproducible(ann_files):
    a = ok("bench", "ann", ann_files["euclidean"], "--threads", "1", "--json").json()
    b = ok("bench", "ann", ann_files["euclidean"], "--threads", "1", "--json").json()
    assert [r["recall"] for r in a["rows"]] == [r["recall"] for r in b["rows"]]


def test_bench_ann_plot_is_parseable_svg(ann_files, tmp_path):
    plot = tmp_path / "p.svg"
    ok("bench", "ann", ann_files["angular"], "--plot", plot, "--ef", "10,20")
    root = ET.fromstring(plot.read_text())
    assert root.tag.endswith("svg")


# ---------------------------------------------------------------------------------------------
# in-memory workloads with threads

@pytest.mark.parametrize("index", ["flat", "hnsw", "ivf", "lsh", "auto"])
def test_in_memory_mixed_workload_with_threads_counts_add_up(index):
    d = ok("performance", "benchmark", "--rows", "600", "--dim", "8", "--index", index,
           "--duration", "200ms", "--workload", "mixed", "--threads", "2", "-k", "100",
           "--json").json()
    assert d["ops"] == d["searches"] + d["inserts"] > 0
    assert d["threads"] == 2 and d["k"] == 100
    lines = ok("performance", "monitor", "--rows", "600", "--dim", "8", "--index", index,
               "--duration", "300ms", "--interval", "100ms", "--workload", "insert",
               "--threads", "2", "--json").out.splitlines()
    rows = [json.loads(x) for x in lines]
    assert len(rows) == 3 and all(r["ops"] == r["inserts"] for r in rows)
