"""Every use of Unicorn beyond its public Python API, in one place.

The native helper (iss/native) is handed Unicorn's C entry points and an
engine's C handle, and registers and removes C hooks without a Python thunk;
the Python binding has no public way to give either, so this module reaches
into it (`uclib`, `Uc._uch`, `Uc._callbacks`, `uccallback`, `HOOK_CODE_CFUNC`). Those names are the binding's
internals: they are checked here, once, against the version they were written
for, and a different Unicorn fails at import with one clear line instead of a
crash deep in a run.
"""
from __future__ import annotations

import ctypes

import unicorn

# The binding's internals below were read from this release (pyproject.toml pins it).
UNICORN_VERSION = "2.1.4"

if unicorn.__version__ != UNICORN_VERSION:
    raise ImportError(f"iss needs unicorn=={UNICORN_VERSION} (it uses the Python binding's internals: "
                      f"iss/unicorn_adapter.py), but unicorn {unicorn.__version__} is installed; "
                      f"pip install unicorn=={UNICORN_VERSION}")

from unicorn.unicorn_py3 import unicorn as _binding  # noqa: E402

uclib = _binding.uclib      # the loaded libunicorn (ctypes.CDLL)


def function_address(name: str) -> int:
    """The address of libunicorn's C function `name` (uc_reg_read, ...), which
    the native helper calls directly."""
    return ctypes.cast(getattr(uclib, name), ctypes.c_void_p).value


def hook_add(uc, hook_type: int, function: int, user_data: int, begin: int = 1, end: int = 0) -> int:
    """Register the function at address `function` (a C function, or a thunk
    made once for many hooks: SiteHooks) as a hook of the engine (uc_hook_add:
    no new thunk per hook, unlike `Uc.hook_add`); returns the handle."""
    h = ctypes.c_size_t()
    err = uclib.uc_hook_add(uc._uch, ctypes.byref(h), hook_type, ctypes.c_void_p(function),
                            ctypes.c_void_p(user_data), ctypes.c_uint64(begin), ctypes.c_uint64(end))
    if err != 0:
        raise unicorn.UcError(err)
    return h.value


def handle(uc) -> ctypes.c_void_p:
    """The engine's `uc_engine *`, for C functions of the native helper."""
    return uc._uch


def hook_del(uc, hook: int) -> None:
    """Remove a hook registered with uc_hook_add from C (native.add_hook);
    `Uc.hook_del` only knows hooks with a Python callback."""
    err = uclib.uc_hook_del(uc._uch, ctypes.c_size_t(hook))
    if err != 0:
        raise unicorn.UcError(err)


def python_hooks(uc) -> int:
    """How many hooks with a Python callback the engine has (the binding keeps
    one callback per `Uc.hook_add`)."""
    return len(uc._callbacks)


class SiteHooks:
    """UC_HOOK_CODE hooks of one Python callback, each at one address (a site: a
    CSR instruction, an mret), all through one thunk. `Uc.hook_add` builds a
    thunk and its closures for every hook, 30 us each, and a hart has dozens of
    sites. `callback(uc, address, size, data)` runs under the binding's own
    exception guard (a raise is kept on the engine and stops it, as for
    `Uc.hook_add`); `data` is what `add` was given for that address."""

    def __init__(self, uc, callback):
        self._uc = uc
        self._sites: dict = {}      # address -> (hook handle, data)
        sites = self._sites

        @_binding.uccallback(uc, _binding.HOOK_CODE_CFUNC)
        def thunk(uc_, address, size, _key):
            callback(uc_, address, size, sites[address][1])

        self._thunk = thunk
        self._function = ctypes.cast(thunk, ctypes.c_void_p).value

    def add(self, address: int, data) -> None:
        """Hook `address` (at most one hook per address)."""
        h = hook_add(self._uc, unicorn.UC_HOOK_CODE, self._function, 0, address, address)
        self._uc._callbacks[h] = self._thunk    # as Uc.hook_add keeps its thunks (python_hooks)
        self._sites[address] = (h, data)

    def remove(self, address: int) -> None:
        """Unhook `address`, if it is hooked."""
        site = self._sites.pop(address, None)
        if site is not None:
            self._uc.hook_del(site[0])


def take_hook_exception(uc):
    """The exception a Python hook raised during an emu_start made from C (the
    binding's wrapper keeps it on the engine and stops it; its own `emu_start`
    would raise it), cleared; None if there was none."""
    e, uc._hook_exception = uc._hook_exception, None
    return e
