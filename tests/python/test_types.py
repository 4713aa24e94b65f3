"""Arguments the package cannot pass to C exactly are refused with InvalidArgumentError, before
any C call, and the collection is exactly as before: ids (negative, 2**64 - 1 and above, floats,
bools, strings), integer parameters (out of their C type's range or not integers), vectors
(complex, bool, string, object, ragged) and text with NUL characters."""
import subprocess
import sys

import numpy as np
import pytest

import vexfs

DIM = 4
NO_ID = 2**64 - 1
BAD_IDS = [-1, -2, NO_ID, 2**64, 2**64 + 3, 1.5, 3.0, True, "7", b"7", None, np.float64(2.0),
           np.bool_(True)]
BAD_ID_SEQUENCES = [[-2], [NO_ID], [2**64 + 3], [3.7], [3.0], [1, True], ["7"], [1, None],
                    np.array([-1]), np.array([NO_ID], dtype=np.uint64), np.array([1.5]),
                    np.array([3.0]), np.array([True]), np.array([[1], [2]]),
                    np.array([1, 2**64 + 3], dtype=object)]
BAD_VECTORS = [np.ones(DIM, dtype=np.complex64), [1 + 2j, 0, 0, 0], np.ones(DIM, dtype=bool),
               [True, False, True, False], ["1", "2", "3", "4"], np.array(["1", "2", "3", "4"]),
               np.array([1.0, 2, 3, 4], dtype=object), [1.0, None, 3.0, 4.0], "1234",
               [[1, 2, 3, 4], [1, 2, 3]], [[1, 2, 3, 4], 5]]
BAD_U32 = [-1, 2**32, 2**32 + 3, 1.5, 2.0, True, "5", None]
NUL_TEXT = '{"a":1}\x00junk'


def rows(n):
    return np.arange(n * DIM, dtype=np.float32).reshape(n, DIM) / 7


@pytest.fixture(params=["standalone", "database"])
def collection(request):
    """A collection holding ids 1, 2, 3 with payloads, on its own or in an in-memory database."""
    db = None
    if request.param == "standalone":
        c = vexfs.Collection(dim=DIM, index="flat")
    else:
        db = vexfs.Database()
        c = db.create_collection("docs", dim=DIM, index="flat")
    c.add([1, 2, 3], rows(3), payloads=[{"n": 1}, {"n": 2}, None])
    yield c
    c.close()
    if db is not None:
        db.close()


def state(c):
    """What a rejected call must leave as it was: ids, vectors, payloads."""
    ids = c.ids().tolist()
    return ids, [c.get(i).tolist() for i in ids], [c.get_payload(i) for i in ids]


def refused(c, call, *args, match=None, **kwargs):
    """call(*args, **kwargs) raises InvalidArgumentError and leaves c as it was."""
    before = state(c)
    with pytest.raises(vexfs.InvalidArgumentError, match=match):
        call(*args, **kwargs)
    assert state(c) == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_every_single_id_call_refuses_an_id_it_cannot_pass_exactly(collection, bad):
    c = collection
    refused(c, c.get, bad)
    refused(c, c.get_payload, bad)
    refused(c, c.set_payload, bad, {"x": 1})
    refused(c, c.set_payload, bad, None)
    refused(c, c.remove, bad)
    refused(c, c.add, [bad], rows(1))
    refused(c, c.batch_insert, [4, bad], rows(2))


@pytest.mark.parametrize("bad", BAD_ID_SEQUENCES, ids=repr)
def test_id_sequences_with_one_bad_id_are_refused_whole(collection, bad):
    c = collection
    refused(c, c.add, bad, rows(len(bad)))
    refused(c, c.remove, bad)


