"""DataLoader and its collate functions: batches of samples from a dataset, as torch.utils.data.DataLoader.

tapegrad has no worker processes: every DataLoader loads in the calling process. num_workers > 0 is
accepted (its argument checks are torch's) and then runs exactly as num_workers=0 would, which keeps
torch's results: the same batches, in the same order, from the same sampler.
"""
import collections.abc
import copy
import math
import re
import sys
import warnings

import tapegrad
from tapegrad.utils.data.dataset import IterableDataset
from tapegrad.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# numpy dtype kinds a tensor cannot hold: bytes, unicode, void-as-bytes, object.
_STR_OR_OBJECT_DTYPE = re.compile(r"[SaUO]")
_COLLATE_TYPE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def get_worker_info():
    """Always None: data is loaded in the calling process, never in a worker."""
    return None


def _numpy():
    """numpy if it is loaded; an object can only be a numpy array or scalar if it is, so no import here."""
    return sys.modules.get("numpy")


def _rebuild_mapping(template, values):
    """A mapping like `template` holding `values`; a plain dict when its type cannot be rebuilt."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            # Copy then update, so subclasses keep their extra state (defaultdict's factory, ...).
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values


def _rebuild_sequence(template, items):
    """A sequence like `template` holding `items`; a list when its type cannot be rebuilt (range, ...)."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields")


def default_convert(data):
    """Turns numpy arrays and scalars, however nested, into tensors; leaves everything else alone.

    The DataLoader's collate_fn when automatic batching is off (batch_size=None).
    """
    kind = type(data)
    if isinstance(data, tapegrad.Tensor):
        return data
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "string_"):
        if kind.__name__ == "ndarray" and _STR_OR_OBJECT_DTYPE.search(data.dtype.str):
            return data
        return tapegrad.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch gives a list for a tuple
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _collate_numpy(batch, np):
    """Collates numpy arrays or numpy scalars; None when batch[0] is neither."""
    elem = batch[0]
    if isinstance(elem, np.ndarray):
        if _STR_OR_OBJECT_DTYPE.search(elem.dtype.str):
            raise TypeError(_COLLATE_TYPE_ERROR.format(elem.dtype))
        return default_collate([tapegrad.as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return tapegrad.as_tensor(batch)
    return None


def default_collate(batch):
    """Merges a list of samples into a batch, the way torch's default_collate does.

    Tensors are stacked on a new first dimension; numpy arrays and scalars become tensors; Python
    floats a float64 tensor, ints (and bools) an int64 (bool) tensor; str and bytes are left as the
    batch holds them (a list at the top, a tuple inside a container).
    Containers are collated field by field: mappings per key, namedtuples per field, and other
    sequences by position (a tuple gives a list, as in torch).
    """
    elem = batch[0]
    # Checked in torch's order: numpy scalars before float, since numpy.float64 is a float.
    if isinstance(elem, tapegrad.Tensor):
        return tapegrad.stack(batch, 0)
    np = _numpy()
    if np is not None:
        collated = _collate_numpy(batch, np)
        if collated is not None:
            return collated
    if isinstance(elem, float):
        return tapegrad.tensor(batch, dtype=tapegrad.float64)
    if isinstance(elem, int):
        return tapegrad.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # Fields stay the tuples zip makes: a str/bytes field comes back as that tuple, as in torch.
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(elem, tuple) else _rebuild_sequence(elem, fields)
    raise TypeError(_COLLATE_TYPE_ERROR.format(type(elem)))


class _InfiniteConstantSampler(Sampler):
    """None forever: the index stream for an IterableDataset, which ends when the dataset does."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterates over a dataset in (optionally shuffled) batches, collated by collate_fn.

    Arguments and their checks follow torch.utils.data.DataLoader. Loading always happens in this
    process (see the module docstring); worker_init_fn is therefore never called and
    get_worker_info() stays None, exactly as with num_workers=0 in torch.
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        # Dataset-kind errors come before sampler errors: a custom sampler can never fix an iterable dataset.
        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        # What len(self) last reported for an iterable dataset, to warn when iteration yields more.
        self._IterableDataset_len_called = None
        self._initialized = True

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            # Validated as torch does, though no process is ever started with it.
            import multiprocessing

            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, name, value):
        # The samplers were built from these; changing one afterwards would silently desynchronise them.
        if self._initialized and name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if not self._is_iterable:
            return len(self._index_sampler)
        length = self._IterableDataset_len_called = len(self.dataset)
        if self.batch_size is None:
            return length
        return length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)


class _DataLoaderIter:
    """One pass over a DataLoader: pulls indices from its sampler, fetches samples, collates them."""

    def __init__(self, loader):
        if loader.pin_memory:
            _warn_pin_memory(loader.pin_memory_device)
        # With workers, torch's timeout bounds the wait on a worker queue; with none, torch refuses it.
        if loader.num_workers == 0 and loader.timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._loader = loader
        self._dataset = loader.dataset
        self._is_iterable = loader._is_iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        self._len_reported = loader._IterableDataset_len_called
        self._num_yielded = 0
        # As torch, an iterable dataset is started as soon as the pass begins.
        self._dataset_iter = iter(self._dataset) if self._is_iterable else None
        self._dataset_ended = False

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def __next__(self):
        index = next(self._sampler_iter)
        data = self._fetch_iterable(index) if self._is_iterable else self._fetch_map(index)
        self._num_yielded += 1
        if self._is_iterable and self._len_reported is not None and self._num_yielded > self._len_reported:
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be {self._len_reported}"
                          f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                          stacklevel=2)
        return data

    def _fetch_map(self, index):
        if not self._auto_collation:
            return self._collate_fn(self._dataset[index])
        # A falsy __getitems__ (e.g. set to None) opts a dataset out of batched fetching.
        if getattr(self._dataset, "__getitems__", None):
            samples = self._dataset.__getitems__(index)
        else:
            samples = [self._dataset[i] for i in index]
        return self._collate_fn(samples)

    def _fetch_iterable(self, index):
        if self._dataset_ended:
            raise StopIteration
        if not self._auto_collation:
            return self._collate_fn(next(self._dataset_iter))
        samples = []
        for _ in index:
            try:
                samples.append(next(self._dataset_iter))
            except StopIteration:
                self._dataset_ended = True
                break
        if not samples or (self._drop_last and len(samples) < len(index)):
            raise StopIteration
        return self._collate_fn(samples)


def _warn_pin_memory(pin_memory_device):
    """torch's warnings for pin_memory=True; tapegrad has no page-locked host memory, so batches stay pageable."""
    if pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                      f"ignore pin_memory_device='{pin_memory_device}'.", stacklevel=3)
    if not tapegrad.cuda.is_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                      "won't be used.", stacklevel=3)
