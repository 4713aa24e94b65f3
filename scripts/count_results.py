#!/usr/bin/python3
"""Sums test results across suites and prints the one summary line: "N passed, N failed".

Reads meson's testlog.json files (a CMocka executable counts its individual tests, any other test
counts once), JUnit XML files (pytest, node --test; one per test case) and *.step files (one script-level check each) from the
folder given. Exits 1 when anything failed or nothing ran."""
import json
import pathlib
import re
import sys
import xml.etree.ElementTree as ElementTree

CMOCKA_PASSED = re.compile(r"^\[  PASSED  \] (\d+) test", re.M)
CMOCKA_FAILED = re.compile(r"^\[  FAILED  \] (\d+) test", re.M)


def count_meson(path):
    passed = failed = 0
    for line in path.read_text().splitlines():
        test = json.loads(line)
        ok = test["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        out = (test.get("stdout") or "") + "\n" + (test.get("stderr") or "")
        p = sum(int(n) for n in CMOCKA_PASSED.findall(out))
        f = sum(int(n) for n in CMOCKA_FAILED.findall(out))
        if p or f:
            # a crash after some tests passed still counts as a failure
            passed, failed = passed + p, failed + f + (0 if ok or f else 1)
        else:
            passed, failed = passed + ok, failed + (not ok)
    return passed, failed


def main():
    folder = pathlib.Path(sys.argv[1])
    passed = failed = 0
    for path in sorted(folder.glob("*.json")):
        p, f = count_meson(path)
        print(f"{path.stem}: {p} passed, {f} failed")
        passed, failed = passed + p, failed + f
    for path in sorted(folder.glob("*.xml")):
        p = f = 0  # one per <testcase> (pytest nests them in <testsuite>, node --test does not)
        for case in ElementTree.parse(path).getroot().iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                f += 1
            elif case.find("skipped") is None:
                p += 1
        print(f"{path.stem}: {p} passed, {f} failed")
        passed, failed = passed + p, failed + f
    for path in sorted(folder.glob("*.step")):
        ok = path.read_text().strip() == "pass"
        print(f"{path.stem}: {'passed' if ok else 'FAILED'}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
