"""The process-level setup every job runs: seeding and deterministic kernels."""

import textwrap

from conftest import run_fresh


def test_seeding_sets_the_same_kernel_flags_as_torchs_public_call_without_inductor():
    flags = textwrap.dedent("""
        import sys, torch
        print(torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(),
              "torch._inductor" in sys.modules)
    """)
    ours = run_fresh("from bayeslrp.runtime import seed_everything; seed_everything(3)" + flags)
    public = run_fresh("import torch; torch.use_deterministic_algorithms(True, warn_only=True)"
                       + flags)  # fmt: skip
    assert ours.split()[:2] == public.split()[:2] == ["True", "True"]
    # The point of not calling the public function: torch._inductor costs ~1.3 s per job.
    assert ours.split()[2] == "False"
    assert public.split()[2] == "True"  # fails once torch stops importing it: drop ours then


def test_inductors_flag_is_set_where_inductor_is_already_loaded():
    out = run_fresh("""
        import torch._inductor.config as inductor_config
        from bayeslrp.runtime import seed_everything
        inductor_config.deterministic = False
        seed_everything(0)
        print(inductor_config.deterministic)
    """)
    assert out == "True"


def test_seeding_repeats_draws():
    out = run_fresh("""
        import torch
        from bayeslrp.runtime import seed_everything
        generator = seed_everything(5)
        a = torch.randn(3), torch.randn(3, generator=generator)
        generator = seed_everything(5)
        b = torch.randn(3), torch.randn(3, generator=generator)
        generator = seed_everything(6)
        c = torch.randn(3), torch.randn(3, generator=generator)
        print(all(torch.equal(x, y) for x, y in zip(a, b)),
              any(torch.equal(x, y) for x, y in zip(a, c)))
    """)
    assert out == "True False"
