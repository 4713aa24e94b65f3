"""vexfs.performance: the reference SDK's PerformanceConfig and OptimizationLevel (reference 000,
"Python SDK" and "Examples"), so that its client set-up runs as written:

    from vexfs.performance import PerformanceConfig
    client = vexfs.Client(endpoint="http://localhost:6333",
                          performance_config=PerformanceConfig(enable_simd=True), enable_monitoring=True)

They are accepted and change nothing: libvexfs (embedded, or behind vexfs-server) always
allocates from its pools and runs the widest SIMD level the CPU has, and there is no FUSE,
stack or bridge layer to tune. Only the documented keywords are accepted.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class OptimizationLevel(str, enum.Enum):
    """The reference's optimisation levels (their values are the strings its REST bodies use)."""
    MINIMAL = "minimal"
    BALANCED = "balanced"
    HIGH = "high"
    MAXIMUM = "maximum"


@dataclass(frozen=True)
class PerformanceConfig:
    """The reference's client-wide performance settings; advisory (see the module's text)."""
    optimization_level: OptimizationLevel | str = OptimizationLevel.BALANCED
    enable_memory_pools: bool = True
    memory_pool_size: str | None = None
    enable_simd: bool = True
    enable_stack_optimization: bool = True
    enable_enhanced_bridge: bool = True
    enable_all_optimizations: bool = False
    target_fuse_ops_per_sec: float | None = None
    target_vector_ops_per_sec: float | None = None
    target_semantic_ops_per_sec: float | None = None
    targets: dict = field(default_factory=dict)
