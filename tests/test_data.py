"""tapegrad.utils.data against torch.utils.data: datasets, samplers, collation and the DataLoader."""
import ast
import collections.abc
import math
import pathlib
import re
import warnings
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data  # noqa: F401  (makes torch.utils.data an attribute for lib.utils.data)
from hypothesis import given, settings, strategies as st

import tapegrad
import tapegrad.utils.data  # noqa: F401  (the same for tapegrad.utils.data)
from conftest import assert_tensor_equal, capture, expect_same_error

Point = namedtuple("Point", ["x", "y"])


def data_of(lib):
    return lib.utils.data


def assert_same(ours, theirs, path="result"):
    """Same structure, container types and values; tapegrad tensors stand where torch has tensors."""
    if isinstance(theirs, torch.Tensor):
        assert_tensor_equal(ours, theirs, what=path)
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad differs"
        return
    assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), path
    elif isinstance(theirs, collections.abc.Mapping):
        assert list(ours) == list(theirs), f"{path}: keys {list(ours)} != {list(theirs)}"
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} != {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{path}[{i}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def same_outcome(fn):
    """fn(lib) in both libraries: equal results, or the same exception type and message."""
    (ours, our_err), (theirs, their_err) = capture(fn, tapegrad), capture(fn, torch)
    if their_err is not None:
        assert type(our_err) is type(their_err), f"torch raised {their_err!r}, tapegrad gave {our_err or ours!r}"
        assert str(our_err) == str(their_err)
    else:
        assert our_err is None, f"tapegrad raised {our_err!r}"
        assert_same(ours, theirs)
    return ours, theirs


def recorded_warnings(fn):
    """[(category, message)] of every warning fn() emits (warnings are errors elsewhere in this suite)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in caught]


# ---------------------------------------------------------------------------------------------------
# Samples: one builder per kind of dataset item, run in each library on the same values.

def sample_tensor(lib, i):
    return lib.tensor([i, i + 0.5])


def sample_pair(lib, i):
    return lib.tensor([[i, -i], [2 * i, 1]], dtype=lib.float64), i


def sample_dict(lib, i):
    return {"x": lib.tensor(i), "weight": i / 4, "name": f"n{i}", "flag": i % 2 == 0}


def sample_nested(lib, i):
    return Point(x=[lib.tensor([i], dtype=lib.int32), (i, 1.5)], y={"a": np.float32(i), "b": np.arange(3) * i})


def sample_numpy(lib, i):
    return np.full((2, 2), i, dtype=np.float32), np.int64(i), np.bool_(i % 3 == 0)


SAMPLES = {"tensor": sample_tensor, "pair": sample_pair, "dict": sample_dict, "nested": sample_nested,
           "numpy": sample_numpy}


class ListDataset:
    """The samples of one library, as a plain map-style dataset (the DataLoader needs only len/getitem)."""

    def __init__(self, lib, kind, n):
        self.items = [SAMPLES[kind](lib, i) for i in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def loader_batches(lib, kind, n, **kwargs):
    loader = data_of(lib).DataLoader(ListDataset(lib, kind, n), **kwargs)
    return len(loader), list(loader)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, True), (7, False),
                                                  (7, True), (None, False)])
def test_unshuffled_batches_match_torch(kind, batch_size, drop_last):
    same_outcome(lambda lib: loader_batches(lib, kind, 7, batch_size=batch_size, drop_last=drop_last))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 25), batch_size=st.one_of(st.none(), st.integers(1, 9)), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_len_and_sequential_batches_hypothesis(n, batch_size, drop_last, shuffle):
    drop_last = drop_last and batch_size is not None

    def run(lib):
        ds = data_of(lib).TensorDataset(lib.arange(n), lib.arange(n, dtype=lib.float64) * 1.5)
        loader = data_of(lib).DataLoader(ds, batch_size=batch_size, drop_last=drop_last, shuffle=shuffle)
        return len(loader), None if shuffle else list(loader)

    ours, theirs = same_outcome(run)
    if theirs is not None and batch_size is not None:
        full, tail = divmod(n, batch_size)
        assert ours[0] == full + (tail > 0 and not drop_last)


def test_batch_size_none_yields_converted_samples():
    same_outcome(lambda lib: list(data_of(lib).DataLoader([np.arange(3), (np.float64(2), "s"), 4],
                                                          batch_size=None)))


# ---------------------------------------------------------------------------------------------------
# default_collate and default_convert.

COLLATE_BATCHES = {
    "ints": lambda lib: [1, 2, 3],
    "floats": lambda lib: [1.5, 2.0, -3.25],
    "bools": lambda lib: [True, False],
    "int_then_float": lambda lib: [1, 2.5],
    "float_then_int": lambda lib: [2.5, 1],
    "bool_then_int": lambda lib: [True, 2],
    "strs": lambda lib: ["a", "bc"],
    "bytes": lambda lib: [b"a", b"bc"],
    "tensors_f32": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "tensors_0d_int": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "tensors_bool": lambda lib: [lib.tensor([[True]]), lib.tensor([[False]])],
    "tensors_grad": lambda lib: [lib.ones(2, requires_grad=True), lib.zeros(2)],
    "np_f32": lambda lib: [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "np_f64": lambda lib: [np.arange(3.0), np.arange(3.0) + 1],
    "np_i32": lambda lib: [np.arange(4, dtype=np.int32)] * 2,
    "np_i64_0d": lambda lib: [np.array(3), np.array(4)],
    "np_bool": lambda lib: [np.array([True, False])] * 3,
    "np_noncontiguous": lambda lib: [np.arange(6.0).reshape(2, 3).T, np.ones((3, 2))],
    "np_scalar_f32": lambda lib: [np.float32(1.5), np.float32(2)],
    "np_scalar_f64": lambda lib: [np.float64(1.5), np.float64(2)],
    "np_scalar_i32": lambda lib: [np.int32(1), np.int32(2)],
    "np_scalar_i64": lambda lib: [np.int64(1), np.int64(2)],
    "np_scalar_bool": lambda lib: [np.bool_(True), np.bool_(False)],
    "np_scalar_mixed": lambda lib: [np.float32(1), np.float64(2)],
    "tuples": lambda lib: [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": lambda lib: [[1, 2], [3, 4]],
    "namedtuples": lambda lib: [Point(1, lib.tensor([1.0])), Point(2, lib.tensor([2.0]))],
    "dicts": lambda lib: [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    "ordered_dicts": lambda lib: [OrderedDict(z=1, a=2.0), OrderedDict(z=3, a=4.0)],
    "defaultdicts": lambda lib: [defaultdict(list, k=1), defaultdict(list, k=2)],
    "ranges": lambda lib: [range(2), range(1, 3)],
    "deep": lambda lib: [{"p": Point([lib.tensor(1.0), ("s", b"t")], {"n": np.int32(i)}), "q": [(i, True)]}
                         for i in range(3)],
}


@pytest.mark.parametrize("name", sorted(COLLATE_BATCHES))
def test_default_collate_matches_torch(name):
    same_outcome(lambda lib: data_of(lib).default_collate(COLLATE_BATCHES[name](lib)))


@pytest.mark.parametrize("name", sorted(COLLATE_BATCHES))
def test_default_convert_matches_torch(name):
    same_outcome(lambda lib: [data_of(lib).default_convert(sample) for sample in COLLATE_BATCHES[name](lib)])


def test_default_convert_leaves_string_arrays_and_plain_values():
    same_outcome(lambda lib: data_of(lib).default_convert([np.array(["a", "b"]), np.array([object()] * 0), 3, "x",
                                                           (np.float32(1),), Point(np.array(1), 2)]))


COLLATE_ERRORS = {
    "ragged_lists": lambda lib: [[1, 2], [3]],
    "ragged_tuples": lambda lib: [(1,), (2, 3)],
    "unsupported": lambda lib: [object(), object()],
    "none": lambda lib: [None, None],
    "string_array": lambda lib: [np.array(["a"]), np.array(["b"])],
    "object_array": lambda lib: [np.array([None]), np.array([None])],
    "unequal_tensors": lambda lib: [lib.zeros(2), lib.zeros(3)],
    "empty_batch": lambda lib: [],
}


@pytest.mark.parametrize("name", sorted(COLLATE_ERRORS))
def test_default_collate_errors_match_torch(name):
    expect_same_error(lambda lib: data_of(lib).default_collate(COLLATE_ERRORS[name](lib)))


def test_custom_collate_fn_receives_the_sample_list():
    seen = []

    def run(lib):
        seen.clear()
        loader = data_of(lib).DataLoader(list(range(5)), batch_size=2, collate_fn=lambda b: seen.append(b) or sum(b))
        return list(loader), list(seen)

    same_outcome(run)


# ---------------------------------------------------------------------------------------------------
# DataLoader arguments: checks, errors, and what the loader exposes.

def tensor_ds(lib, n=6):
    return data_of(lib).TensorDataset(lib.arange(n))


def make_stream(lib, n, sized=False):
    """An IterableDataset of 0..n-1 in `lib`; with __len__ when sized."""
    base = data_of(lib).IterableDataset
    body = {"__iter__": lambda self: iter(range(n))}
    if sized:
        body["__len__"] = lambda self: n
    return type("Stream", (base,), body)()


LOADER_ERRORS = {
    "sampler_and_shuffle": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), sampler=[0, 1], shuffle=True),
    "batch_sampler_and_batch_size": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_sampler=[[0]],
                                                                        batch_size=2),
    "batch_sampler_and_shuffle": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_sampler=[[0]], shuffle=True),
    "batch_sampler_and_sampler": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_sampler=[[0]],
                                                                     sampler=[0]),
    "batch_sampler_and_drop_last": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_sampler=[[0]],
                                                                       drop_last=True),
    "no_batching_and_drop_last": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_size=None, drop_last=True),
    "batch_size_zero": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_size=0),
    "batch_size_negative": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_size=-2),
    "batch_size_float": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_size=2.0),
    "batch_size_bool": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), batch_size=True),
    "drop_last_not_bool": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), drop_last=1),
    "num_workers_negative": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), num_workers=-1),
    "timeout_negative": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), timeout=-1),
    "prefetch_without_workers": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), prefetch_factor=2),
    "prefetch_negative": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), num_workers=1, prefetch_factor=-1),
    "persistent_without_workers": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), persistent_workers=True),
    "context_without_workers": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), multiprocessing_context="spawn"),
    "context_unknown_method": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), num_workers=1,
                                                                  multiprocessing_context="teleport"),
    "context_wrong_type": lambda lib: data_of(lib).DataLoader(tensor_ds(lib), num_workers=1,
                                                              multiprocessing_context=3),
    "iterable_and_shuffle": lambda lib: data_of(lib).DataLoader(make_stream(lib, 3), shuffle=True),
    "iterable_and_sampler": lambda lib: data_of(lib).DataLoader(make_stream(lib, 3), sampler=[0, 1]),
    "iterable_and_batch_sampler": lambda lib: data_of(lib).DataLoader(make_stream(lib, 3), batch_sampler=[[0]]),
    "iterable_shuffle_before_sampler": lambda lib: data_of(lib).DataLoader(make_stream(lib, 3), shuffle=1,
                                                                           sampler=[0]),
    "shuffle_empty_dataset": lambda lib: data_of(lib).DataLoader(tensor_ds(lib, 0), shuffle=True),
    "timeout_without_workers_at_iter": lambda lib: iter(data_of(lib).DataLoader(tensor_ds(lib), timeout=1)),
    "len_of_unsized_iterable": lambda lib: len(data_of(lib).DataLoader(make_stream(lib, 3))),
    "len_of_unsized_sampler": lambda lib: len(data_of(lib).DataLoader(tensor_ds(lib), sampler=iter([0, 1]))),
}


@pytest.mark.parametrize("name", sorted(LOADER_ERRORS))
def test_dataloader_argument_errors_match_torch(name):
    expect_same_error(LOADER_ERRORS[name])


@pytest.mark.parametrize("attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                  "persistent_workers"])
def test_dataloader_attributes_frozen_after_init(attr):
    def run(lib):
        setattr(data_of(lib).DataLoader(tensor_ds(lib)), attr, None)

    expect_same_error(run)


def test_dataloader_mutable_attributes_and_defaults():
    def run(lib):
        loader = data_of(lib).DataLoader(tensor_ds(lib), num_workers=2, persistent_workers=True,
                                         multiprocessing_context="spawn")
        loader.num_workers = 0  # not frozen in torch either
        return (loader.batch_size, loader.drop_last, loader.prefetch_factor, loader.timeout, loader.pin_memory,
                loader.persistent_workers, loader.in_order, loader.num_workers,
                type(loader.sampler).__name__, type(loader.batch_sampler).__name__,
                type(loader.multiprocessing_context).__name__,
                loader.collate_fn is data_of(lib).default_collate)

    same_outcome(run)


@pytest.mark.parametrize("batch_size,expected_collate", [(2, "default_collate"), (None, "default_convert")])
def test_default_collate_fn_choice(batch_size, expected_collate):
    loader = tapegrad.utils.data.DataLoader(tensor_ds(tapegrad), batch_size=batch_size)
    assert loader.collate_fn is getattr(tapegrad.utils.data, expected_collate)
    theirs = torch.utils.data.DataLoader(tensor_ds(torch), batch_size=batch_size)
    assert theirs.collate_fn is getattr(torch.utils.data, expected_collate)


def test_custom_sampler_and_batch_sampler_match_torch():
    def run(lib):
        ds = ListDataset(lib, "pair", 8)
        by_sampler = list(data_of(lib).DataLoader(ds, sampler=[7, 0, 3, 3], batch_size=3))
        by_batches = list(data_of(lib).DataLoader(ds, batch_sampler=[[1, 2], [5], [0, 0, 6]]))
        lens = (len(data_of(lib).DataLoader(ds, sampler=[7, 0, 3, 3], batch_size=3)),
                len(data_of(lib).DataLoader(ds, batch_sampler=[[1, 2], [5], [0, 0, 6]])))
        return by_sampler, by_batches, lens

    same_outcome(run)


def test_getitems_is_used_for_batches():
    def run(lib):
        calls = []

        class Batched(data_of(lib).Dataset):
            def __getitem__(self, i):
                return i

            def __getitems__(self, indices):
                calls.append(list(indices))
                return [10 * i for i in indices]

            def __len__(self):
                return 5

        return list(data_of(lib).DataLoader(Batched(), batch_size=2)), calls, list(
            data_of(lib).DataLoader(Batched(), batch_size=None))

    same_outcome(run)


def test_num_workers_runs_in_process_like_torch_without_workers():
    def run(lib, workers, **kw):
        ds = ListDataset(lib, "dict", 9)
        return list(data_of(lib).DataLoader(ds, batch_size=4, num_workers=workers, **kw))

    theirs = run(torch, 0)
    for kw in ({}, {"persistent_workers": True}, {"prefetch_factor": 5}, {"timeout": 3}):
        loader_out = run(tapegrad, 3, **kw)
        assert_same(loader_out, theirs)


def test_worker_init_fn_is_not_called_and_no_worker_info():
    called = []
    loader = tapegrad.utils.data.DataLoader(tensor_ds(tapegrad), num_workers=2, worker_init_fn=called.append,
                                            collate_fn=lambda b: tapegrad.utils.data.get_worker_info())
    assert list(loader) == [None] * 6
    assert called == []
    assert tapegrad.utils.data.get_worker_info() is None and torch.utils.data.get_worker_info() is None


def test_iterator_len_and_reiteration():
    def run(lib):
        loader = data_of(lib).DataLoader(tensor_ds(lib, 7), batch_size=3)
        it = iter(loader)
        first = next(it)
        return len(it), first, list(it), list(loader), list(loader)

    same_outcome(run)


def test_pin_memory_warnings_match_torch():
    def run(lib, **kw):
        return recorded_warnings(lambda: list(data_of(lib).DataLoader(tensor_ds(lib), pin_memory=True, **kw)))

    for kw in ({}, {"pin_memory_device": "cuda"}):
        theirs = run(torch, **kw)
        if tapegrad.cuda.is_available():  # tapegrad found an accelerator; torch (CPU build) did not
            theirs = [w for w in theirs if "no accelerator" not in w[1]]
        assert run(tapegrad, **kw) == theirs


# ---------------------------------------------------------------------------------------------------
# Iterable-style datasets.

@pytest.mark.parametrize("n", [0, 1, 5, 6])
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (2, False), (2, True), (3, True), (None, False)])
def test_iterable_dataset_batches_and_len_match_torch(n, batch_size, drop_last):
    def run(lib):
        loader = data_of(lib).DataLoader(make_stream(lib, n, sized=True), batch_size=batch_size, drop_last=drop_last)
        return len(loader), list(loader)

    same_outcome(run)


def test_iterable_dataset_longer_than_reported_warns_like_torch():
    def run(lib):
        ds = make_stream(lib, 5)
        type(ds).__len__ = lambda self: 3  # reports fewer samples than it yields
        loader = data_of(lib).DataLoader(ds, batch_size=None)
        len(loader)
        return recorded_warnings(lambda: list(loader))

    def normalise(found):
        return [(cat, re.sub(r"<[^>]*>", "<dataset>", msg)) for cat, msg in found]

    ours, theirs = normalise(run(tapegrad)), normalise(run(torch))
    assert ours == theirs and len(theirs) == 2


def test_chain_dataset_by_addition():
    def run(lib):
        chained = make_stream(lib, 3, sized=True) + make_stream(lib, 2, sized=True)
        return type(chained).__name__, len(chained), list(chained), list(data_of(lib).DataLoader(chained, batch_size=2))

    same_outcome(run)


def test_chain_dataset_rejects_map_datasets():
    expect_same_error(lambda lib: list(data_of(lib).ChainDataset([tensor_ds(lib)])))
    expect_same_error(lambda lib: len(data_of(lib).ChainDataset([tensor_ds(lib)])))


# ---------------------------------------------------------------------------------------------------
# Shuffling: tapegrad's random stream is its own, so only the semantics are compared.

def epochs(loader, count):
    return [[t.tolist() for t, in loader] for _ in range(count)]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), batch_size=st.integers(1, 8), drop_last=st.booleans(), seed=st.integers(0, 2**31))
def test_shuffled_epochs_are_reproducible_permutations(n, batch_size, drop_last, seed):
    def loader():
        return tapegrad.utils.data.DataLoader(tensor_ds(tapegrad, n), batch_size=batch_size, shuffle=True,
                                              drop_last=drop_last,
                                              generator=tapegrad.Generator().manual_seed(seed))

    first, again = epochs(loader(), 3), epochs(loader(), 3)
    assert first == again
    full, tail = divmod(n, batch_size)
    for batches in first:
        assert len(batches) == len(loader()) == full + (tail > 0 and not drop_last)
        assert all(len(b) == batch_size for b in batches[:full])
        seen = [i for b in batches for i in b]
        assert len(set(seen)) == len(seen) and set(seen) <= set(range(n))
        assert len(seen) == (full * batch_size if drop_last else n)


def test_shuffle_differs_across_epochs_and_seeds():
    def orders(seed):
        loader = tapegrad.utils.data.DataLoader(tensor_ds(tapegrad, 20), batch_size=20, shuffle=True,
                                                generator=tapegrad.Generator().manual_seed(seed))
        return epochs(loader, 2)

    a1, a2 = orders(1)
    b1, _ = orders(2)
    assert a1 != a2 and a1 != b1
    assert sorted(a1[0]) == list(range(20)) and a1[0] != list(range(20))


def test_shuffle_without_generator_follows_manual_seed():
    loader = tapegrad.utils.data.DataLoader(tensor_ds(tapegrad, 12), batch_size=5, shuffle=True)
    tapegrad.manual_seed(7)
    first = epochs(loader, 2)
    tapegrad.manual_seed(7)
    assert epochs(loader, 2) == first and first[0] != first[1]


def test_shuffle_false_or_none_is_sequential():
    for shuffle in (False, None, 0):
        loader = tapegrad.utils.data.DataLoader(tensor_ds(tapegrad, 5), batch_size=2, shuffle=shuffle)
        assert [b.tolist() for b, in loader] == [[0, 1], [2, 3], [4]]


# ---------------------------------------------------------------------------------------------------
# Samplers.

@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 20), batch_size=st.integers(1, 7), drop_last=st.booleans())
def test_sequential_and_batch_sampler_match_torch(n, batch_size, drop_last):
    def run(lib):
        seq = data_of(lib).SequentialSampler(range(n))
        batches = data_of(lib).BatchSampler(seq, batch_size, drop_last)
        return list(seq), len(seq), list(batches), len(batches)

    same_outcome(run)


SAMPLER_ERRORS = {
    "replacement_not_bool": lambda lib: data_of(lib).RandomSampler(range(3), replacement=1),
    "num_samples_zero": lambda lib: data_of(lib).RandomSampler(range(3), num_samples=0),
    "num_samples_float": lambda lib: data_of(lib).RandomSampler(range(3), num_samples=2.0),
    "empty_source": lambda lib: data_of(lib).RandomSampler([]),
    "batch_size_zero": lambda lib: data_of(lib).BatchSampler(range(3), 0, False),
    "drop_last_none": lambda lib: data_of(lib).BatchSampler(range(3), 2, None),
    "base_iter": lambda lib: iter(data_of(lib).Sampler()),
    "base_len": lambda lib: len(data_of(lib).Sampler()),
}


@pytest.mark.parametrize("name", sorted(SAMPLER_ERRORS))
def test_sampler_errors_match_torch(name):
    expect_same_error(SAMPLER_ERRORS[name])


@pytest.mark.parametrize("n,num_samples", [(5, None), (5, 3), (5, 12), (1, 4)])
def test_random_sampler_without_replacement(n, num_samples):
    sampler = tapegrad.utils.data.RandomSampler(range(n), num_samples=num_samples,
                                                generator=tapegrad.Generator().manual_seed(3))
    drawn = list(sampler)
    count = n if num_samples is None else num_samples
    assert len(sampler) == len(drawn) == count
    for start in range(0, count, n):  # each block of n is (a prefix of) a permutation
        block = drawn[start:start + n]
        assert len(set(block)) == len(block) and set(block) <= set(range(n))


@pytest.mark.parametrize("num_samples", [1, 31, 32, 33, 100])
def test_random_sampler_with_replacement(num_samples):
    def draw():
        sampler = tapegrad.utils.data.RandomSampler(range(4), replacement=True, num_samples=num_samples,
                                                    generator=tapegrad.Generator().manual_seed(11))
        return len(sampler), list(sampler)

    length, drawn = draw()
    assert length == len(drawn) == num_samples and set(drawn) <= set(range(4))
    assert all(type(i) is int for i in drawn)
    assert draw() == (length, drawn)
    if num_samples == 100:
        assert len(set(drawn)) > 1


def test_subset_random_sampler():
    indices = [10, 20, 30, 40]
    sampler = tapegrad.utils.data.SubsetRandomSampler(indices, generator=tapegrad.Generator().manual_seed(0))
    assert len(sampler) == 4 and sorted(sampler) == indices


# ---------------------------------------------------------------------------------------------------
# Datasets.

def test_tensor_dataset_matches_torch():
    def run(lib):
        ds = data_of(lib).TensorDataset(lib.arange(4), lib.ones(4, 2, dtype=lib.float64), lib.tensor([True] * 4))
        return len(ds), ds[1], ds[-1], ds[1:3], len(ds.tensors)

    same_outcome(run)


def test_tensor_dataset_errors_match_torch():
    expect_same_error(lambda lib: data_of(lib).TensorDataset(lib.zeros(3), lib.zeros(4)))
    expect_same_error(lambda lib: len(data_of(lib).TensorDataset()))  # built fine, fails when used
    expect_same_error(lambda lib: data_of(lib).TensorDataset(lib.zeros(3))[3])


def test_dataset_base_and_addition():
    expect_same_error(lambda lib: data_of(lib).Dataset()[0])
    expect_same_error(lambda lib: len(data_of(lib).Dataset()))

    def run(lib):
        joined = tensor_ds(lib, 2) + tensor_ds(lib, 3) + tensor_ds(lib, 1)
        return type(joined).__name__, len(joined), joined.cumulative_sizes, [joined[i] for i in range(-6, 6)]

    same_outcome(run)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=4), data=st.data())
def test_concat_dataset_indexing_hypothesis(sizes, data):
    parts = [[(k, j) for j in range(size)] for k, size in enumerate(sizes)]
    total = sum(sizes)
    idx = data.draw(st.integers(-total - 2, total + 1))
    same_outcome(lambda lib: data_of(lib).ConcatDataset(parts)[idx])
    same_outcome(lambda lib: (len(data_of(lib).ConcatDataset(parts)),
                              data_of(lib).ConcatDataset(parts).cumulative_sizes))


def test_concat_dataset_errors_match_torch():
    expect_same_error(lambda lib: data_of(lib).ConcatDataset([]))
    expect_same_error(lambda lib: data_of(lib).ConcatDataset([[1], make_stream(lib, 2)]))


def test_subset_matches_torch():
    def run(lib):
        base = tensor_ds(lib, 6)
        sub = data_of(lib).Subset(base, [5, 1, 3])
        nested = data_of(lib).Subset(sub, [2, 0])
        return (len(sub), sub[0], sub[-1], nested[1], nested.__getitems__([0, 1]),
                list(data_of(lib).DataLoader(nested, batch_size=2)),
                data_of(lib).Subset(list(range(10)), [4, 2]).__getitems__([1, 0]))

    same_outcome(run)


def test_subset_subclass_overriding_only_getitem_is_refused():
    def run(lib):
        cls = type("Doubled", (data_of(lib).Subset,), {"__getitem__": lambda self, i: 2 * i})
        return cls([1, 2], [0])

    expect_same_error(run)

    def fine(lib):
        body = {"__getitem__": lambda self, i: 2 * i,
                "__getitems__": lambda self, idx: [2 * i for i in idx]}
        return list(data_of(lib).DataLoader(type("Doubled", (data_of(lib).Subset,), body)([1, 2], [0, 1]),
                                            batch_size=2))

    same_outcome(fine)


# ---------------------------------------------------------------------------------------------------
# random_split.

def split_lengths(lib, n, lengths):
    parts = data_of(lib).random_split(list(range(n)), lengths)
    return [type(p).__name__ for p in parts], [len(p) for p in parts]


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0, 10]), (7, [0.5, 0.5]), (10, [0.3, 0.3, 0.4]),
                                       (5, [0.1, 0.1, 0.8]), (3, [1.0]), (0, [0]), (11, [0.25, 0.25, 0.25, 0.25]),
                                       (4, [1, 1, 1, 1]), (2, [2])])
def test_random_split_lengths_match_torch(n, lengths):
    same_outcome(lambda lib: split_lengths(lib, n, lengths))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), weights=st.lists(st.integers(0, 20), min_size=1, max_size=5).filter(any))
def test_random_split_fraction_rule_hypothesis(n, weights):
    total = sum(weights)
    fractions = [w / total for w in weights]

    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = split_lengths(lib, n, fractions)
        return result, [str(w.message) for w in caught]

    same_outcome(run)


RANDOM_SPLIT_ERRORS = {
    "sum_too_small": (10, [3, 3]),
    "sum_too_large": (10, [8, 8]),
    "fractions_not_one": (10, [0.5, 0.3]),
    "fraction_negative": (10, [1.5, -0.5]),
}


@pytest.mark.parametrize("name", sorted(RANDOM_SPLIT_ERRORS))
def test_random_split_errors_match_torch(name):
    n, lengths = RANDOM_SPLIT_ERRORS[name]
    expect_same_error(lambda lib: data_of(lib).random_split(list(range(n)), lengths))


def test_random_split_zero_length_warning_matches_torch():
    def run(lib):
        return recorded_warnings(lambda: data_of(lib).random_split(list(range(2)), [0.2, 0.2, 0.6]))

    ours, theirs = run(tapegrad), run(torch)
    assert ours == theirs and theirs


@pytest.mark.parametrize("lengths", [[4, 0, 6], [0.5, 0.2, 0.3]])
def test_random_split_is_a_reproducible_partition(lengths):
    def split(seed):
        parts = tapegrad.utils.data.random_split(list(range(10)), lengths,
                                                 generator=tapegrad.Generator().manual_seed(seed))
        return [list(p) for p in parts]

    parts = split(5)
    assert sorted(i for p in parts for i in p) == list(range(10))
    assert split(5) == parts and split(6) != parts
    tapegrad.manual_seed(1)
    default = [list(p) for p in tapegrad.utils.data.random_split(list(range(10)), lengths)]
    tapegrad.manual_seed(1)
    assert [list(p) for p in tapegrad.utils.data.random_split(list(range(10)), lengths)] == default


# ---------------------------------------------------------------------------------------------------
# Packaging.

def test_public_names_exist_in_torch():
    ours = set(tapegrad.utils.data.__all__)
    assert ours <= set(dir(torch.utils.data))
    assert tapegrad.utils.data.DataLoader.__module__ == "tapegrad.utils.data.dataloader"


def test_modules_do_not_import_numpy_at_import_time():
    """numpy may only be imported inside functions: tapegrad's own import must stay fast."""
    root = pathlib.Path(tapegrad.__file__).parent / "utils"
    files = sorted(root.rglob("*.py"))
    assert len(files) == 5
    for path in files:
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "numpy" for n in names), f"{path.name} imports numpy at import time"


def test_len_of_huge_dataset_matches_torch():
    # len(DataLoader) must be exact integer arithmetic, even where n / b is not exact in a float.
    def run(lib):
        return [len(data_of(lib).DataLoader(range(10**12 + 1), batch_size=b, drop_last=d))
                for b in (1, 3, 10**6) for d in (False, True)]

    ours, _ = same_outcome(run)
    assert ours[2] == math.ceil((10**12 + 1) / 3)
