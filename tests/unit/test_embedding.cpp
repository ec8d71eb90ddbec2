// libquant as an embedding program uses it: every message through the log sink
// it installs and none on stderr, progress hooks called with the documented
// counters, an exception thrown by a hook ending the job with the work so far
// checkpointed, and a resumed job finishing it. Runs two real jobs on
// stories260K (an importance matrix, then Q4_K_M with it).
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "libquant/backend/backend.hpp"
#include "libquant/core/log.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/convert_to_gguf.hpp"
#include "libquant/jobs/result_json.hpp"
#include "test_helpers.hpp"

using namespace libquant;
namespace fs = std::filesystem;

namespace {

// Sends file descriptor 2 to a file while alive, then restores it.
class StderrCapture {
 public:
  explicit StderrCapture(const fs::path& file) : file_(file) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(saved_ >= 0);
    REQUIRE(fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
    }
    const auto bytes = test::read_file(file_);
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

 private:
  fs::path file_;
  int saved_ = -1;
};

// Installs a collecting sink at Debug verbosity; restores the defaults after.
struct CollectedLog {
  std::vector<std::pair<LogLevel, std::string>> messages;
  CollectedLog() {
    set_verbosity(Verbosity::Debug);
    set_log_sink([this](LogLevel level, std::string_view m) { messages.emplace_back(level, std::string(m)); });
  }
  ~CollectedLog() {
    set_log_sink({});
    set_verbosity(Verbosity::Normal);
  }
  bool saw(std::string_view part) const {
    for (const auto& [level, m] : messages)
      if (m.find(part) != std::string::npos) return true;
    return false;
  }
};

struct StopHere : std::runtime_error {
  StopHere() : std::runtime_error("stopped by the hook") {}
};

}  // namespace

TEST_CASE("an embedding program gets every message through its sink and none on stderr", "[embedding]") {
  const fs::path dir = test::scratch_dir("embedding");
  const fs::path model = test::shared_dir() / "models" / "stories260K.gguf";
  CollectedLog log;
  StderrCapture capture(dir / "stderr.txt");

  backend::use_device(backend::Device::Cpu);  // logs the backend at Verbose

  jobs::AnalyzeOptions a;
  a.model = model;
  a.data = test::shared_dir() / "data" / "calib.txt";
  a.output = dir / "imatrix.dat";
  a.ctx = 64;
  a.chunks = 5;
  a.checkpoint_dir = dir / "ckpt";
  std::vector<uint64_t> chunk_counts;
  a.on_checkpoint = [&](uint64_t done) {
    chunk_counts.push_back(done);
    if (done == 2) throw StopHere();  // the embedding program's cancel: work so far stays checkpointed
  };
  CHECK_THROWS_AS(jobs::analyze(a), StopHere);
  CHECK(chunk_counts == std::vector<uint64_t>{1, 2});
  CHECK_FALSE(fs::exists(a.output));

  a.resume = true;
  chunk_counts.clear();
  a.on_checkpoint = [&](uint64_t done) { chunk_counts.push_back(done); };
  const jobs::AnalyzeResult ar = jobs::analyze(a);
  CHECK(ar.chunks_resumed == 2);
  CHECK(ar.chunks == 5);
  CHECK(chunk_counts == std::vector<uint64_t>{3, 4, 5});
  CHECK(log.saw("resuming after 2 of 5 chunks"));

  jobs::ConvertToGgufOptions q;
  q.input = model;
  q.output = dir / "q4_k_m.gguf";
  q.file_type = "Q4_K_M";
  q.imatrix = a.output;
  std::vector<uint64_t> written;
  q.on_data_written = [&](uint64_t bytes) { written.push_back(bytes); };
  const jobs::ConvertToGgufResult qr = jobs::convert_to_gguf(q);
  REQUIRE_FALSE(written.empty());
  for (size_t i = 1; i < written.size(); ++i) CHECK(written[i] > written[i - 1]);
  // Tensor data is all of the file but its header: the counter ends below the file size, within the header's size.
  const uint64_t file_bytes = fs::file_size(q.output);
  CHECK(written.back() < file_bytes);
  CHECK(written.back() > file_bytes / 2);

  // The records the CLI prints, from the library: parsed back, they say what the files say.
  simdjson::dom::parser parser;
  const simdjson::dom::element qj = parser.parse(jobs::to_json(qr));
  CHECK(std::string_view(qj["validation_status"]) == "valid");
  CHECK(std::string_view(qj["quantization_level"]) == "Q4_K_M");
  CHECK(uint64_t(qj["file_size"]) == file_bytes);
  CHECK(std::string_view(qj["output_path"]) == fs::absolute(q.output).string());
  CHECK(double(qj["compression_ratio"]) ==
        Approx(double(file_bytes) / double(uint64_t(qj["metadata"]["original_size"]))));
  CHECK(qj["tensors"].error() == simdjson::NO_SUCH_FIELD);  // per-tensor lists only when asked
  simdjson::dom::parser parser2;
  const simdjson::dom::element aj = parser2.parse(jobs::to_json(ar));
  CHECK(int64_t(aj["chunks"]) == 5);
  CHECK(int64_t(aj["resumed_chunks"]) == 2);
  CHECK(simdjson::dom::array(aj["layers"]).size() == ar.layers.size());
  CHECK(std::string_view(aj["model_path"]) == model.string());

  const std::string on_stderr = capture.restore();
  CHECK(on_stderr.empty());
  CHECK(log.saw("compute backend: cpu"));
  fs::remove_all(dir);
}

TEST_CASE("library errors name options by their fields, not by CLI flags", "[embedding]") {
  jobs::ConvertToGgufOptions q;
  q.input = test::shared_dir() / "models" / "stories260K.gguf";
  q.output = test::scratch_dir("embedding-wording") / "out.gguf";
  q.file_type = "dynamic";  // without a size target or profile
  try {
    jobs::convert_to_gguf(q);
    FAIL("a dynamic file type without a target must be refused");
  } catch (const Error& e) {
    const std::string text = std::string(e.what()) + " | " + e.suggestion();
    CHECK(text.find("`file_type = dynamic`") != std::string::npos);
    CHECK(text.find("`target_bpw`") != std::string::npos);
    CHECK(text.find("--") == std::string::npos);
  }
  CHECK_FALSE(fs::exists(q.output));
  fs::remove_all(q.output.parent_path());
}
