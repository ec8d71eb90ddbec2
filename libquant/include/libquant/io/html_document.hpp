#pragma once
// A self-contained HTML page for reports: inline CSS and SVG only, a Content
// Security Policy that forbids every fetch and script, so the file reads the
// same offline, in a mail attachment or in a CI artifact. Every number a page
// shows is also stored in `data-*` attributes in the form JSON results use
// (shortest round-trip), so a test or a script can read the page back exactly.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libquant/export.hpp"

namespace libquant::io {

// data-* attributes of one element: {"layer", "model.layers.0"} -> data-layer="model.layers.0".
using DataAttributes = std::vector<std::pair<std::string, std::string>>;

// Text made safe for element content and quoted attribute values.
LIBQUANT_API std::string html_escape(std::string_view text);
// A number as JsonWriter writes it (shortest round-trip; "null" when not finite).
LIBQUANT_API std::string html_number(double v);
// ` data-k="v"` for each attribute (keys must be lowercase letters, digits and '-').
LIBQUANT_API std::string data_attributes(const DataAttributes& data);

struct HtmlTableRow {
  std::vector<std::string> cells;  // text (escaped when written)
  DataAttributes data;             // on the <tr>
};

struct HtmlTable {
  std::string id;
  std::vector<std::string> header;
  std::vector<HtmlTableRow> rows;
};

class LIBQUANT_API HtmlDocument {
 public:
  // `kind` names the report ("quality-report", ...): <body data-report="kind">.
  HtmlDocument(std::string title, std::string kind, DataAttributes body_data = {});
  void heading(std::string_view text, int level = 2);
  void paragraph(std::string_view text);
  void table(const HtmlTable& t);
  void preformatted(std::string_view text, std::string_view css_class = "");
  // Markup built by the chart writers (svg_chart.hpp), inserted as is.
  void markup(std::string_view html);
  // The whole page; the document is left empty.
  std::string finish();

 private:
  std::string title_, kind_;
  DataAttributes body_data_;
  std::string body_;
};

}  // namespace libquant::io
