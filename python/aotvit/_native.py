"""Loading libaotvit.so and declaring its C ABI (include/aotvit.h) for ctypes.

Library choice, first match wins:

1. ``$AOTVIT_LIBRARY``: an explicit path (used as given, no CPU check);
2. the copies shipped inside the wheel, ``aotvit/_lib/libaotvit-x86-64-v4.so`` (AVX-512) and
   ``aotvit/_lib/libaotvit-x86-64-v3.so`` (AVX2/FMA): the best one the CPU runs (``$AOTVIT_ISA=v3|v4`` forces one).
   The CPU is asked with the CPUID instruction and XGETBV (as src/Launcher/launcher.c does through gcc's
   __builtin_cpu_supports), so the answer is also right under an emulator such as ``qemu-x86_64 -cpu Haswell``,
   where /proc/cpuinfo describes the host; where executable memory cannot be mapped, the flags in /proc/cpuinfo
   are used instead.

A NativeAOT library fixes its instruction set at compile time and its runtime refuses to start on a CPU below
that baseline, so the choice must be made *before* ``dlopen``; it cannot be retried after (NativeAOT libraries
cannot be unloaded). The library is loaded once per process, on first use.
"""
from __future__ import annotations

import ctypes
import mmap
import os
import platform
import threading
from ctypes import POINTER, c_char_p, c_float, c_int, c_int32, c_size_t, c_uint8, c_void_p
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

ABI_VERSION = 1
"""The AOTVIT_ABI_VERSION this package was written against."""

_LIB_DIR = Path(__file__).resolve().parent / "_lib"

# x86-64 micro-architecture levels as the launcher (src/Launcher/launcher.c) checks them; the kernel only lists an
# AVX/AVX-512 flag in /proc/cpuinfo when the OS also saves that register state, so the flags are sufficient.
_V4_FLAGS = frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})
_V3_FLAGS = frozenset({"avx2", "fma", "bmi2", "movbe"})
ISA_LIBRARIES = {"v4": "libaotvit-x86-64-v4.so", "v3": "libaotvit-x86-64-v3.so"}


class LibraryNotFoundError(ImportError):
    """No libaotvit build usable on this machine was found."""


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> FrozenSet[str]:
    """The CPU feature flags of the first processor listed in ``cpuinfo`` (empty if the file is unreadable)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags":
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def best_isa(flags: FrozenSet[str]) -> Optional[str]:
    """``"v4"`` if the flags cover x86-64-v4 (AVX-512 F/BW/CD/DQ/VL), ``"v3"`` for AVX2/FMA, else None."""
    if _V4_FLAGS <= flags:
        return "v4"
    if _V3_FLAGS <= flags:
        return "v3"
    return None


# x86-64 System V machine code, written out by hand (no compiler at install time):
#   void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])      out = {eax, ebx, ecx, edx}
#     push rbx; mov eax, edi; mov ecx, esi; mov r8, rdx; cpuid;
#     mov [r8], eax; mov [r8+4], ebx; mov [r8+8], ecx; mov [r8+12], edx; pop rbx; ret     (rbx is callee-saved)
_CPUID_CODE = bytes.fromhex("53 89f8 89f1 4989d0 0fa2 418900 41895804 41894808 4189500c 5b c3")
#   uint64_t xgetbv(uint32_t xcr)       mov ecx, edi; xgetbv; shl rdx, 32; or rax, rdx; ret
_XGETBV_CODE = bytes.fromhex("89f9 0f01d0 48c1e220 4809d0 c3")


def cpuid_isa() -> Optional[str]:
    """The x86-64 level by CPUID/XGETBV: ``"v4"``, ``"v3"``, ``"below-v3"``; None when it cannot be asked (not
    x86-64, or no executable memory, e.g. under a W^X policy)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError):
        return None
    try:
        code.write(_CPUID_CODE + _XGETBV_CODE)
        base = ctypes.addressof(ctypes.c_char.from_buffer(code))
        regs = (ctypes.c_uint32 * 4)()
        cpuid = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p)(base)
        xgetbv = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint32)(base + len(_CPUID_CODE))

        def leaf(eax: int, ecx: int = 0) -> Tuple[int, int, int, int]:
            cpuid(eax, ecx, ctypes.addressof(regs))
            return regs[0], regs[1], regs[2], regs[3]

        def bits(value: int, *positions: int) -> bool:
            return all(value >> p & 1 for p in positions)

        max_leaf = leaf(0)[0]
        _, _, ecx1, _ = leaf(1)
        # OSXSAVE (bit 27): XGETBV is usable and the OS reports which register states it saves.
        if max_leaf < 7 or not bits(ecx1, 27):
            return "below-v3"
        _, ebx7, _, _ = leaf(7)
        xcr0 = xgetbv(0)
        # v3: FMA (ecx1 12), MOVBE (22), AVX (28); AVX2 (ebx7 5), BMI2 (8); OS saves XMM+YMM (XCR0 bits 1, 2).
        v3 = bits(ecx1, 12, 22, 28) and bits(ebx7, 5, 8) and bits(xcr0, 1, 2)
        # v4: AVX-512 F (16), DQ (17), CD (28), BW (30), VL (31); OS saves opmask and ZMM (XCR0 bits 5, 6, 7).
        v4 = v3 and bits(ebx7, 16, 17, 28, 30, 31) and bits(xcr0, 5, 6, 7)
        del cpuid, xgetbv, regs
        return "v4" if v4 else "v3" if v3 else "below-v3"
    finally:
        try:
            code.close()
        except BufferError:  # a ctypes view still exported: the page stays mapped, which is harmless
            pass


