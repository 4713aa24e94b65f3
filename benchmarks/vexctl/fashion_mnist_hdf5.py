#!/usr/bin/python3
"""Writes Debian's Fashion-MNIST in the ann-benchmarks HDF5 layout, for `vexctl bench ann`:
train (60000 x 784 float32), test (the first QUERIES of the 10000 test images), neighbors (the
100 nearest train rows of each, exact, by squared L2 in float64), attribute distance=euclidean.

    /usr/bin/python3 benchmarks/vexctl/fashion_mnist_hdf5.py OUT.hdf5 [QUERIES]   (default 2000)
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import fashion_mnist  # noqa: E402  (benchmarks/fashion_mnist.py)


def main():
    out = sys.argv[1]
    queries = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    train, test = fashion_mnist.load()
    test = test[:queries]
    t64 = train.astype(np.float64)
    # |q - x|^2 = |x|^2 - 2 q.x + |q|^2; the last term does not change the order
    d = (t64 ** 2).sum(1)[None, :] - 2 * test.astype(np.float64) @ t64.T
    neighbors = np.argsort(d, axis=1, kind="stable")[:, :100].astype(np.int32)
    with h5py.File(out, "w") as f:
        f.attrs["distance"] = "euclidean"
        f.attrs["point_type"] = "float"
        f.create_dataset("train", data=train)
        f.create_dataset("test", data=test)
        f.create_dataset("neighbors", data=neighbors)


if __name__ == "__main__":
    main()
