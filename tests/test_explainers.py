"""The explainer registry: gradient x input against LRP-0 and captum, integrated gradients
against captum and a loop over the path, SmoothGrad against captum's NoiseTunnel (given our
noise) and a loop over the noisy copies, the generic Bayesian mean for any explainer, and
the registry's agreement with the names module."""

import pytest
import torch

from bayeslrp import (
    build_model,
    explainers,
    heatmaps,
    integrated_gradients,
    names,
    smoothgrad,
)
from bayeslrp.gradient_x_input import sample_heatmaps
from bayeslrp.lrp import sample_relevance
from bayeslrp.posterior import Posterior

pytestmark = pytest.mark.usefixtures("float64")
LAYERS = {"fc": (1, 3, 5), "conv": (0, 3, 7)}


def random_posterior(arch, samples, hidden=5):
    torch.manual_seed(3)
    nets = [build_model(arch, hidden).double() for _ in range(samples)]
    state = {k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()}
    return Posterior(nets[0], state)


def explained_unit_value(net, x, layer, start):
    """The start of LRP's relevance, per image: the explained unit's pre-activation (1 for
    all_units, where LRP starts from the activations themselves, as gradient x input)."""
    z = net[: layer + 1](x).flatten(1)
    if start == "all_units" and layer < len(net) - 1:
        return torch.ones(len(x))
    chosen = z if layer == len(net) - 1 else net[layer + 1](z)
    return z.gather(1, chosen.argmax(1).view(-1, 1)).squeeze(1)


@pytest.mark.parametrize("arch", ["fc", "conv"])
@pytest.mark.parametrize("start", ["max_unit", "all_units"])
def test_gradient_x_input_is_lrp_at_epsilon_zero_from_the_units_value(arch, start):
    # For LeakyReLU/MaxPool nets the epsilon rule at epsilon -> 0 (LRP-0) started from the
    # explained unit's value is gradient x input (Ancona et al. 2018); our LRP starts from
    # relevance 1 on a unit, so gradient x input = LRP-0 x that unit's value.
    stack = random_posterior(arch, 3)
    x = torch.rand(4, 1, 28, 28)
    for layer in LAYERS[arch]:
        ours = sample_heatmaps(stack, x, layer=layer, inner_start=start, chunk=2)
        lrp0 = sample_relevance(stack, x, layer=layer, inner_start=start, epsilon=1e-12)
        for s in range(3):
            net = build_model(arch, 5).double()
            net.load_state_dict(stack.sample(s))
            with torch.no_grad():
                value = explained_unit_value(net, x, layer, start).view(-1, 1, 1, 1)
            expected = lrp0[s] * value
            scale = expected.abs().max().item()
            torch.testing.assert_close(ours[s], expected, rtol=1e-6, atol=1e-9 * scale)


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_gradient_x_input_matches_captum_at_the_output_layer(arch):
    from captum.attr import InputXGradient

    stack = random_posterior(arch, 2)
    x = torch.rand(6, 1, 28, 28)
    target = torch.tensor([0, 3, 9, 1, 1, 7])
    ours = sample_heatmaps(stack, x, layer=LAYERS[arch][-1], target=target, chunk=1)
    for s in range(2):
        net = build_model(arch, 5).double()
        net.load_state_dict(stack.sample(s))
        expected = InputXGradient(net).attribute(x.clone().requires_grad_(True), target=target)
        torch.testing.assert_close(ours[s], expected.detach())


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_integrated_gradients_match_captum_at_the_output_layer(arch):
    from captum.attr import IntegratedGradients

    stack = random_posterior(arch, 2)
    x = torch.rand(6, 1, 28, 28)
    target = torch.tensor([0, 3, 9, 1, 1, 7])
    ours = integrated_gradients.sample_heatmaps(stack, x, layer=LAYERS[arch][-1],
                                                target=target, chunk=2, steps=12)  # fmt: skip
    for s in range(2):
        net = build_model(arch, 5).double()
        net.load_state_dict(stack.sample(s))
        expected = IntegratedGradients(net).attribute(x, target=target, n_steps=12,
                                                      method="gausslegendre")  # fmt: skip
        torch.testing.assert_close(ours[s], expected)


