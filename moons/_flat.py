"""A flat, unowned view of a contiguous array inside compiled code.

Every numba function that takes an array increments and decrements its owner's reference
count, an atomic operation, and inlining the step kernels does not remove those pairs. A
view built from the raw data pointer has no owner (NULL meminfo), so the same kernels run
without them. Valid only while the viewed array is alive: the drivers use it on their own
arguments, for the duration of the call.
"""

from __future__ import annotations

from numba import carray, njit, types
from numba.extending import intrinsic

_F64P = types.CPointer(types.float64)


@intrinsic
def _f64_pointer(typingctx, address):
    """An integer address as a float64 pointer."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(_F64P))

    return _F64P(address), codegen


@njit(cache=True, inline="always")
def flat(a):
    """All of C-contiguous float64 ``a`` as a 1-D array without an owner (see module doc)."""
    if not a.flags.c_contiguous:
        raise ValueError("moons: the drivers need C-contiguous state and output arrays")
    return carray(_f64_pointer(a.ctypes.data), a.size)
