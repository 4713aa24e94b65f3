#!/usr/bin/python3
"""The reference's benchmark suite, run as written against libvexfs.

The VexFSBenchmark class below is copied verbatim from the earlier VexFS documents
(../shared/reference/001_*.txt, "Comprehensive Benchmark Suite"), unchanged but for this header and
the main block: the reference passes the mount path of its server's file system; here the same
argument is a database directory (vexfs.Client(path)), a new temporary one by default.

    /usr/bin/python3 benchmarks/reference_suite.py [--sizes 1000,10000] [--dimension 384]
        [--algorithms hnsw,lsh] [--path DIR]

Needs numpy and matplotlib (imported by the reference code, not used): scripts/setup.sh bench.
"""
import time
import numpy as np
import matplotlib.pyplot as plt
from typing import Dict, List, Tuple
import vexfs

class VexFSBenchmark:
    """Comprehensive VexFS performance benchmark"""
    
    def __init__(self, mount_path: str = '/mnt/vexfs'):
        self.client = vexfs.Client(mount_path)
        self.results = {}
    
    def generate_test_data(self, num_vectors: int, dimension: int) -> Tuple[np.ndarray, List[Dict]]:
        """Generate synthetic test data"""
        
        # Generate random vectors with some structure
        vectors = np.random.random((num_vectors, dimension)).astype(np.float32)
        
        # Normalize for cosine similarity
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / norms
        
        # Generate metadata
        metadata = [
            {
                "id": i,
                "category": f"category_{i % 10}",
                "subcategory": f"subcat_{i % 100}",
                "score": np.random.random(),
                "timestamp": f"2025-06-{(i % 30) + 1:02d}T10:00:00Z"
            }
            for i in range(num_vectors)
        ]
        
        return vectors, metadata
    
    def benchmark_insertion(self, collection, vectors: np.ndarray, metadata: List[Dict], 
                          batch_sizes: List[int] = [1, 100, 1000, 10000]) -> Dict:
        """Benchmark vector insertion performance"""
        
        results = {}
        
        for batch_size in batch_sizes:
            if batch_size > len(vectors):
                continue
                
            # Test batch insertion
            test_vectors = vectors[:batch_size]
            test_metadata = metadata[:batch_size]
            
            start_time = time.time()
            
            if batch_size == 1:
                # Single insertion
                for i in range(batch_size):
                    collection.insert(vector=test_vectors[i], metadata=test_metadata[i])
            else:
                # Batch insertion
                collection.insert_batch(
                    vectors=test_vectors,
                    metadata=test_metadata,
                    batch_size=min(1000, batch_size)
                )
            
            end_time = time.time()
            
            elapsed_time = end_time - start_time
            throughput = batch_size / elapsed_time
            
            results[batch_size] = {
                "elapsed_time": elapsed_time,
                "throughput": throughput,
                "vectors_per_second": throughput
            }
            
            print(f"Batch size {batch_size}: {throughput:.0f} vectors/second")
        
        return results
    
    def benchmark_search(self, collection, query_vectors: np.ndarray, 
                        k_values: List[int] = [1, 10, 100],
                        iterations: int = 100) -> Dict:
        """Benchmark search performance"""
        
        results = {}
        
        for k in k_values:
            latencies = []
            
            for i in range(min(iterations, len(query_vectors))):
                query_vector = query_vectors[i % len(query_vectors)]
                
                start_time = time.time()
                results_list = collection.search(vector=query_vector, limit=k)
                end_time = time.time()
                
                latency_ms = (end_time - start_time) * 1000
                latencies.append(latency_ms)
            
            results[k] = {
                "avg_latency_ms": np.mean(latencies),
                "p50_latency_ms": np.percentile(latencies, 50),
                "p95_latency_ms": np.percentile(latencies, 95),
                "p99_latency_ms": np.percentile(latencies, 99),
                "min_latency_ms": np.min(latencies),
                "max_latency_ms": np.max(latencies),
                "std_latency_ms": np.std(latencies)
            }
            
            print(f"k={k}: {results[k]['avg_latency_ms']:.2f}ms avg, "
                  f"{results[k]['p95_latency_ms']:.2f}ms p95")
        
        return results
    
    def benchmark_recall(self, collection, query_vectors: np.ndarray, 
                        ground_truth: List[List[int]], k: int = 10) -> Dict:
        """Benchmark search recall quality"""
        
        recalls = []
        
        for i, query_vector in enumerate(query_vectors):
            if i >= len(ground_truth):
                break
                
            # Get search results
            results = collection.search(vector=query_vector, limit=k)
            result_ids = [r.metadata["id"] for r in results]
            
            # Calculate recall
            true_neighbors = set(ground_truth[i][:k])
            found_neighbors = set(result_ids)
            
            recall = len(true_neighbors.intersection(found_neighbors)) / len(true_neighbors)
            recalls.append(recall)
        
        return {
            "avg_recall": np.mean(recalls),
            "min_recall": np.min(recalls),
            "max_recall": np.max(recalls),
            "std_recall": np.std(recalls)
        }
    
    def benchmark_memory_usage(self, collection) -> Dict:
        """Benchmark memory usage"""
        
        stats = collection.get_stats()
        system_stats = self.client.get_stats()
        
        return {
            "collection_memory_mb": stats.index_size_mb,
            "system_memory_mb": system_stats.memory_usage_mb,
            "vectors_per_mb": stats.vector_count / max(stats.index_size_mb, 1),
            "cache_hit_rate": system_stats.cache_hits / max(system_stats.cache_hits + system_stats.cache_misses, 1)
        }
    
    def run_comprehensive_benchmark(self, algorithms: List[str] = ["hnsw", "lsh"],
                                  dataset_sizes: List[int] = [1000, 10000, 100000],
                                  dimension: int = 384) -> Dict:
        """Run comprehensive benchmark across algorithms and dataset sizes"""
        
        results = {}
        
        for algorithm in algorithms:
            results[algorithm] = {}
            
            for size in dataset_sizes:
                print(f"\nBenchmarking {algorithm} with {size} vectors...")
                
                # Generate test data
                vectors, metadata = self.generate_test_data(size, dimension)
                query_vectors = vectors[:100]  # Use first 100 as queries
                
                # Create collection
                collection_name = f"benchmark_{algorithm}_{size}"
                
                if algorithm == "hnsw":
                    collection = self.client.create_collection(
                        name=collection_name,
                        dimension=dimension,
                        algorithm="hnsw",
                        parameters={"m": 16, "ef_construction": 200, "ef_search": 100}
                    )
                else:  # LSH
                    collection = self.client.create_collection(
                        name=collection_name,
                        dimension=dimension,
                        algorithm="lsh",
                        parameters={"num_tables": 20, "num_functions": 30}
                    )
                
                # Benchmark insertion
                print("  Benchmarking insertion...")
                insertion_results = self.benchmark_insertion(collection, vectors, metadata)
                
                # Benchmark search
                print("  Benchmarking search...")
                search_results = self.benchmark_search(collection, query_vectors)
                
                # Benchmark memory
                print("  Benchmarking memory...")
                memory_results = self.benchmark_memory_usage(collection)
                
                results[algorithm][size] = {
                    "insertion": insertion_results,
                    "search": search_results,
                    "memory": memory_results
                }
                
                # Cleanup
                self.client.delete_collection(collection_name)
        
        return results
    
    def generate_report(self, results: Dict) -> str:
        """Generate performance report"""
        
        report = "# VexFS v2.0 Performance Benchmark Report\n\n"
        
        for algorithm in results:
            report += f"## {algorithm.upper()} Algorithm\n\n"
            
            for size in results[algorithm]:
                data = results[algorithm][size]
                report += f"### Dataset Size: {size:,} vectors\n\n"
                
                # Insertion performance
                report += "**Insertion Performance:**\n"
                for batch_size, metrics in data["insertion"].items():
                    report += f"- Batch size {batch_size}: {metrics['throughput']:.0f} vectors/second\n"
                
                # Search performance
                report += "\n**Search Performance:**\n"
                for k, metrics in data["search"].items():
                    report += f"- k={k}: {metrics['avg_latency_ms']:.2f}ms avg, {metrics['p95_latency_ms']:.2f}ms p95\n"
                
                # Memory usage
                report += "\n**Memory Usage:**\n"
                report += f"- Index size: {data['memory']['collection_memory_mb']:.1f}MB\n"
                report += f"- Vectors per MB: {data['memory']['vectors_per_mb']:.0f}\n"
                report += f"- Cache hit rate: {data['memory']['cache_hit_rate']:.2%}\n\n"
        
        return report


def main() -> None:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--sizes", default="1000,10000", help="dataset sizes (the reference's example)")
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--algorithms", default="hnsw,lsh")
    parser.add_argument("--path", help="database directory (default: a new temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vexfs-reference-") as scratch:
        # Example usage, as the reference writes it, with a database directory for the mount path
        benchmark = VexFSBenchmark(args.path or scratch + "/db")
        results = benchmark.run_comprehensive_benchmark(
            algorithms=args.algorithms.split(","),
            dataset_sizes=[int(s) for s in args.sizes.split(",")],
            dimension=args.dimension
        )
        report = benchmark.generate_report(results)
        print(report)
        benchmark.client.close()


if __name__ == "__main__":
    main()
