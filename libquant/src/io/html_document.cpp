#include "libquant/io/html_document.hpp"

#include <charconv>
#include <cmath>

#include "libquant/version.hpp"

namespace libquant::io {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  return out;
}

std::string html_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return {buf, r.ptr};
}

std::string data_attributes(const DataAttributes& data) {
  std::string out;
  for (const auto& [k, v] : data) out += " data-" + k + "=\"" + html_escape(v) + "\"";
  return out;
}

namespace {

// Readable in print and on screen; nothing fetched, nothing scripted.
constexpr std::string_view kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:980px;color:#1d2330;
 background:#fff;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #dde;padding-bottom:3px}
table{border-collapse:collapse;margin:8px 0;font-size:.9em}th,td{padding:3px 10px;border-bottom:1px solid #e4e6ee;
 text-align:left;vertical-align:top}td.num{white-space:nowrap}th{background:#f3f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f5f6fa;padding:8px 10px;overflow-x:auto;font-size:.85em;white-space:pre-wrap;word-break:break-all}
svg.chart{display:block;margin:8px 0;font-size:11px}svg.chart text{fill:#333}
svg.chart .axis line,svg.chart .axis path{stroke:#888}svg.chart .grid line{stroke:#eceef4}
svg.chart .title{font-size:13px;font-weight:600}p.note{color:#555;font-size:.9em}
.legend span{display:inline-block;margin-right:14px;font-size:.85em}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
)";

}  // namespace

HtmlDocument::HtmlDocument(std::string title, std::string kind, DataAttributes body_data)
    : title_(std::move(title)), kind_(std::move(kind)), body_data_(std::move(body_data)) {}

void HtmlDocument::heading(std::string_view text, int level) {
  std::string tag = "h";
  tag += static_cast<char>('0' + (level < 1 ? 1 : level > 4 ? 4 : level));
  body_ += "<" + tag + ">" + html_escape(text) + "</" + tag + ">\n";
}

void HtmlDocument::paragraph(std::string_view text) { body_ += "<p class=\"note\">" + html_escape(text) + "</p>\n"; }

void HtmlDocument::table(const HtmlTable& t) {
  body_ += "<table" + (t.id.empty() ? std::string() : " id=\"" + html_escape(t.id) + "\"") + "><thead><tr>";
  for (const auto& h : t.header) body_ += "<th>" + html_escape(h) + "</th>";
  body_ += "</tr></thead><tbody>\n";
  for (const auto& r : t.rows) {
    body_ += "<tr" + data_attributes(r.data) + ">";
    for (const auto& c : r.cells) {
      // Numbers, and sizes such as "12.3 MiB", align right.
      double v = 0;
      const auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), v);
      const std::string_view rest(p, static_cast<size_t>(c.data() + c.size() - p));
      const bool numeric =
          !c.empty() && ec == std::errc() && (rest.empty() || rest == " KiB" || rest == " MiB" || rest == " GiB");
      body_ += (numeric ? "<td class=\"num\">" : "<td>") + html_escape(c) + "</td>";
    }
    body_ += "</tr>\n";
  }
  body_ += "</tbody></table>\n";
}

void HtmlDocument::preformatted(std::string_view text, std::string_view css_class) {
  body_ += "<pre" + (css_class.empty() ? std::string() : " class=\"" + html_escape(css_class) + "\"") + ">" +
           html_escape(text) + "</pre>\n";
}

void HtmlDocument::markup(std::string_view html) {
  body_ += html;
  body_ += '\n';
}

std::string HtmlDocument::finish() {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"libquant " LIBQUANT_VERSION_STRING "\">\n<title>" +
      html_escape(title_) + "</title>\n<style>" + std::string(kStyle) + "</style></head>\n<body data-report=\"" +
      html_escape(kind_) + "\"" + data_attributes(body_data_) + ">\n<h1>" + html_escape(title_) + "</h1>\n" + body_ +
      "<p class=\"note\">Made by libquant " LIBQUANT_VERSION_STRING ".</p>\n</body></html>\n";
  body_.clear();
  return page;
}

}  // namespace libquant::io