@pytest.mark.parametrize("start", ["max_unit", "all_units"])
def test_integrated_gradients_of_an_inner_layer_integrate_the_unit_chosen_at_x(start):
    # A slow reference from the definition: per sample and quadrature point, autograd of
    # the unit picked from x's own activations, at a * x.
    stack = random_posterior("fc", 2)
    x = torch.rand(5, 1, 28, 28)
    nodes, weights = integrated_gradients.gauss_legendre(6)
    ours = integrated_gradients.sample_heatmaps(stack, x, layer=3, inner_start=start, steps=6)
    for s in range(2):
        net = build_model("fc", 5).double()
        net.load_state_dict(stack.sample(s))
        unit = net[:5](x).argmax(1)  # after the activation (module 4) of layer 3
        total = torch.zeros_like(x)
        for a, w in zip(nodes, weights, strict=True):
            point = (a * x).requires_grad_(True)
            z = net[:4](point)
            value = net[4](z).sum() if start == "all_units" else z.gather(1, unit[:, None]).sum()
            total += w * torch.autograd.grad(value, point)[0]
        torch.testing.assert_close(ours[s], total * x)


def unit_range_images(n):
    """Random images whose values span exactly [0, 1]: SmoothGrad's sigma is then its
    noise level, as captum's `stdevs`."""
    x = torch.rand(n, 1, 28, 28)
    x[:, 0, 0, 0], x[:, 0, 0, 1] = 0.0, 1.0
    return x


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_smoothgrad_matches_captums_noise_tunnel_given_the_same_noise(arch, monkeypatch):
    from captum.attr import NoiseTunnel, Saliency

    stack = random_posterior(arch, 2)
    x, samples, level = unit_range_images(3), 4, 0.2
    target = torch.tensor([0, 3, 9])
    ours = smoothgrad.sample_heatmaps(stack, x, layer=LAYERS[arch][-1], target=target,
                                      chunk=2, samples=samples, noise_level=level)  # fmt: skip
    noise = smoothgrad.image_noise(x, samples, level, seed=0)  # [samples, N, ...]
    # captum repeats each image nt_samples times in a row and draws the noise with
    # torch.normal: hand it ours, in its order (image-major)
    ordered = noise.transpose(0, 1).reshape(-1, *x.shape[1:])

    def given_noise(mean, std):
        assert std.shape == ordered.shape and torch.allclose(std, torch.full_like(std, level))
        return ordered.clone()

    for s in range(2):
        net = build_model(arch, 5).double()
        net.load_state_dict(stack.sample(s))
        monkeypatch.setattr(torch, "normal", given_noise)
        expected = NoiseTunnel(Saliency(net)).attribute(
            x, nt_type="smoothgrad", nt_samples=samples, stdevs=level, target=target,
            abs=False)  # fmt: skip
        monkeypatch.undo()
        torch.testing.assert_close(ours[s], expected)


def test_smoothgrad_of_an_inner_layer_averages_the_unit_chosen_at_the_clean_x():
    # A slow reference from the definition: per sample and noisy copy, autograd of the
    # unit picked from x's own activations, at x + noise.
    stack = random_posterior("fc", 2)
    x = torch.rand(4, 1, 28, 28)
    ours = smoothgrad.sample_heatmaps(stack, x, layer=3, samples=3, noise_level=0.1, seed=5)
    noise = smoothgrad.image_noise(x, 3, 0.1, seed=5)
    for s in range(2):
        net = build_model("fc", 5).double()
        net.load_state_dict(stack.sample(s))
        unit = net[:5](x).argmax(1)  # after the activation (module 4) of layer 3
        total = torch.zeros_like(x)
        for n in noise:
            point = (x + n).requires_grad_(True)
            total += torch.autograd.grad(net[:4](point).gather(1, unit[:, None]).sum(),
                                         point)[0]  # fmt: skip
        torch.testing.assert_close(ours[s], total / 3)


