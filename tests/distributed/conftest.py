"""A Dask LocalCluster of 2 worker processes on loopback for the sharded-collection tests, and
the data they share. The workers import vexfs as this process does (PYTHONPATH and VEXFS_LIBRARY
are inherited)."""
import os

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")  # test.sh counts a skip as a failure


def start_cluster():
    """(cluster, client): 2 worker processes, 1 thread each, on 127.0.0.1. Every HTTP endpoint
    (scheduler and workers: health, metrics, a dashboard when bokeh is there) is put on loopback
    and a free port too: dashboard_address=None would still bind the scheduler's to 0.0.0.0:8787
    in this Dask (2022.12), and the workers' to 0.0.0.0."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                       worker_dashboard_address="127.0.0.1:0")
    return cluster, distributed.Client(cluster, timeout=60)


@pytest.fixture(scope="session")
def client():
    cluster, client = start_cluster()
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def own_client():
    """A cluster of its own, for tests that kill workers."""
    cluster, client = start_cluster()
    yield client
    client.close()
    cluster.close()


def worker_pids(client):
    """{worker address: its process id}."""
    return client.run(os.getpid)


def listening(pid):
    """The (address, port) pairs process pid listens on over TCP (IPv4 and IPv6), from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:  # 0A: LISTEN
                    address, port = local.split(":")
                    found.append((address, int(port, 16)))
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 as /proc writes them


def clustered(rng, n, dim, centres=20):
    """n float32 rows around `centres` random centres (ANN data with structure)."""
    c = rng.random((centres, dim), dtype=np.float32)
    return (c[rng.integers(0, centres, n)]
            + 0.05 * rng.standard_normal((n, dim), dtype=np.float32)).astype(np.float32)
