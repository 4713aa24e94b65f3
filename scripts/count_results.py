#!/usr/bin/python3
"""Sums test results across suites and prints the summary; its last line is "N passed, N failed".

The folder given holds, per suite that reports its own results, NAME.exit (the exit status of
the command that ran it) and the file it wrote: NAME.json (meson's testlog.json; a CMocka
executable counts its individual tests, any other test counts once) or NAME.xml (JUnit: pytest,
node --test; one per test case); and *.step files (one script-level check each, "pass" or not).
A suite counts one failure more when its results file is missing (it died before writing it) or
when its command failed while the file shows no failing test.

Skipped tests are not passes: they are listed, counted on a line "K skipped" before the summary,
and counted as failed too. scripts/test.sh runs scripts/setup.sh first, which installs every tool
and builds every tree a suite needs, so a skip there means the machine lacks something the setup
promises, and CI must not go green on it. Exits 1 when anything failed or nothing ran."""
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ElementTree

CMOCKA_PASSED = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CMOCKA_FAILED = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)
CMOCKA_SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) test", re.M)
CMOCKA_SKIPPED_NAME = re.compile(r"^\[  SKIPPED \] (?!\d+ test\(s\), listed below:$)(.+)$", re.M)
MESON_PASS = ("OK", "EXPECTEDFAIL")


class Counts:
    def __init__(self):
        self.passed = self.failed = 0
        self.skipped = []  # names

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def line(self):
        skips = f", {len(self.skipped)} skipped" if self.skipped else ""
        return f"{self.passed} passed, {self.failed} failed{skips}"


def count_meson(path):
    counts = Counts()
    for line in path.read_text().splitlines():
        test = json.loads(line)
        if test["result"] == "SKIP":
            counts.skipped.append(test["name"])
            continue
        ok = test["result"] in MESON_PASS
        out = (test.get("stdout") or "") + "\n" + (test.get("stderr") or "")
        p = sum(int(n) for n in CMOCKA_PASSED.findall(out))
        f = sum(int(n) for n in CMOCKA_FAILED.findall(out))
        s = sum(int(n) for n in CMOCKA_SKIPPED.findall(out))
        if p or f or s:
            counts.passed += p
            counts.failed += f + (0 if ok or f else 1)  # a crash after some tests passed fails
            names = dict.fromkeys(CMOCKA_SKIPPED_NAME.findall(out))  # each is printed twice
            counts.skipped += [f"{test['name']} / {n}" for n in names] or [test["name"]] * s
        else:
            counts.passed += ok
            counts.failed += not ok
    return counts


def count_junit(path):
    counts = Counts()  # one per <testcase>, at any depth (node --test nests subtests' in suites)
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        if case.find("skipped") is not None:  # also pytest's xfail and node's todo, failing or not
            counts.skipped.append(f"{case.get('classname')} / {case.get('name')}")
        elif case.find("failure") is not None or case.find("error") is not None:
            counts.failed += 1
        else:
            counts.passed += 1
    return counts


def count_suite(exit_file):
    """The counts of the suite that wrote exit_file, and what went wrong beyond its tests."""
    status = int(exit_file.read_text().strip() or 1)
    for ext, count in ((".json", count_meson), (".xml", count_junit)):
        results = exit_file.with_suffix(ext)
        if results.exists():
            counts = count(results)
            break
    else:
        counts = Counts()
        counts.failed = 1
        return counts, f"no results file, exit status {status}"
    if status != 0 and counts.failed == 0:
        counts.failed = 1
        return counts, f"exit status {status} with no failing test in its results"
    return counts, None


def main():
    folder = pathlib.Path(sys.argv[1])
    total = Counts()
    for exit_file in sorted(folder.glob("*.exit"), key=lambda p: p.stem):
        counts, problem = count_suite(exit_file)
        print(f"{exit_file.stem}: {counts.line()}" + (f" ({problem})" if problem else ""))
        counts.skipped = [f"{exit_file.stem}: {name}" for name in counts.skipped]
        total.add(counts)
    for path in sorted(folder.glob("*.step")):
        ok = path.read_text().strip() == "pass"
        print(f"{path.stem}: {'passed' if ok else 'FAILED'}")
        total.passed, total.failed = total.passed + ok, total.failed + (not ok)
    if total.skipped:
        for name in total.skipped:
            print(f"skipped: {name}")
        print(f"{len(total.skipped)} skipped (counted as failed: setup.sh should have provided "
              "what they need)")
        total.failed += len(total.skipped)
    print(f"{total.passed} passed, {total.failed} failed")
    return 1 if total.failed or not total.passed else 0


if __name__ == "__main__":
    sys.exit(main())
