// The C API's jobs (include/libquant/c/libquant.h): options structs onto the
// jobs' options, results out as the JSON records of jobs/result_json.hpp.
#include <cstdlib>
#include <cstring>

#include "c_api_guard.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/model_info.hpp"
#include "libquant/jobs/result_json.hpp"

namespace libquant::c_api {

LastError& last_error() {
  thread_local LastError e;
  return e;
}

void CallbackProgress::begin(std::string_view stage, uint64_t total, std::string_view) {
  stage_ = std::string(stage);
  total_ = total;
  update(0, {});
}

void CallbackProgress::update(uint64_t done, std::string_view) {
  if (fn_(stage_.c_str(), done, total_, user_) != 0) throw Cancelled{};
}

void hand_over(const std::string& json, char** out) {
  if (!out) return;
  *out = static_cast<char*>(std::malloc(json.size() + 1));
  if (!*out) throw std::bad_alloc();
  std::memcpy(*out, json.c_str(), json.size() + 1);
}

namespace {

bool given(const char* path) { return path != nullptr && *path != '\0'; }

// The options are there, with both paths the job needs.
template <typename Options>
void require(const Options* o, const char* Options::*first, const char* Options::*second, const char* what) {
  check(o != nullptr && given(o->*first) && given(o->*second), ErrorCode::InvalidArgument,
        std::string(what) + " needs its options with both paths set");
}

}  // namespace
}  // namespace libquant::c_api

using namespace libquant;
using c_api::CallbackProgress;

extern "C" {

void lq_quantize_options_init(lq_quantize_options* o) {
  if (o) *o = lq_quantize_options{nullptr, nullptr, "Q8_0", nullptr, 0, nullptr, nullptr};
}

lq_status lq_quantize_gguf(const lq_quantize_options* o, char** result_json) {
  if (result_json) *result_json = nullptr;
  return c_api::guarded([&] {
    c_api::require(o, &lq_quantize_options::input, &lq_quantize_options::output, "quantize");
    CallbackProgress progress(o->progress, o->progress_user);
    jobs::ConvertToGgufOptions q;
    q.input = o->input;
    q.output = o->output;
    q.file_type = o->file_type ? o->file_type : "Q8_0";
    if (o->imatrix) q.imatrix = o->imatrix;
    q.threads = o->threads;
    q.progress = progress.sink();
    c_api::hand_over(jobs::to_json(jobs::convert_to_gguf(q)), result_json);
  });
}

void lq_analyze_options_init(lq_analyze_options* o) {
  if (o) *o = lq_analyze_options{nullptr, nullptr, nullptr, 512, 0, 0, nullptr, nullptr};
}

lq_status lq_analyze(const lq_analyze_options* o, char** result_json) {
  if (result_json) *result_json = nullptr;
  return c_api::guarded([&] {
    c_api::require(o, &lq_analyze_options::model, &lq_analyze_options::output, "analyze");
    CallbackProgress progress(o->progress, o->progress_user);
    auto a = jobs::AnalyzeOptions::defaults();
    a.model = o->model;
    a.output = o->output;
    if (o->data) a.data = o->data;
    a.ctx = o->ctx;
    a.chunks = o->chunks;
    a.threads = o->threads;
    a.progress = progress.sink();
    c_api::hand_over(jobs::to_json(jobs::analyze(a)), result_json);
  });
}

void lq_perplexity_options_init(lq_perplexity_options* o) {
  if (o) *o = lq_perplexity_options{nullptr, nullptr, 512, 0, 0, nullptr, nullptr};
}

lq_status lq_perplexity(const lq_perplexity_options* o, char** result_json) {
  if (result_json) *result_json = nullptr;
  return c_api::guarded([&] {
    c_api::require(o, &lq_perplexity_options::model, &lq_perplexity_options::data, "perplexity");
    CallbackProgress progress(o->progress, o->progress_user);
    auto p = eval::PerplexityOptions::defaults();
    p.model = o->model;
    p.data = o->data;
    p.ctx = o->ctx;
    p.chunks = o->chunks > 0 ? o->chunks : -1;
    p.threads = o->threads;
    p.progress = progress.sink();
    c_api::hand_over(jobs::to_json(eval::perplexity(p)), result_json);
  });
}

lq_status lq_inspect_model(const char* path, char** result_json) {
  if (result_json) *result_json = nullptr;
  return c_api::guarded([&] {
    check(path != nullptr && *path, ErrorCode::InvalidArgument, "no model path given");
    c_api::hand_over(jobs::to_json(jobs::inspect_model(path)), result_json);
  });
}

}  // extern "C"
