#pragma once
// Pieces the HTML reports share (jobs/html_reports.hpp).
#include <string>
#include <vector>

#include "libquant/io/html_document.hpp"
#include "libquant/jobs/analyze.hpp"
#include "libquant/jobs/html_reports.hpp"
#include "libquant/methods/super_weights.hpp"

namespace libquant::jobs::html {

// "blk.3.attn_q.weight" -> "attn_q"; tensors outside the blocks keep their name less ".weight".
std::string weight_kind(const std::string& gguf_name);
// prefix + "0", prefix + "1", ..., prefix + (n - 1): the category names of per-layer plots.
std::vector<std::string> numbered(int n, const std::string& prefix = "");
// Bytes as "12.3 MiB".
std::string human_bytes(uint64_t bytes);
// A number for reading (4 significant digits) and the data-* text of the same number.
std::string shown(double v);
// {key, html_number(v)}
std::pair<std::string, std::string> number_attribute(std::string key, double v);
// "The command that made this page" section.
void command_section(io::HtmlDocument& doc, const ReportProvenance& provenance);
// The super-weight table (id "super-weights"); every field in data-* attributes.
void super_weight_table(io::HtmlDocument& doc, const std::vector<methods::SuperWeight>& found);

}  // namespace libquant::jobs::html
