"""The stand-in for torch._dynamo (bayeslrp.deferred_dynamo): torch.func gives the same
gradients without importing the package, and anything that needs the package gets it.

Each test runs in a fresh interpreter: which modules are loaded is process state."""

import textwrap

from conftest import run_fresh


def words(code: str) -> list[str]:
    return run_fresh(code).split()


GRADIENTS = """
    import sys, torch
    from torch.func import grad, vjp, vmap
    torch.manual_seed(0)
    weights, x = torch.randn(5, 7, 3), torch.randn(4, 7)
    def score(w, inputs):
        return torch.tanh(inputs @ w).pow(2).sum()
    per_draw = vmap(grad(score, argnums=1), in_dims=(0, None))(weights, x)
    pulled = vjp(lambda inputs: torch.tanh(inputs @ weights[0]), x)[1](torch.ones(4, 3))[0]
    reference = []
    for w in weights:  # the definition: one autograd backward per draw
        inputs = x.clone().requires_grad_(True)
        reference.append(torch.autograd.grad(score(w, inputs), inputs)[0])
    reference = torch.stack(reference)
    inputs = x.clone().requires_grad_(True)
    pulled_reference = torch.autograd.grad(torch.tanh(inputs @ weights[0]).sum(), inputs)[0]
    print(torch.allclose(per_draw, reference, atol=1e-6),
          torch.allclose(pulled, pulled_reference, atol=1e-6),
          "torch._dynamo" in sys.modules)
"""


def test_torch_func_imports_dynamo_without_the_stand_in():
    # Why the stand-in exists; this fails once torch stops importing the package in
    # torch.func, and bayeslrp.deferred_dynamo can go.
    assert words(GRADIENTS) == ["True", "True", "True"]


def test_torch_func_gradients_are_unchanged_and_dynamo_stays_unloaded():
    setup = "from bayeslrp.deferred_dynamo import defer_dynamo_import\n"
    code = setup + "assert defer_dynamo_import()\n" + textwrap.dedent(GRADIENTS)
    assert words(code) == ["True", "True", "False"]


def test_a_job_gets_the_stand_in():
    out = words("""
        import torch
        from bayeslrp.runtime import job
        job({"snakemake": None})
        print(type(vars(torch)["_dynamo"]).__name__)
    """)
    assert out == ["_DeferredDynamo"]


def test_anything_else_gets_the_real_package():
    out = words("""
        import sys, torch
        from bayeslrp.deferred_dynamo import defer_dynamo_import
        defer_dynamo_import()
        disable = torch._dynamo.disable  # through the stand-in: imports the package
        real = sys.modules["torch._dynamo"]
        print(torch._dynamo is real, callable(disable), defer_dynamo_import())
    """)
    assert out == ["True", "True", "False"]


def test_the_rest_of_compiled_autograd_comes_from_the_real_module():
    out = words("""
        import sys, torch
        from bayeslrp.deferred_dynamo import defer_dynamo_import
        defer_dynamo_import()
        stand_in = torch._dynamo.compiled_autograd
        reset = stand_in.reset  # not answered by the stand-in: imports the package
        real = sys.modules["torch._dynamo.compiled_autograd"]
        print(reset is real.reset, torch._dynamo is sys.modules["torch._dynamo"])
    """)
    assert out == ["True", "True"]


def test_an_optimiser_step_imports_the_real_package_and_gradients_still_work():
    out = words("""
        import sys, torch
        from torch.func import grad
        from bayeslrp.deferred_dynamo import defer_dynamo_import
        defer_dynamo_import()
        w = torch.nn.Parameter(torch.ones(3))
        optimiser = torch.optim.SGD([w], lr=0.5)
        (w ** 2).sum().backward()
        optimiser.step()  # torch._disable_dynamo: `import torch._dynamo`
        real = sys.modules.get("torch._dynamo")
        g = grad(lambda v: (v ** 2).sum())(w.detach())
        print(torch._dynamo is real, w.detach().tolist() == [0.0, 0.0, 0.0],
              g.tolist() == [0.0, 0.0, 0.0])
    """)
    assert out == ["True", "True", "True"]


def test_compiled_autograd_is_off_inside_and_restored_after():
    out = words("""
        import torch
        from bayeslrp.deferred_dynamo import _compiled_autograd_disabled
        hook = torch._C._dynamo.compiled_autograd
        marker = lambda *args: None
        hook.set_autograd_compiler(marker, False)
        with _compiled_autograd_disabled():
            inside = hook.set_autograd_compiler(None, False)[0]  # reads and clears
        after = hook.set_autograd_compiler(None, False)[0]
        print(inside is None, after is marker)
    """)
    assert out == ["True", "True"]
