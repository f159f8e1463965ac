import pytest
import torch
from torch import nn

from bayeslrp import build_model
from bayeslrp.models import LEARNABLE_LAYERS, output_layer, split_model_name


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_learnable_layers_sit_at_the_papers_indices(arch):
    model = build_model(arch, 32)
    learnable = [i for i, m in enumerate(model) if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert tuple(learnable) == LEARNABLE_LAYERS[arch]
    assert output_layer(arch) == len(model) - 1
    activations = [i for i, m in enumerate(model) if isinstance(m, nn.LeakyReLU)]
    assert activations == [i + 1 for i in learnable[:-1]]


@pytest.mark.parametrize(("arch", "hidden"), [("fc", 512), ("conv", 64)])
def test_output_shape_and_hidden_width(arch, hidden):
    model = build_model(arch, hidden)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert model[3].weight.shape[0] == hidden


def test_conv_layer_shapes_match_design():
    model = build_model("conv", 8)
    assert (model[0].in_channels, model[0].out_channels, model[0].kernel_size) == (1, 16, (5, 5))
    assert model[7].in_features == 16 * 8


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown architecture 'mlp'"):
        build_model("mlp", 8)
    with pytest.raises(ValueError, match="not of the form"):
        split_model_name("resnet_det")
    assert split_model_name("conv_vi") == ("conv", "vi")