def test_the_reserved_id_and_minus_one_name_themselves():
    c = vexfs.Collection(dim=DIM)
    with pytest.raises(vexfs.InvalidArgumentError,
                       match=r"^id must be an integer 0..18446744073709551614, not -1$"):
        c.get(-1)
    with pytest.raises(vexfs.InvalidArgumentError, match=r"ids\[1\] must be .*, not 18446744073709551615"):
        c.add(np.array([5, NO_ID], dtype=np.uint64), rows(2))
    with pytest.raises(vexfs.InvalidArgumentError, match=r"ids\[2\] must be .*, not -4"):
        c.add(np.array([5, 6, -4]), rows(3))
    with pytest.raises(vexfs.InvalidArgumentError, match=r"ids must be integers, not an array of float64"):
        c.remove(np.array([3.0]))
    assert len(c) == 0


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                   np.uint32, np.uint64, ">u8", "<i4"])
def test_integer_arrays_of_every_dtype_are_ids(dtype):
    c = vexfs.Collection(dim=DIM)
    ids = np.array([0, 5, 100], dtype=dtype)
    c.add(ids, rows(3))
    assert c.ids().tolist() == [0, 5, 100]
    c.remove(ids[1:2])
    c.remove(ids[2])  # a numpy integer scalar
    assert c.ids().tolist() == [0]


def test_ids_beyond_int64_stay_exact():
    """numpy reads [1, 2**63] as float64; the package never does."""
    c = vexfs.Collection(dim=DIM)
    big = [1, 2**63, 2**63 + 1, NO_ID - 1]
    c.add(big, rows(4), payloads=[None, None, {"big": True}, None])
    assert c.ids().tolist() == big
    assert c.get_payload(np.uint64(2**63 + 1)) == {"big": True}
    assert c.get(NO_ID - 1).tolist() == rows(4)[3].tolist()
    ids, _ = c.search(rows(4)[2], k=1, filter={"must": [{"has_id": [np.uint64(2**63 + 1)]}]})
    assert ids.tolist() == [2**63 + 1]  # numpy ints in a filter dict reach C exactly
    c.remove([2**63])
    assert c.ids().tolist() == [1, 2**63 + 1, NO_ID - 1]


@pytest.mark.parametrize("bad", BAD_VECTORS, ids=repr)
def test_vectors_that_are_not_rows_of_real_numbers_are_refused(collection, bad):
    c = collection
    refused(c, c.add, [9], bad)
    refused(c, c.search, bad, k=2)
    refused(c, c.search, bad, k=2, with_payload=True)
    refused(c, c.search, [bad, bad], k=2)


def test_real_numbers_of_any_kind_are_rounded_to_float32_once():
    c = vexfs.Collection(dim=DIM, index="flat")
    c.add([1], [[1, 2, 3, 4]])                                    # Python ints
    c.add([2], np.array([[0.1, 0.2, 0.3, 0.4]], dtype=np.float64))
    c.add([3], np.array([[1, 0, 0, 1]], dtype=np.float16))
    c.add([4], np.array([[7, 8, 9, 10]], dtype=np.int64))
    assert c.get(1).tolist() == [1, 2, 3, 4]
    assert c.get(2).tolist() == np.float32([0.1, 0.2, 0.3, 0.4]).tolist()
    assert c.get(4).tolist() == [7, 8, 9, 10]
    assert c.search([1, 2, 3, 4], k=1)[0].tolist() == [1]


@pytest.mark.parametrize("bad", BAD_U32 + [0, 2**24 + 1], ids=repr)
def test_k_must_be_an_integer_from_1_to_max_k(collection, bad):
    c = collection
    one, two = rows(1)[0], rows(2)
    for queries in (one, two, one.tolist()):  # the single-query fast path, batches, lists
        refused(c, c.search, queries, k=bad, match="^k must be an integer 1..16777216, not")
        refused(c, c.search, queries, k=bad, with_payload=True, match="^k must be")


def test_k_as_a_numpy_integer_is_taken():
    c = vexfs.Collection(dim=DIM)
    c.add([1, 2, 3], rows(3))
    assert c.search(rows(1)[0], k=np.int32(2))[0].tolist() == [1, 2]


@pytest.mark.parametrize("name, bad", [(name, bad) for name in ("ef", "threads") for bad in BAD_U32
                                       if (name, bad) != ("ef", None)], ids=repr)  # None: default
def test_ef_and_threads_must_fit_uint32(collection, name, bad):
    c = collection
    c.search(rows(1)[0], k=1, **{name: 1})  # made and kept for reuse: 1.0 and True must not find it
    refused(c, c.search, rows(1)[0], k=1, **{name: bad}, match=f"^{name} must be an integer")
    refused(c, c.search, rows(2), k=1, filter={"must": []}, **{name: bad})


