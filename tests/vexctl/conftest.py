"""Fixtures of the vexctl suite: it drives the real binary, as a user would.

VEXCTL names the binary (scripts/test.sh sets it); the default is build/tools/vexctl/vexctl.
Run with Debian's interpreter, which has numpy, pytest and h5py:
    VEXCTL=$PWD/build/tools/vexctl/vexctl /usr/bin/python3 -m pytest -q tests/vexctl
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("VEXCTL", str(ROOT / "build" / "tools" / "vexctl" / "vexctl"))
TIMEOUT = 120  # seconds for one vexctl run: a hang fails the test instead of the suite


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run_vexctl(*args, input=None, env=None, timeout=TIMEOUT):
    """Runs vexctl with args (str or path), stdin not a terminal; returns a Result."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run([BINARY, *map(str, args)], input=input, capture_output=True,
                          text=True, env=full_env, timeout=timeout)
    return Result(proc)


@pytest.fixture
def vexctl():
    """vexctl(*args) -> Result; asserts nothing, so tests check rc, out and err themselves."""
    return run_vexctl


@pytest.fixture
def ok(vexctl):
    """ok(*args) -> Result, asserting exit status 0."""
    def call(*args, **kw):
        r = vexctl(*args, **kw)
        assert r.rc == 0, r
        return r
    return call


@pytest.fixture
def db(tmp_path):
    """A database directory path that does not exist yet."""
    return tmp_path / "db"


def exact_neighbours(train, test, k, metric="euclidean"):
    """The k nearest train rows of each test row, as ann-benchmarks computes them."""
    if metric == "angular":
        t = train / np.linalg.norm(train, axis=1, keepdims=True)
        q = test / np.linalg.norm(test, axis=1, keepdims=True)
        d = 1.0 - q @ t.T
    else:
        d = ((test[:, None, :].astype(np.float64) - train[None, :, :]) ** 2).sum(-1)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order.astype(np.int32), np.take_along_axis(d, order, axis=1).astype(np.float32)


@pytest.fixture(scope="session")
def ann_hdf5(tmp_path_factory):
    """A small file in the ann-benchmarks format, made here: train (600 x 16 float32), test
    (25 x 16), neighbors and distances (25 x 10, exact), attribute distance="euclidean"."""
    import h5py
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(8, 16)).astype(np.float32) * 4
    train = (centres[rng.integers(0, 8, 600)] + rng.normal(size=(600, 16))).astype(np.float32)
    test = (centres[rng.integers(0, 8, 25)] + rng.normal(size=(25, 16))).astype(np.float32)
    neighbors, distances = exact_neighbours(train, test, 10)
    path = tmp_path_factory.mktemp("ann") / "small-16-euclidean.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = "euclidean"
        f.attrs["point_type"] = "float"
        f.create_dataset("train", data=train)
        f.create_dataset("test", data=test)
        f.create_dataset("neighbors", data=neighbors)
        f.create_dataset("distances", data=np.sqrt(distances))
    return path
