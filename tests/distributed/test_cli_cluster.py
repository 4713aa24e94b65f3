"""The README's way of running on a real cluster, on loopback: `dask scheduler` and two
`dask worker` processes started from the command line (a scheduler file for the address), a
durable sharded collection made, closed and reopened through them."""
import os
import shutil
import subprocess
import time

import distributed
import numpy as np

import vexfs
from vexfs.distributed import ShardedCollection


def start(argv, log):
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=os.environ)


def test_dask_command_line_cluster(tmp_path):
    dask = shutil.which("dask")
    assert dask, "the dask command (python3-distributed) is missing"
    address_file = str(tmp_path / "scheduler.json")
    log = open(tmp_path / "cluster.log", "w")
    processes = [start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--dashboard-address", "127.0.0.1:0", "--scheduler-file", address_file],
                       log)]
    try:
        for _ in range(2):
            processes.append(start([dask, "worker", "--scheduler-file", address_file,
                                    "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                                    "--nthreads", "1", "--nworkers", "1"], log))
        deadline = time.monotonic() + 60
        while not os.path.exists(address_file):
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        with distributed.Client(scheduler_file=address_file, timeout=60,
                                direct_to_workers=True) as client:
            client.wait_for_workers(2, timeout=60)
            rng = np.random.default_rng(12)
            rows = rng.random((500, 16), dtype=np.float32)
            sc = ShardedCollection.create(client, "cli", 16, shards=4, index="flat",
                                          path=tmp_path / "db")
            sc.add(np.arange(500), rows, [{"n": i} for i in range(500)])
            assert len(set(sc.workers().values())) == 2  # spread over both workers
            sc.close()
            sc = ShardedCollection.open(client, tmp_path / "db")
            try:
                exact = vexfs.Collection(16, index="flat")
                exact.add(np.arange(500), rows)
                got, want = sc.search(rows[:20], k=5), exact.search(rows[:20], k=5)
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
                assert sc.get_payload(42) == {"n": 42}
            finally:
                sc.close()
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in reversed(processes):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