def test_smoothgrad_noise_belongs_to_the_image_not_to_the_batch():
    # mean_heatmaps recomputes subsets of points: a point must get the same map alone or in
    # a batch, and a repeated image the same map twice; another seed, other noise
    stack = random_posterior("fc", 2)
    x = torch.rand(4, 1, 28, 28)
    x[3] = x[0]
    settings = dict(layer=5, samples=3, noise_level=0.15)
    whole = smoothgrad.sample_heatmaps(stack, x, **settings)
    torch.testing.assert_close(smoothgrad.sample_heatmaps(stack, x[1:3], **settings),
                               whole[:, 1:3])  # fmt: skip
    torch.testing.assert_close(whole[:, 3], whole[:, 0])
    assert not torch.allclose(smoothgrad.sample_heatmaps(stack, x, seed=1, **settings), whole)
    # sigma = 0.15 x the image's range: over 2000 x 784 draws per image the sample std's
    # standard error is 0.15 / sqrt(2 x 1.6e6) ~ 1e-4; 1e-3 is ten of them
    noise = smoothgrad.image_noise(x, 2000, 0.15, seed=0)
    ranges = x.amax((1, 2, 3)) - x.amin((1, 2, 3))
    torch.testing.assert_close(noise.std((0, 2, 3, 4)) / ranges,
                               torch.full((4,), 0.15, dtype=x.dtype), atol=1e-3, rtol=0)


@pytest.mark.parametrize("name", ["integrated_gradients", "smoothgrad"])
def test_stacked_points_give_the_same_maps_in_any_grouping(name, monkeypatch):
    # fixed_unit_gradients stacks the path's points (the noisy copies) along the batch,
    # at most BATCH_IMAGES images per call: one point per call must give the same maps
    stack = random_posterior("conv", 2)
    x = torch.rand(3, 1, 28, 28)
    together = explainers.sample_heatmaps(name, stack, x, layer=3, inner_start="max_unit")
    monkeypatch.setattr(heatmaps, "BATCH_IMAGES", 3)
    alone = explainers.sample_heatmaps(name, stack, x, layer=3, inner_start="max_unit")
    torch.testing.assert_close(alone, together)


def test_integrated_gradients_are_complete_where_the_path_is_linear():
    # Completeness (Sundararajan et al.): the map sums to score(x) - score(0). A net with
    # no bias and a LeakyReLU of slope 1 is linear, so any quadrature is exact.
    stack = random_posterior("fc", 1)
    state = {k: (torch.zeros_like(v) if k.endswith("bias") else v)
             for k, v in stack.samples.items()}  # fmt: skip
    linear = Posterior(stack.network, state)
    for module in linear.network:
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = 1.0
    x = torch.rand(4, 1, 28, 28)
    target = torch.tensor([2, 5, 5, 0])
    heat = integrated_gradients.sample_heatmaps(linear, x, layer=5, target=target, steps=2)
    net = build_model("fc", 5).double()
    net.load_state_dict(linear.sample(0))
    for module in net:
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = 1.0
    with torch.no_grad():
        logits = net(x).gather(1, target[:, None]).squeeze(1)
    torch.testing.assert_close(heat[0].flatten(1).sum(1), logits)


def test_vectorised_and_looped_heatmaps_agree():
    stack = random_posterior("conv", 5)
    x = torch.rand(3, 1, 28, 28)
    for layer in LAYERS["conv"]:
        looped = sample_heatmaps(stack, x, layer=layer, chunk=1)
        torch.testing.assert_close(sample_heatmaps(stack, x, layer=layer, chunk=2), looped)


@pytest.mark.parametrize("name", names.EXPLAINERS)
def test_the_bayesian_mean_of_any_explainer_is_the_mean_of_its_sample_heatmaps(name):
    stack = random_posterior("fc", 7)
    x = torch.rand(30, 1, 28, 28)
    ns = [1, 4, 7]
    # per-n ensemble targets that disagree between n: the per-point recomputation runs
    targets = {n: stack.take(n).predict_proba(x).argmax(1) for n in ns}
    assert (targets[1] != targets[7]).any()
    means = explainers.bayesian_heatmaps(name, stack, x, 5, ns, targets, chunk=3)
    for n in ns:
        direct = explainers.sample_heatmaps(name, stack.take(n), x, layer=5, target=targets[n])
        torch.testing.assert_close(means[n], direct.mean(0))


