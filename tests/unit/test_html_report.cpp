// The HTML report pieces: escaping and number text against JsonWriter, the
// Pareto frontier on a hand-worked set, chart element counts and geometry,
// hostile text staying text, and the report file's refusal rules.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "libquant/core/error.hpp"
#include "libquant/core/json_writer.hpp"
#include "libquant/io/html_document.hpp"
#include "libquant/io/svg_chart.hpp"
#include "libquant/jobs/html_reports.hpp"

using namespace libquant;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

}  // namespace

TEST_CASE("html text and numbers", "[html]") {
  CHECK(io::html_escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  for (const double v : {0.1, 1.0 / 3.0, 6.02214076e23, -2.5e-300, 123456789.0, 0.0}) {
    JsonWriter j;
    j.value(v);
    CHECK(io::html_number(v) == j.str());       // the JSON record's text
    CHECK(std::stod(io::html_number(v)) == v);  // and exact
  }
  CHECK(io::html_number(std::nan("")) == "null");
  CHECK(io::data_attributes({{"layer", "a\"<b>"}, {"mse", "1"}}) == " data-layer=\"a&quot;&lt;b&gt;\" data-mse=\"1\"");
}

TEST_CASE("Pareto frontier of a hand-worked set", "[html]") {
  // (2,4) and (3,3.5) are beaten by (2,3); (5,1) is no better than (4,1).
  std::vector<io::ScatterPoint> pts;
  for (const auto& [x, y] : std::vector<std::pair<double, double>>{{1, 5}, {2, 4}, {2, 3}, {3, 3.5}, {4, 1}, {5, 1}}) {
    io::ScatterPoint p;
    p.x = x;
    p.y = y;
    pts.push_back(p);
  }
  CHECK(io::pareto_frontier(pts) == std::vector<size_t>{0, 2, 4});
  CHECK(io::pareto_frontier({}).empty());
}

TEST_CASE("bar chart: one mark per segment, stacked heights in proportion", "[html]") {
  const std::vector<io::BarSegment> segs = {{0, 1.0, "Q4_K", "t0", {{"tensor", "a"}}},
                                            {0, 3.0, "Q6_K", "t1", {{"tensor", "b"}}},
                                            {1, 2.0, "Q4_K", "t2", {}},
                                            {2, 2.0, "Q6_K", "<script>x</script>", {}}};
  const std::string svg =
      io::bar_chart({"plot", "title", "x", "y"}, {"0", "1", "</svg><script>"}, segs, {{1, "super", {{"row", "3"}}}});
  CHECK(count(svg, "class=\"mark\"") == 4);
  CHECK(count(svg, "class=\"marker\"") == 1);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(count(svg, "<span><i") == 2);  // legend: two series
  // Heights of category 0's two segments: 1 and 3 units.
  const std::regex h("data-tensor=\"([ab])\"");
  const std::regex rect("<rect class=\"mark\"[^>]*height=\"([0-9.]+)\"[^>]*data-tensor=\"([ab])\"");
  std::map<std::string, double> height;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator(); ++it)
    height[(*it)[2]] = std::stod((*it)[1]);
  REQUIRE(height.size() == 2);
  CHECK(height["b"] / height["a"] == Approx(3.0).epsilon(1e-3));
  // Log scale: a non-positive value is not drawn.
  const std::string log =
      io::bar_chart({"p", "t", "x", "y", true}, {"0", "1"}, {{0, 0.0, "s", "", {}}, {1, 10.0, "s", "", {}}});
  CHECK(count(log, "class=\"mark\"") == 1);
}

TEST_CASE("heat map colours from the smallest to the largest value", "[html]") {
  std::vector<io::HeatCell> cells;
  for (size_t r = 0; r < 2; ++r)
    for (size_t c = 0; c < 3; ++c) cells.push_back({r, c, std::pow(10.0, static_cast<double>(r * 3 + c)), "", {}});
  cells[4].value = std::nan("");
  const std::string svg = io::heat_map({"hm", "t", "", "v", true}, {"a", "b"}, {"x", "y", "z"}, cells);
  CHECK(count(svg, "class=\"mark\"") == 5);
  CHECK(count(svg, "class=\"empty\"") == 1);
  CHECK(svg.find("fill=\"#440154\"") != std::string::npos);  // 1: the smallest
  CHECK(svg.find("fill=\"#fde725\"") != std::string::npos);  // 1e5: the largest
}

