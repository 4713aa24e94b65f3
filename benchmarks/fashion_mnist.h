// Fashion-MNIST for the C++ benchmarks: the gzipped IDX files of Debian's dataset-fashion-mnist
// (or $FASHION_MNIST_DIR), as float rows, and a monotonic clock.
#ifndef VEXFS_BENCH_FASHION_MNIST_H
#define VEXFS_BENCH_FASHION_MNIST_H

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

struct Data {
  size_t n = 0, dim = 0;
  std::vector<float> v;
};

inline Data load_idx(const std::string &path) {
  std::string cmd = "gzip -dc '" + path + "'";
  FILE *f = popen(cmd.c_str(), "r");
  if (!f) throw std::runtime_error("cannot read " + path);
  unsigned char head[16];
  if (fread(head, 1, 16, f) != 16) throw std::runtime_error("short " + path);
  auto be = [&](int o) { return (size_t)head[o] << 24 | head[o + 1] << 16 | head[o + 2] << 8 | head[o + 3]; };
  Data d;
  d.n = be(4);
  d.dim = be(8) * be(12);
  std::vector<unsigned char> raw(d.n * d.dim);
  if (fread(raw.data(), 1, raw.size(), f) != raw.size()) throw std::runtime_error("short " + path);
  pclose(f);
  d.v.assign(raw.begin(), raw.end());
  return d;
}

// "train" or "t10k" images.
inline Data load_fashion_mnist(const char *part) {
  const char *dir = getenv("FASHION_MNIST_DIR");
  std::string base = dir ? dir : "/usr/share/datasets/fashion-mnist";
  return load_idx(base + "/" + part + "-images-idx3-ubyte.gz");
}

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#endif
