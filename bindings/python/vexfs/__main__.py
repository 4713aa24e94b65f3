"""python3 -m vexfs: prints the version, the SIMD level and which library was loaded."""
import vexfs

print(f"vexfs {vexfs.__version__}")
print(f"simd: {vexfs.simd_isa()}")
print(f"library: {vexfs.library_path}")
