// Google Benchmark behind the C interface of gbench_shim.h.
#include "gbench_shim.h"

#include <benchmark/benchmark.h>

struct vxb_state {
  benchmark::State *state;
};

extern "C" void vxb_register(const char *name, vxb_fn fn, void *ctx) {
  benchmark::RegisterBenchmark(name, [fn, ctx](benchmark::State &st) {
    vxb_state s{&st};
    fn(&s, ctx);
  });
}

extern "C" int vxb_keep_running(vxb_state *s) { return s->state->KeepRunning() ? 1 : 0; }

extern "C" int64_t vxb_iterations(const vxb_state *s) {
  return static_cast<int64_t>(s->state->iterations());
}

extern "C" void vxb_set_items_processed(vxb_state *s, int64_t items) {
  s->state->SetItemsProcessed(items);
}

extern "C" void vxb_set_bytes_processed(vxb_state *s, int64_t bytes) {
  s->state->SetBytesProcessed(bytes);
}

extern "C" void vxb_set_label(vxb_state *s, const char *label) { s->state->SetLabel(label); }

extern "C" int vxb_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