TEST_CASE("a page is self-contained and scriptless", "[html]") {
  io::HtmlDocument doc("t<i>", "kind", {{"model", "m"}});
  doc.table({"tab", {"a", "b"}, {{{"1.5", "x<y"}, {{"key", "k"}}}}});
  const std::string page = doc.finish();
  CHECK(page.find("Content-Security-Policy\" content=\"default-src 'none'") != std::string::npos);
  CHECK(page.find("<body data-report=\"kind\" data-model=\"m\">") != std::string::npos);
  CHECK(page.find("<title>t&lt;i&gt;</title>") != std::string::npos);
  CHECK(page.find("<td class=\"num\">1.5</td><td>x&lt;y</td>") != std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
}

TEST_CASE("quality report page: marks match the report", "[html]") {
  jobs::QualityReport r;
  r.original = "orig";
  r.quantized = "q.gguf";
  r.layers = {{"model.layers.0", 1e-3, 0.1, 0.2, 4.5, "attention"},
              {"model.layers.1", 2e-3, 0.2, 0.3, 4.5, "attention"}};
  r.tensors = {{"token_embd.weight", "Q6_K", -1, 100, 82},
               {"blk.0.attn_q.weight", "Q4_K", 0, 256, 144},
               {"blk.0.ffn_down.weight", "Q6_K", 0, 256, 210},
               {"blk.1.attn_q.weight", "Q4_K", 1, 256, 144}};
  jobs::ImportanceView v;
  v.weights = {{"blk.0.attn_q.weight", 4, 0, 2, 1, 0.5, 1}, {"blk.1.attn_q.weight", 4, 0, 4, 2, 1, 3}};
  methods::SuperWeight s;
  s.tensor = "blk.1.ffn_down.weight";
  s.layer = 1;
  v.super_weights = {s};
  const std::string page = jobs::quality_report_html(r, v, {"llm-quantize quality report orig q.gguf"});
  const auto plot = [&](const std::string& id) {
    const size_t a = page.find("id=\"" + id + "\""), b = page.find("</svg>", a);
    REQUIRE(a != std::string::npos);
    return page.substr(a, b - a);
  };
  CHECK(count(plot("plot-layer-error"), "class=\"mark\"") == 2);
  CHECK(count(plot("plot-bits"), "class=\"mark\"") == 3);  // the embedding is listed apart
  CHECK(count(plot("plot-importance"), "class=\"mark\"") == 2);
  CHECK(count(plot("plot-importance"), "class=\"marker\"") == 1);
  CHECK(page.find("id=\"other-tensors\"") != std::string::npos);
  CHECK(page.find("llm-quantize quality report orig q.gguf") != std::string::npos);
  // Layer 0's bits: (144 + 210) bytes * 8 / 512 parameters = 5.53125 bits per weight, split 2.25 + 3.28125.
  CHECK(page.find("<title>blk.0.attn_q.weight: Q4_K, 4.5 bpw") != std::string::npos);
}

TEST_CASE("report file: refuses an existing file, leaves nothing before commit", "[html]") {
  const fs::path dir = fs::temp_directory_path() / "libquant_html_file_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path p = dir / "r.html";
  {
    jobs::HtmlReportFile f(p, false);
    CHECK_FALSE(fs::exists(p));  // nothing until commit
    f.commit("<p>one</p>");
  }
  CHECK(slurp(p) == "<p>one</p>");
  try {
    jobs::HtmlReportFile again(p, false);
    FAIL("an existing report was not refused");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::CancelledAfterQualityWarning);
  }
  { jobs::HtmlReportFile dropped(p, true); }  // opened, never committed: the old file stays
  CHECK(slurp(p) == "<p>one</p>");
  {
    jobs::HtmlReportFile f(p, true);
    f.commit("<p>two</p>");
  }
  CHECK(slurp(p) == "<p>two</p>");
  try {
    jobs::HtmlReportFile missing(dir / "no" / "such" / "r.html", false);
    FAIL("a missing directory was not refused");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::General);
  }
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temporary left
  fs::remove_all(dir);
}

TEST_CASE("KL distribution: ranks and decades of known values", "[html]") {
  std::vector<double> v;
  for (int i = 0; i <= 100; ++i) v.push_back(i / 100.0);  // 0, 0.01, ..., 1
  v.push_back(-1e-12);                                    // rounding of an exact match
  const jobs::KlDistribution d = jobs::kl_distribution(v);
  CHECK(d.min == -1e-12);
  CHECK(d.max == 1.0);
  CHECK(d.median == Approx(0.495));  // 102 values: halfway between ranks 50 and 51 (0.49, 0.50)
  CHECK(d.p99_9 == Approx(0.99 + 0.899 * 0.01).epsilon(1e-9));  // rank 100.899 of 0..101
  REQUIRE(d.histogram.size() == 9);                             // [0,1e-6), 6 decades to 1, [1,10), [10,inf)
  CHECK(d.histogram[0].tokens == 2);                            // 0 and the negative one
  CHECK(d.histogram[4].tokens == 0);                            // [0.001, 0.01)
  CHECK(d.histogram[5].tokens == 9);                            // 0.01 .. 0.09
  CHECK(d.histogram[6].tokens == 90);                           // 0.10 .. 0.99
  CHECK(d.histogram[7].tokens == 1);                            // 1.0
  CHECK(d.histogram[8].tokens == 0);                            // 10 and above
  CHECK(std::isinf(d.histogram.back().upper));
  CHECK(jobs::kl_distribution({}).histogram.empty());
}
