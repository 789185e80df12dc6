"""tapegrad.nn.modules: the layer classes, re-exported by tapegrad.nn."""
from tapegrad.nn.modules.activation import (
    ELU, GELU, LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh,
)
from tapegrad.nn.modules.batchnorm import BatchNorm1d
from tapegrad.nn.modules.container import ModuleDict, ModuleList, Sequential
from tapegrad.nn.modules.dropout import Dropout
from tapegrad.nn.modules.flatten import Flatten, Unflatten
from tapegrad.nn.modules.linear import Identity, Linear
from tapegrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
)
from tapegrad.nn.modules.module import Module
from tapegrad.nn.modules.normalization import LayerNorm
from tapegrad.nn.modules.sparse import Embedding

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten",
    "GELU", "HingeEmbeddingLoss", "HuberLoss", "Identity", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU",
    "Linear", "LogSoftmax", "MSELoss", "MarginRankingLoss", "Module", "ModuleDict", "ModuleList", "NLLLoss",
    "ReLU", "SiLU", "Sequential", "Sigmoid", "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softplus", "Tanh",
    "Unflatten",
]
