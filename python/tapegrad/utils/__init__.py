"""Utilities mirroring torch.utils: the data-loading package."""
from tapegrad.utils import data  # noqa: F401