def detect_isa() -> Optional[str]:
    """``"v4"``, ``"v3"`` or None (below x86-64-v3): CPUID where possible, else /proc/cpuinfo."""
    by_cpuid = cpuid_isa()
    if by_cpuid is not None:
        return None if by_cpuid == "below-v3" else by_cpuid
    return best_isa(cpu_flags())


def library_path() -> Path:
    """The libaotvit.so this process will load (see the module docstring for the order)."""
    explicit = os.environ.get("AOTVIT_LIBRARY")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise LibraryNotFoundError(f"$AOTVIT_LIBRARY is {explicit!r}, which is not a file")
        return path
    forced = os.environ.get("AOTVIT_ISA", "")
    if forced and forced not in ISA_LIBRARIES:
        raise LibraryNotFoundError(f"$AOTVIT_ISA must be 'v3' or 'v4', not {forced!r}")
    shipped = {isa: _LIB_DIR / name for isa, name in ISA_LIBRARIES.items() if (_LIB_DIR / name).is_file()}
    if not shipped:
        raise LibraryNotFoundError(
            f"no libaotvit build in {_LIB_DIR} (install the wheel built by tools/build_wheel.sh, "
            "or set $AOTVIT_LIBRARY to a libaotvit.so)")
    if forced:
        if forced not in shipped:
            raise LibraryNotFoundError(f"$AOTVIT_ISA={forced} but this installation has only {sorted(shipped)}")
        return shipped[forced]
    cpu = detect_isa()
    # v4 only on a v4 CPU; v3 runs on v3 and v4 CPUs.
    for isa in (("v4", "v3") if cpu == "v4" else ("v3",) if cpu == "v3" else ()):
        if isa in shipped:
            return shipped[isa]
    raise LibraryNotFoundError(
        f"this CPU ({'x86-64-' + cpu if cpu else 'below x86-64-v3: no AVX2/FMA'}) cannot run the shipped builds "
        f"{sorted('x86-64-' + isa for isa in shipped)}")


class OpenOptions(ctypes.Structure):
    """aotvit_open_options (include/aotvit.h), ABI 1: struct_size must be ctypes.sizeof(OpenOptions)."""
    _fields_ = [
        ("struct_size", c_size_t),
        ("threads", c_int),
        ("precision", c_int),
        ("calibration_images", POINTER(c_char_p)),
        ("calibration_count", c_int),
    ]


PRECISION_FLOAT32 = 0
PRECISION_INT8 = 1
"""aotvit_precision values."""


