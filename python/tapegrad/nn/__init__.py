"""tapegrad.nn: modules, parameters, initialisation and the functional forms, as torch.nn."""
from tapegrad.nn.parameter import Parameter
from tapegrad.nn import functional
from tapegrad.nn import init
from tapegrad.nn.modules import *  # noqa: F401,F403  (the layer classes: modules.__all__)
