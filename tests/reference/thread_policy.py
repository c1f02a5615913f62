"""Frugal's thread policy for a Python torch process, so that timings compare like with like.

With Debian's LibTorch (OpenBLAS) the matrix products run on OpenBLAS's pool (frugal's --threads)
and the other ops on torch's OpenMP pool (--intra-op-threads, default 1): both are set, or the two
busy-waiting pools oversubscribe the cores. With PyPI's LibTorch (MKL and oneDNN inside it) one
OpenMP pool runs everything: it gets max(threads, intra-op threads), as frugal gives it.
"""
import ctypes

import torch


def blas_of_torch():
    config = torch.__config__.show()
    start = config.find("BLAS_INFO=")
    if start < 0:
        return "unknown"
    return config[start + len("BLAS_INFO="):].split(",")[0].split()[0]


def apply(threads, intra_op_threads=1):
    """Sets the pools as frugal --threads THREADS --intra-op-threads INTRA does; returns the BLAS."""
    torch.set_num_interop_threads(1)
    blas = blas_of_torch()
    if blas == "mkl":
        torch.set_num_threads(max(threads, intra_op_threads))
        return "MKL"
    # Debian's build says "generic": libblas.so.3, which Debian's alternatives point at OpenBLAS
    torch.set_num_threads(intra_op_threads)
    ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(threads)
    return "OpenBLAS"