@pytest.mark.parametrize("field", ["dim", "m", "ef_construction", "ef_search", "threads"])
@pytest.mark.parametrize("bad", BAD_U32, ids=repr)
def test_collection_parameters_must_fit_uint32(field, bad):
    options = {"dim": DIM, field: bad}
    with pytest.raises(vexfs.InvalidArgumentError, match=f"^{field} must be an integer 0..4294967295"):
        vexfs.Collection(**options)
    with vexfs.Database() as db:
        with pytest.raises(vexfs.InvalidArgumentError, match=f"^{field} must be"):
            db.create_collection("c", **options)
        assert db.list_collections() == []


def test_a_seed_is_any_uint64_and_reads_back_exactly():
    for bad in (-1, 2**64, 1.5, True):
        with pytest.raises(vexfs.InvalidArgumentError, match="^seed must be an integer 0..18446744073709551615"):
            vexfs.Collection(dim=DIM, seed=bad)
    assert vexfs.Collection(dim=DIM, seed=2**64 - 1).config()["seed"] == 2**64 - 1


def test_dim_above_uint32_does_not_wrap():
    with pytest.raises(vexfs.InvalidArgumentError, match="dim must be an integer 0..4294967295, not 4294967300"):
        vexfs.Collection(dim=2**32 + 4)


@pytest.mark.parametrize("bad", [-1, 2**64, 1.5, "64", True])
def test_checkpoint_bytes_must_fit_uint64(bad, tmp_path):
    with pytest.raises(vexfs.InvalidArgumentError, match="^checkpoint_bytes must be an integer"):
        vexfs.Database(str(tmp_path / "db"), checkpoint_bytes=bad)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("text", [NUL_TEXT, NUL_TEXT.encode(), "\x00"], ids=repr)
def test_json_text_with_nul_is_refused_not_cut(collection, text):
    c = collection
    refused(c, c.add, [9], rows(1), payloads=[text], match="NUL character")
    refused(c, c.set_payload, 1, text, match="^payload contains a NUL character")
    refused(c, c.set_payload, 1, text, merge=True, match="NUL")
    refused(c, c.search, rows(1)[0], k=1, filter=text, match="^filter contains a NUL")


def test_nul_inside_a_dict_payload_round_trips():
    """A dict's strings are JSON-escaped (\\u0000): nothing is cut."""
    c = vexfs.Collection(dim=DIM)
    c.add([1], rows(1), payloads=[{"s": "a\x00b"}])
    assert c.get_payload(1) == {"s": "a\x00b"}


def test_a_dict_nested_past_what_json_encodes_is_refused(collection):
    """json.dumps gives up (RecursionError) on a dict nested 100 000 deep: InvalidArgumentError
    before any C call, for payloads and filters alike."""
    deep = {}
    for _ in range(100000):
        deep = {"a": deep}
    c = collection
    refused(c, c.add, [9], rows(1), payloads=[deep], match="cannot be encoded as JSON")
    refused(c, c.set_payload, 1, deep, match="cannot be encoded as JSON")
    refused(c, c.search, rows(1)[0], k=1, filter=deep, match="cannot be encoded as JSON")


def test_keys_names_and_paths_with_nul_are_refused(collection, tmp_path):
    c = collection
    refused(c, c.create_payload_index, "n\x00x", "numeric", match="^key contains a NUL")
    c.create_payload_index("n", "numeric")
    refused(c, c.drop_payload_index, "n\x00x", "numeric", match="^key contains a NUL")
    c.drop_payload_index("n", "numeric")  # the index "n" was still there
    refused(c, c.create_payload_index, 7, match="^key must be a str")
    with vexfs.Database() as db:
        db.create_collection("docs", dim=DIM)
        for call, args in ((db.create_collection, ("docs\x00x", DIM)),
                           (db.get_collection, ("docs\x00x",)), (db.drop_collection, ("docs\x00x",)),
                           (db.create_collection, (b"docs", DIM))):
            with pytest.raises(vexfs.InvalidArgumentError, match="^name "):
                call(*args)
        assert db.list_collections() == ["docs"]
    for path in (str(tmp_path / "db\x00x"), tmp_path / "db\x00x", b"db\x00x"):
        with pytest.raises(vexfs.InvalidArgumentError, match="^path contains a NUL"):
            vexfs.Database(path)
    assert list(tmp_path.iterdir()) == []