_SIGNATURES = {
    "aotvit_abi_version": (c_int, []),
    "aotvit_version": (c_char_p, []),
    "aotvit_last_error": (c_char_p, []),
    "aotvit_catalog_size": (c_int, []),
    "aotvit_catalog_entry": (c_int, [c_int, POINTER(c_char_p), POINTER(c_char_p), POINTER(c_int)]),
    "aotvit_model_open": (c_int, [c_char_p, c_char_p, c_int, POINTER(c_void_p)]),
    "aotvit_model_open_ex": (c_int, [c_char_p, c_char_p, POINTER(OpenOptions), POINTER(c_void_p)]),
    "aotvit_model_precision": (c_int, [c_void_p, POINTER(c_int)]),
    "aotvit_model_quantization_report": (c_int, [c_void_p, POINTER(c_char_p)]),
    "aotvit_quantize": (c_int, [c_char_p, c_char_p, c_char_p, POINTER(OpenOptions), POINTER(c_char_p)]),
    "aotvit_model_set_exif_transpose": (c_int, [c_void_p, c_int]),
    "aotvit_model_destroy": (c_int, [c_void_p]),
    "aotvit_model_name": (c_int, [c_void_p, POINTER(c_char_p)]),
    "aotvit_model_kind": (c_int, [c_void_p, POINTER(c_int)]),
    "aotvit_model_input_shape": (c_int, [c_void_p, POINTER(c_int), POINTER(c_int), POINTER(c_int)]),
    "aotvit_model_output_count": (c_int, [c_void_p, POINTER(c_int)]),
    "aotvit_model_output_info": (c_int, [c_void_p, c_int, POINTER(c_char_p), POINTER(c_int), POINTER(c_int),
                                         POINTER(c_size_t)]),
    "aotvit_model_label_count": (c_int, [c_void_p, POINTER(c_int)]),
    "aotvit_model_label": (c_int, [c_void_p, c_int, POINTER(c_char_p)]),
    "aotvit_run_image_file": (c_int, [c_void_p, c_char_p, POINTER(c_float), c_size_t, POINTER(c_float), c_size_t]),
    "aotvit_run_image_bytes": (c_int, [c_void_p, POINTER(c_uint8), c_size_t, POINTER(c_float), c_size_t,
                                       POINTER(c_float), c_size_t]),
    "aotvit_run_rgb8": (c_int, [c_void_p, POINTER(c_uint8), c_size_t, c_int, c_int, POINTER(c_float), c_size_t,
                                POINTER(c_float), c_size_t]),
    "aotvit_run_pixels": (c_int, [c_void_p, c_int, POINTER(c_float), c_size_t, POINTER(c_float), c_size_t,
                                  POINTER(c_float), c_size_t]),
    "aotvit_preprocess_image_file": (c_int, [c_void_p, c_char_p, POINTER(c_float), c_size_t]),
    "aotvit_preprocess_image_bytes": (c_int, [c_void_p, POINTER(c_uint8), c_size_t, POINTER(c_float), c_size_t]),
    "aotvit_classify_top_k": (c_int, [c_void_p, POINTER(c_float), c_size_t, c_int, POINTER(c_int32), c_size_t,
                                      POINTER(c_float), c_size_t]),
}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_path: Optional[Path] = None


def library() -> ctypes.CDLL:
    """The loaded library with every signature declared; loads it on the first call (thread-safe)."""
    global _lib, _path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = library_path()
            lib = ctypes.CDLL(str(path))
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(lib, name)
                function.restype, function.argtypes = restype, argtypes
            found = lib.aotvit_abi_version()
            if found != ABI_VERSION:
                raise LibraryNotFoundError(f"{path} has C ABI version {found}; this package needs {ABI_VERSION}")
            _lib, _path = lib, path
    return _lib


def loaded_path() -> Path:
    """The path of the loaded library (loads it if needed)."""
    library()
    assert _path is not None
    return _path


def last_error() -> str:
    """aotvit_last_error() of the calling thread: read it straight after the failing call (it is thread-local)."""
    return library().aotvit_last_error().decode("utf-8", "replace")