@pytest.mark.parametrize("name", names.EXPLAINERS)
def test_the_heatmap_spread_is_the_std_of_the_largest_ns_sample_heatmaps(name):
    stack = random_posterior("fc", 7)
    x = torch.rand(20, 1, 28, 28)
    targets = {n: stack.take(n).predict_proba(x).argmax(1) for n in (2, 7)}
    means, spread = explainers.bayesian_heatmap_moments(
        name, stack, x, 5, [2, 7], targets, chunk=3
    )
    direct = explainers.sample_heatmaps(name, stack, x, layer=5, target=targets[7])
    torch.testing.assert_close(means[7], direct.mean(0))
    torch.testing.assert_close(spread, direct.std(0), rtol=1e-4, atol=1e-7)
    assert spread.gt(0).any()
    _, single = explainers.bayesian_heatmap_moments(name, stack, x, 5, [1], chunk=3)
    assert single.eq(0).all()  # one network has no posterior spread


def test_registry_and_names_agree_and_unknown_names_are_refused():
    assert tuple(explainers.REGISTRY) == names.EXPLAINERS
    assert names.STUDY_EXPLAINER in names.EXPLAINERS
    assert set(names.EXPLAINER_SPEED_SETTINGS) <= set(names.EXPLAINERS)
    with pytest.raises(ValueError, match="unknown explainer 'occlusion'"):
        explainers.get("occlusion")


def test_an_inner_layer_that_is_not_learnable_is_refused():
    stack = random_posterior("fc", 1)
    with pytest.raises(ValueError, match="layer 2 is not a learnable layer"):
        sample_heatmaps(stack, torch.rand(1, 1, 28, 28), layer=2)


@pytest.mark.parametrize("arch", ["fc", "conv"])
@pytest.mark.parametrize("explainer", ["lrp", "gradient_x_input"])
def test_one_pass_mean_and_sample_scores_equal_the_two_passes_they_replace(arch, explainer):
    # The slow reference: the mean heatmap from bayesian_heatmaps, the per-sample scores
    # from each sample's clean and adversarial heatmaps computed one at a time.
    from bayeslrp.explanation_metrics import SAMPLE_PREFIX, mean_over_samples
    from bayeslrp.paired_heatmaps import mean_and_sample_scores

    stack = random_posterior(arch, 5)
    torch.manual_seed(4)
    x = torch.rand(6, 1, 28, 28)
    x_adv = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    layer = LAYERS[arch][-1]
    adv_target = stack.predict_proba(x_adv).argmax(1)
    clean_target = stack.predict_proba(x).argmax(1)
    metrics = {"topk_overlap": {"k": [5, 20], "mode": "signed"}, "spearman": {"mode": "signed"}}
    settings = {"inner_start": "max_unit", "chunk": 2}
    if explainer == "lrp":
        settings["epsilon"] = 0.1
    mean, scores = mean_and_sample_scores(explainer, stack, x, x_adv, layer, metrics,
                                          clean_target, adv_target, **settings)  # fmt: skip
    reference = explainers.bayesian_heatmaps(explainer, stack, x_adv, layer, [5],
                                             {5: adv_target}, **settings)[5]  # fmt: skip
    torch.testing.assert_close(mean, reference)
    pairs = []
    for s in range(5):
        one = Posterior(stack.network, {k: v[s : s + 1] for k, v in stack.samples.items()})
        pairs.append(tuple(
            explainers.sample_heatmaps(explainer, one, inputs, layer=layer, target=t, **settings)
            for inputs, t in ((x, clean_target), (x_adv, adv_target))
        ))  # fmt: skip
    expected = mean_over_samples(pairs, metrics)
    assert set(scores) == {SAMPLE_PREFIX + label for label in expected}
    for label, values in expected.items():
        torch.testing.assert_close(scores[SAMPLE_PREFIX + label], values.float(),
                                   equal_nan=True)  # fmt: skip
    assert not torch.equal(mean, explainers.sample_heatmaps(
        explainer, stack.take(1), x_adv, layer=layer, target=adv_target, **settings)[0])
