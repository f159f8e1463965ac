"""Keep `torch.func` from importing `torch._dynamo` in a job that compiles nothing.

Every `torch.func.grad` / `vjp` call runs its backward inside
`torch._dynamo.compiled_autograd._disable()` (torch 2.14, `_functorch/eager_transforms.py`),
and the first access to `torch._dynamo` imports all of it: sympy, triton,
`torch.distributed.tensor`, 1.6 s of a job's CPU here, where a small job (an FGSM on an fc
net and its evaluation) takes 3.5 s in all and the default study runs ~300 jobs that
explain. That context only switches compiled autograd off for the backward, and compiled
autograd can only have been switched on by the `torch._dynamo` package itself. So until
something imports the package, `torch._dynamo` is a stand-in whose `compiled_autograd.
_disable()` does what the real one does at the C++ level (clear the autograd compiler,
restore it after) and whose every other attribute imports the real package and defers to
it; importing the package (the optimisers' `import torch._dynamo`) replaces the stand-in.

tests/test_deferred_dynamo.py fails once torch stops importing `torch._dynamo` in
`torch.func`, so this can go then.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types

import torch

PACKAGE = "torch._dynamo"


@contextlib.contextmanager
def _compiled_autograd_disabled():
    """`torch._dynamo.compiled_autograd._disable` without the package: no autograd
    compiler for the block, the prior one restored after."""
    prior_compiler, prior_dynamic = torch._C._dynamo.compiled_autograd.set_autograd_compiler(
        None, False
    )
    try:
        yield
    finally:
        torch._C._dynamo.compiled_autograd.set_autograd_compiler(prior_compiler, prior_dynamic)


class _DeferredCompiledAutograd:
    """`torch._dynamo.compiled_autograd` with `_disable` alone answered here: anything
    else a torch version asks for imports the real module and comes from it."""

    _disable = staticmethod(_compiled_autograd_disabled)

    def __getattr__(self, name: str):
        return getattr(importlib.import_module(f"{PACKAGE}.compiled_autograd"), name)


# One for every torch.func call (each asks for torch._dynamo.compiled_autograd).
_COMPILED_AUTOGRAD = _DeferredCompiledAutograd()


class _DeferredDynamo(types.ModuleType):
    """`torch._dynamo` until the real package is imported (see the module's docstring)."""

    def __getattr__(self, name: str):
        if name == "compiled_autograd" and PACKAGE not in sys.modules:
            return _COMPILED_AUTOGRAD
        # Importing the package sets torch._dynamo to the real module (the import system
        # binds a submodule to its parent), so this stand-in is asked once at most.
        return getattr(importlib.import_module(PACKAGE), name)


def defer_dynamo_import() -> bool:
    """Put the stand-in in place of `torch._dynamo` if the package is not loaded and the
    stand-in's assumptions hold for this torch; True where it did."""
    if PACKAGE in sys.modules or "_dynamo" in vars(torch):
        return False
    compiled_autograd = getattr(getattr(torch._C, "_dynamo", None), "compiled_autograd", None)
    if not hasattr(compiled_autograd, "set_autograd_compiler"):
        return False  # a torch without the hook: import the package as usual
    torch._dynamo = _DeferredDynamo(PACKAGE)
    return True
