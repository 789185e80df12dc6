"""tapegrad.cuda: device queries. Kernels on the GPU arrive with the CUDA backend."""
from tapegrad import _C


def is_available():
    """True when tapegrad was built with CUDA and a CUDA device is visible."""
    return _C._cuda_device_count() > 0


def device_count():
    return _C._cuda_device_count()


def is_built():
    """Whether this tapegrad was compiled with CUDA kernels (torch.backends.cuda.is_built)."""
    return _C._cuda_compiled()
