"""Loads Debian's dataset-fashion-mnist (IDX files) as float32 arrays, pixels 0..255."""
import gzip
import os

import numpy as np

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def _images(name):
    with gzip.open(os.path.join(DATA_DIR, name), "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32)


def load():
    """(train 60000x784, test 10000x784), C-contiguous float32."""
    return _images("train-images-idx3-ubyte.gz"), _images("t10k-images-idx3-ubyte.gz")
