"""Samplers: the index streams (sequential, shuffled, batched) a DataLoader reads a dataset by."""
import itertools
from typing import Generic, TypeVar

import tapegrad

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler"]

T_co = TypeVar("T_co", covariant=True)

# Replacement sampling draws this many indices per randint call: lazy, yet not one call per index.
_REPLACEMENT_CHUNK = 32


class Sampler(Generic[T_co]):
    """Base class: subclasses define __iter__ and, when they know it, __len__.

    No default __len__ on purpose: len() must raise TypeError on an unsized sampler, which is what
    list() and DataLoader's len() rely on to fall back or fail clearly.
    """

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A fresh random order of the data every epoch, or num_samples draws with replacement.

    With generator=None the draws come from tapegrad's default generator, so tapegrad.manual_seed
    makes a run reproducible.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        # Read at each use: the data source may grow or shrink between epochs.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        count = self.num_samples
        if self.replacement:
            full, rest = divmod(count, _REPLACEMENT_CHUNK)
            for size in [_REPLACEMENT_CHUNK] * full + [rest]:
                yield from tapegrad.randint(0, n, (size,), dtype=tapegrad.int64, generator=self.generator).tolist()
        else:
            # More samples than data: whole permutations, then a prefix of one more.
            for _ in range(count // n):
                yield from tapegrad.randperm(n, generator=self.generator).tolist()
            yield from tapegrad.randperm(n, generator=self.generator).tolist()[: count % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in a fresh random order every epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in tapegrad.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler[list]):
    """Groups another sampler's indices into lists of batch_size; the short tail is kept unless drop_last."""

    def __init__(self, sampler, batch_size, drop_last):
        # bool is an int subclass, but batch_size=True is surely a mistake.
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