def test_names_of_choices_must_be_strings():
    for options in ({"metric": ["l2"]}, {"index": 2}, {"metric": "L2"}):
        with pytest.raises(vexfs.InvalidArgumentError, match="must be one of"):
            vexfs.Collection(dim=DIM, **options)
    with pytest.raises(vexfs.InvalidArgumentError, match="^sync must be one of"):
        vexfs.Database(sync=2)


@pytest.fixture
def client_collection():
    client = vexfs.Client()
    col = client.create_collection(name="docs", dimension=DIM, algorithm="flat")
    col.batch_insert(vectors=rows(3), ids=[1, 2, 3])
    yield col
    client.close()


@pytest.mark.parametrize("bad", [b for b in BAD_IDS if b is not None], ids=repr)  # None: assign
def test_client_calls_refuse_bad_ids(client_collection, bad):
    col = client_collection
    c = col.collection
    refused(c, col.insert, rows(1)[0], id=bad)
    refused(c, col.batch_insert, rows(2), ids=[4, bad])
    refused(c, col.insert_batch, rows(2), ids=[4, bad], batch_size=1)
    refused(c, col.get, bad)
    refused(c, col.get_metadata, bad)
    refused(c, col.delete, bad)
    refused(c, col.delete, [bad])
    assert col.batch_insert(vectors=rows(1)).ids == [4]  # assignment goes on past what is there


@pytest.mark.parametrize("bad", BAD_VECTORS, ids=repr)
def test_client_calls_refuse_bad_vectors(client_collection, bad):
    col = client_collection
    refused(col.collection, col.insert, bad)
    refused(col.collection, col.search, bad, limit=1)


def test_client_integer_options_are_exact(client_collection):
    col = client_collection
    c = col.collection
    for bad in (0, 1.5, True, "2", -1):
        refused(c, col.insert_batch, rows(2), batch_size=bad, match="^batch_size must be")
    for bad in (0, 1.5, 2**32, True):
        with pytest.raises(vexfs.InvalidArgumentError, match="^ef_search must be an integer 1.."):
            col.configure_search(bad)
    for bad in (2**32 + 3, 1.5, 0):
        refused(c, col.search, rows(1)[0], limit=bad, match="^k must be")
    refused(c, col.search, rows(1)[0], ef=0.0, match="^ef must be")
    client = vexfs.Client()
    for bad in ({"dimension": 1.5}, {"dimension": 2**32 + 4}, {"parameters": {"m": 2**32 + 16}}):
        with pytest.raises(vexfs.InvalidArgumentError, match="must be an integer"):
            client.create_collection(**{"name": "c", "dimension": DIM, **bad})
    assert client.list_collections() == []


def test_without_numpy_the_same_arguments_are_refused():
    code = """
import sys; sys.modules['numpy'] = None
import vexfs
c = vexfs.Collection(dim=2)
c.add([1], [[0.5, 1]])
refused = 0
for call in (lambda: c.get(-1), lambda: c.get(2**64 - 1), lambda: c.remove([1.5]),
             lambda: c.add([True], [[1, 1]]), lambda: c.add(['7'], [[1, 1]]),
             lambda: c.add([2], [['1', '2']]), lambda: c.add([2], [[True, False]]),
             lambda: c.add([2], [[1j, 0]]), lambda: c.add([2, 3], [[1, 2], [3]]),
             lambda: c.add([2], [[1, 2], 3]), lambda: c.add([2], 5),
             lambda: c.search([0, 0], k=2**32 + 3), lambda: c.search([0, 0], k=1.5),
             lambda: c.set_payload(1, '{}\\x00')):
    try:
        call()
    except vexfs.InvalidArgumentError:
        refused += 1
assert c.ids() == [1] and c.get(1) == [0.5, 1.0] and c.get_payload(1) is None
print(refused)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "14", out.stderr
