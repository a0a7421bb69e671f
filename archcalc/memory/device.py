"""What the device runtime adds beyond the tensors themselves: allocator rounding and library workspaces.

Data, not code: one profile per runtime. Sources:
- c10/cuda/CUDACachingAllocator.cpp: every block is rounded up to kMinBlockSize = 512 bytes
  (`round_size`); tensors are separate blocks, so a C-element float tensor costs ceil(4C/512)·512.
  A request of kMinLargeAlloc = 10 MiB or more that needs a new segment gets one rounded up to
  kRoundLarge = 2 MiB (`get_allocation_size`), and the block is split only when more than
  kSmallSize = 1 MiB would remain (`should_split`): otherwise the tensor is charged the whole segment.
  (Smaller large requests share 20 MiB segments; their leftovers depend on the cache's history and
  are not modelled.)
- aten/src/ATen/cuda/CublasHandlePool.cpp: each (cuBLAS handle, stream) pair gets a workspace from
  the caching allocator, kept for the life of the process (`cublas_handle_stream_to_workspace`);
  handles are per thread, so a training step that runs a matmul forward (the caller's thread) and
  backward (autograd's device thread) holds two. Size: CUBLAS_WORKSPACE_CONFIG's default, 4096 KiB × 8
  = 32 MiB on Hopper and Blackwell (compute capability 9.x, 10.x, 12.x), else 4096 KiB × 2 + 16 KiB × 8
  (`parseChosenWorkspaceSize`). `cuda` takes the Hopper default; a device profile's
  `compute_capability` picks its own (`cuda_runtime`).
- cuDNN convolution workspace (`benchmark=False`: the heuristics' first engine): allocated from the
  caching allocator for the call and freed after it, so it adds to the peak only while the largest
  convolution runs. Measured on the H200 (../shared/data/gpu) it is up to about the size of the
  convolution's input plus output for dense 3×3 convolutions of wide, shallow layers; we model it as
  `conv_workspace` × (input + output bytes) of each non-depthwise k>1 convolution, switchable.
"""
from __future__ import annotations

from ..record import record, replace

MiB = 1 << 20


@record
class Runtime:
    name: str
    block: int                    # allocator rounding of every tensor, bytes (1: none)
    blas_workspace: int           # bytes per thread that runs a matmul
    conv_workspace: float         # × (input + output bytes) of a dense k>1 convolution, while it runs
    dropout_mask_bytes: int       # 0: the activation dtype (CPU noise tensor); 1: CUDA bool mask
    adam_step_temp: int           # param-sized temporaries of the foreach Adam step (exp_avg_sq.sqrt())
    large_round: int = 0          # fresh large segments are rounded to this (0: none)
    large_min: int = 0            # … for requests of at least this many bytes
    split_min: int = 0            # a block is split only when more than this would remain


RUNTIMES = {
    "cuda": Runtime("cuda", block=512, large_round=2 * MiB, large_min=10 * MiB, split_min=1 * MiB,
                    blas_workspace=32 * MiB, conv_workspace=1.0, dropout_mask_bytes=1, adam_step_temp=1),
    "cpu": Runtime("cpu", block=1, blas_workspace=0, conv_workspace=0.0, dropout_mask_bytes=0, adam_step_temp=1),
}


def blas_workspace_bytes(compute_capability: tuple[int, int]) -> int:
    """cuBLAS's default workspace per (handle, stream): CublasHandlePool.cpp `parseChosenWorkspaceSize`,
    ":4096:8" (32 MiB) on compute capability 9.x, 10.x and 12.x, ":4096:2:16:8" on every other GPU."""
    return 4096 * 8 * 1024 if compute_capability[0] in (9, 10, 12) else 4096 * 1024 * 2 + 16 * 1024 * 8


def cuda_runtime(compute_capability: tuple[int, int]) -> Runtime:
    """The `cuda` rules on a GPU of this compute capability (only the cuBLAS workspace depends on it)."""
    return replace(RUNTIMES["cuda"], blas_workspace=blas_workspace_bytes(compute_capability))


def rounded(nbytes: int, rt: Runtime) -> int:
    """Bytes the allocator charges for one tensor: 512-byte blocks; a request of ≥ 10 MiB gets a fresh
    segment rounded up to 2 MiB (kRoundLarge), and the block keeps the whole segment when no more than
    1 MiB (kSmallSize) would be left over (`should_split`)."""
    if nbytes <= 0:
        return 0
    size = -(-nbytes // rt.block) * rt.block
    if rt.large_round and size >= rt.large_min:
        segment = -(-size // rt.large_round) * rt.large_round
        if segment - size <= rt.split_min:
            return segment
    return size
