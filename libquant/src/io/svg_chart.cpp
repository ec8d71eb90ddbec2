#include "libquant/io/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace libquant::io {
namespace {

constexpr double kLeft = 72, kRight = 20, kTop = 30, kBottom = 64;

// Colours that stay apart for the colour-blind (Okabe-Ito, then Tableau).
constexpr const char* kPalette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
                                    "#4e79a7", "#59a14f", "#b07aa1", "#9c755f", "#bab0ac", "#76b7b2", "#ff9da7"};

std::string fmt(double v) {  // pixel coordinates: two decimals are plenty
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string tick_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// A value axis: linear over nice steps, or log10 over whole decades.
struct Scale {
  double lo = 0, hi = 1;  // in axis units (log10 of the value when log)
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;  // where lo and hi land

  double unit(double v) const { return log ? std::log10(v) : v; }
  double operator()(double v) const { return pixel_lo + (unit(v) - lo) / (hi - lo) * (pixel_hi - pixel_lo); }
  std::vector<double> ticks() const {  // in values
    std::vector<double> t;
    if (log) {
      for (double d = std::ceil(lo - 1e-9); d <= hi + 1e-9; d += 1) t.push_back(std::pow(10.0, d));
      return t;
    }
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
      t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
    return t;
  }
};

// The axis range of a set of values (the finite ones; positive ones when log).
Scale make_scale(const std::vector<double>& values, bool log, bool from_zero, double pixel_lo, double pixel_hi) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values)
    if (std::isfinite(v) && (!log || v > 0)) {
      lo = std::min(lo, log ? std::log10(v) : v);
      hi = std::max(hi, log ? std::log10(v) : v);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  Scale s;
  s.log = log;
  s.pixel_lo = pixel_lo;
  s.pixel_hi = pixel_hi;
  if (log) {
    s.lo = std::floor(lo);
    s.hi = std::max(std::ceil(hi), s.lo + 1);
    return s;
  }
  if (from_zero) lo = std::min(lo, 0.0);
  const double pad = hi > lo ? 0.06 * (hi - lo) : std::max(std::fabs(hi) * 0.1, 1e-12);
  s.lo = from_zero && lo >= 0 ? 0.0 : lo - pad;
  s.hi = hi + pad;
  return s;
}

std::string svg_open(const ChartFrame& f, int height) {
  return "<svg class=\"chart\" id=\"" + html_escape(f.id) + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         std::to_string(f.width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
         std::to_string(f.width) + " " + std::to_string(height) + "\" role=\"img\" aria-label=\"" +
         html_escape(f.title) + "\">\n<text class=\"title\" x=\"" + fmt(kLeft) + "\" y=\"18\">" + html_escape(f.title) +
         "</text>\n";
}

// Grid lines and tick labels of a vertical value axis, and its label.
std::string y_axis(const Scale& y, double x0, double x1, const std::string& label) {
  std::string s = "<g class=\"grid\">";
  std::string t = "<g class=\"axis\">";
  for (double v : y.ticks()) {
    const double p = y(v);
    s += "<line x1=\"" + fmt(x0) + "\" x2=\"" + fmt(x1) + "\" y1=\"" + fmt(p) + "\" y2=\"" + fmt(p) + "\"/>";
    t += "<text x=\"" + fmt(x0 - 6) + "\" y=\"" + fmt(p + 4) + "\" text-anchor=\"end\">" + tick_text(v) + "</text>";
  }
  const double mid = (y.pixel_lo + y.pixel_hi) / 2;
  t += "<line x1=\"" + fmt(x0) + "\" x2=\"" + fmt(x0) + "\" y1=\"" + fmt(y.pixel_lo) + "\" y2=\"" + fmt(y.pixel_hi) +
       "\"/><text x=\"14\" y=\"" + fmt(mid) + "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + fmt(mid) +
       ")\">" + html_escape(label) + "</text></g>\n";
  return s + "</g>\n" + t;
}

std::string x_label(const ChartFrame& f, int height) {
  return "<text x=\"" + fmt((kLeft + f.width - kRight) / 2) + "\" y=\"" + fmt(height - 8.0) +
         "\" text-anchor=\"middle\">" + html_escape(f.x_label) + "</text>\n";
}

std::string mark_title(const std::string& tooltip) {
  return tooltip.empty() ? std::string() : "<title>" + html_escape(tooltip) + "</title>";
}

// Series name -> colour, in order of first appearance.
std::map<std::string, std::string> colour_series(const std::vector<std::string>& names,
                                                 std::vector<std::string>& order) {
  std::map<std::string, std::string> colours;
  for (const auto& n : names)
    if (!colours.count(n)) {
      colours[n] = kPalette[order.size() % std::size(kPalette)];
      order.push_back(n);
    }
  return colours;
}

}  // namespace

std::string bar_chart(const ChartFrame& f, const std::vector<std::string>& categories,
                      const std::vector<BarSegment>& segments, const std::vector<BarMarker>& markers) {
  const size_t n = std::max<size_t>(1, categories.size());
  std::vector<double> totals(n, 0.0);
  std::vector<std::string> names;
  for (const auto& s : segments)
    if (s.category < n && std::isfinite(s.value)) {
      totals[s.category] += f.log_y ? 0 : s.value;
      if (f.log_y) totals[s.category] = std::max(totals[s.category], s.value);
      names.push_back(s.series);
    }
  const double plot_w = f.width - kLeft - kRight;
  const Scale y = make_scale(totals, f.log_y, true, f.height - kBottom, kTop + 14);
  std::string out = svg_open(f, f.height) + y_axis(y, kLeft, f.width - kRight, f.y_label);
  std::vector<std::string> order;
  const auto colours = colour_series(names, order);
  const double band = plot_w / static_cast<double>(n), bar = std::max(1.0, band * 0.72);
  std::vector<double> top(n, y.log ? std::pow(10.0, y.lo) : 0.0);
  out += "<g class=\"bars\">\n";
  for (const auto& s : segments) {
    if (s.category >= n || !std::isfinite(s.value) || (y.log && s.value <= 0)) continue;
    const double base = top[s.category], end = y.log ? s.value : base + std::max(0.0, s.value);
    if (!y.log) top[s.category] = end;
    const double x = kLeft + band * static_cast<double>(s.category) + (band - bar) / 2;
    const double y0 = y(base), y1 = y(end);
    out += "<rect class=\"mark\" x=\"" + fmt(x) + "\" y=\"" + fmt(std::min(y0, y1)) + "\" width=\"" + fmt(bar) +
           "\" height=\"" + fmt(std::fabs(y0 - y1)) + "\" fill=\"" + colours.at(s.series) +
           "\" stroke=\"#fff\" stroke-width=\"0.6\"" + data_attributes(s.data) + ">" + mark_title(s.tooltip) +
           "</rect>\n";
  }
  for (const auto& m : markers) {
    if (m.category >= n) continue;
    const double cx = kLeft + band * (static_cast<double>(m.category) + 0.5), cy = kTop + 8;
    out += "<path class=\"marker\" d=\"M" + fmt(cx - 6) + " " + fmt(cy - 6) + "L" + fmt(cx + 6) + " " + fmt(cy - 6) +
           "L" + fmt(cx) + " " + fmt(cy + 4) + "Z\" fill=\"#c0392b\"" + data_attributes(m.data) + ">" +
           mark_title(m.tooltip) + "</path>\n";
  }
  out += "</g>\n<g class=\"axis\">";
  // Category labels: all of them when they fit, else every k-th.
  const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil(14.0 * static_cast<double>(n) / plot_w)));
  for (size_t c = 0; c < categories.size(); c += every) {
    const double cx = kLeft + band * (static_cast<double>(c) + 0.5), cy = f.height - kBottom + 14;
    out += "<text x=\"" + fmt(cx) + "\" y=\"" + fmt(cy) + "\" text-anchor=\"end\" transform=\"rotate(-40 " + fmt(cx) +
           " " + fmt(cy) + ")\">" + html_escape(categories[c]) + "</text>";
  }
  out += "</g>\n" + x_label(f, f.height) + "</svg>\n";
  if (order.size() > 1) {
    out += "<div class=\"legend\">";
    for (const auto& s : order)
      out += "<span><i style=\"background:" + colours.at(s) + "\"></i>" + html_escape(s) + "</span>";
    out += "</div>\n";
  }
  return out;
}

std::vector<size_t> pareto_frontier(const std::vector<ScatterPoint>& points) {
  std::vector<size_t> idx(points.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    return points[a].x != points[b].x ? points[a].x < points[b].x : points[a].y < points[b].y;
  });
  std::vector<size_t> front;
  double best = std::numeric_limits<double>::infinity();
  for (size_t i : idx)
    if (std::isfinite(points[i].x) && points[i].y < best) {
      best = points[i].y;
      front.push_back(i);
    }
  return front;
}

std::string scatter_chart(const ChartFrame& f, const std::vector<ScatterPoint>& points, const ScatterOptions& o) {
  std::vector<double> xs, ys;
  for (const auto& p : points) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  if (o.reference_y) ys.push_back(*o.reference_y);
  const Scale x = make_scale(xs, false, false, kLeft, f.width - kRight - 40);
  const Scale y = make_scale(ys, f.log_y, false, f.height - kBottom, kTop + 14);
  std::string out = svg_open(f, f.height) + y_axis(y, kLeft, f.width - kRight, f.y_label) + "<g class=\"axis\">";
  for (double v : x.ticks()) {
    const double p = x(v);
    out += "<line x1=\"" + fmt(p) + "\" x2=\"" + fmt(p) + "\" y1=\"" + fmt(y.pixel_lo) + "\" y2=\"" +
           fmt(y.pixel_lo + 5) + "\"/><text x=\"" + fmt(p) + "\" y=\"" + fmt(y.pixel_lo + 18) +
           "\" text-anchor=\"middle\">" + tick_text(v) + "</text>";
  }
  out += "<line x1=\"" + fmt(kLeft) + "\" x2=\"" + fmt(f.width - kRight) + "\" y1=\"" + fmt(y.pixel_lo) + "\" y2=\"" +
         fmt(y.pixel_lo) + "\"/></g>\n";
  const auto visible = [&](const ScatterPoint& p) {
    return std::isfinite(p.x) && std::isfinite(p.y) && (!y.log || p.y > 0);
  };
  if (o.reference_y && (!y.log || *o.reference_y > 0)) {
    const double p = y(*o.reference_y);
    out += "<g class=\"reference\"><line x1=\"" + fmt(kLeft) + "\" x2=\"" + fmt(f.width - kRight) + "\" y1=\"" +
           fmt(p) + "\" y2=\"" + fmt(p) + "\" stroke=\"#777\" stroke-dasharray=\"5 4\"/><text x=\"" + fmt(kLeft + 4) +
           "\" y=\"" + fmt(p - 4) + "\">" + html_escape(o.reference_label) + "</text></g>\n";
  }
  if (o.frontier) {
    std::string pts;
    for (size_t i : pareto_frontier(points))
      if (visible(points[i])) pts += fmt(x(points[i].x)) + "," + fmt(y(points[i].y)) + " ";
    out += "<polyline class=\"frontier\" points=\"" + pts +
           "\" fill=\"none\" stroke=\"#0072b2\" stroke-width=\"1.5\" "
           "stroke-dasharray=\"3 3\"/>\n";
  }
  out += "<g class=\"points\">\n";
  std::vector<std::pair<double, double>> placed;  // label anchors already used: keep labels apart
  for (const auto& p : points) {
    if (!visible(p)) continue;
    const double cx = x(p.x), cy = y(p.y);
    double ly = cy - 6;
    for (int tries = 0; tries < 8; ++tries) {
      const bool clash = std::any_of(placed.begin(), placed.end(), [&](const auto& q) {
        return std::fabs(q.first - cx) < 60 && std::fabs(q.second - ly) < 11;
      });
      if (!clash) break;
      ly += 12;
    }
    placed.emplace_back(cx, ly);
    out += "<circle class=\"mark\" cx=\"" + fmt(cx) + "\" cy=\"" + fmt(cy) + "\" r=\"5\" fill=\"#d55e00\"" +
           data_attributes(p.data) + ">" + mark_title(p.tooltip) + "</circle><text x=\"" + fmt(cx + 8) + "\" y=\"" +
           fmt(ly) + "\">" + html_escape(p.label) + "</text>\n";
  }
  return out + "</g>\n" + x_label(f, f.height) + "</svg>\n";
}

namespace {

// Viridis, five stops, interpolated: dark = small, yellow = large.
std::string heat_colour(double t) {
  static constexpr double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double u = t - i;
  char b[16];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", static_cast<int>(stops[i][0] + u * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + u * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + u * (stops[i + 1][2] - stops[i][2])));
  return b;
}

}  // namespace

std::string heat_map(const ChartFrame& f, const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                     const std::vector<HeatCell>& cells) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  const auto unit = [&](double v) { return f.log_y ? std::log10(v) : v; };
  const auto shown = [&](const HeatCell& c) {
    return c.row < rows.size() && c.col < cols.size() && std::isfinite(c.value) && (!f.log_y || c.value > 0);
  };
  for (const auto& c : cells)
    if (shown(c)) {
      lo = std::min(lo, unit(c.value));
      hi = std::max(hi, unit(c.value));
    }
  const double cell_h = 16, top = kTop + 56, legend_h = 46;
  const int height = static_cast<int>(top + cell_h * static_cast<double>(rows.size()) + legend_h);
  const double cell_w = (f.width - kLeft - kRight) / static_cast<double>(std::max<size_t>(1, cols.size()));
  std::string out = svg_open(f, height) + "<g class=\"axis\">";
  for (size_t c = 0; c < cols.size(); ++c) {
    const double cx = kLeft + cell_w * (static_cast<double>(c) + 0.5);
    out += "<text x=\"" + fmt(cx) + "\" y=\"" + fmt(top - 8) + "\" text-anchor=\"start\" transform=\"rotate(-30 " +
           fmt(cx) + " " + fmt(top - 8) + ")\">" + html_escape(cols[c]) + "</text>";
  }
  for (size_t r = 0; r < rows.size(); ++r)
    out += "<text x=\"" + fmt(kLeft - 6) + "\" y=\"" + fmt(top + cell_h * (static_cast<double>(r) + 0.5) + 4) +
           "\" text-anchor=\"end\">" + html_escape(rows[r]) + "</text>";
  out += "</g>\n<g class=\"cells\">\n";
  for (const auto& c : cells) {
    const double x = kLeft + cell_w * static_cast<double>(c.col), y = top + cell_h * static_cast<double>(c.row);
    if (c.row >= rows.size() || c.col >= cols.size()) continue;
    const bool on = shown(c);
    const double t = on && hi > lo ? (unit(c.value) - lo) / (hi - lo) : 0.5;
    out += std::string("<rect class=\"") + (on ? "mark" : "empty") + "\" x=\"" + fmt(x + 0.5) + "\" y=\"" +
           fmt(y + 0.5) + "\" width=\"" + fmt(cell_w - 1) + "\" height=\"" + fmt(cell_h - 1) + "\" fill=\"" +
           (on ? heat_colour(t) : std::string("#dddddd")) + "\"" + data_attributes(c.data) + ">" +
           mark_title(c.tooltip) + "</rect>\n";
  }
  // Colour scale: five steps from the smallest to the largest value.
  out += "</g>\n<g class=\"scale\">";
  const double ly = top + cell_h * static_cast<double>(rows.size()) + 14;
  for (int i = 0; i < 5 && std::isfinite(lo); ++i) {
    const double v = lo + (hi - lo) * i / 4.0;
    const double lx = kLeft + i * 110.0;
    out += "<rect x=\"" + fmt(lx) + "\" y=\"" + fmt(ly) + "\" width=\"18\" height=\"12\" fill=\"" +
           heat_colour(i / 4.0) + "\"/><text x=\"" + fmt(lx + 22) + "\" y=\"" + fmt(ly + 10) + "\">" +
           tick_text(f.log_y ? std::pow(10.0, v) : v) + "</text>";
  }
  out += "<text x=\"" + fmt(kLeft + 560) + "\" y=\"" + fmt(ly + 10) + "\">" + html_escape(f.y_label) + "</text></g>\n";
  return out + "</svg>\n";
}

}  // namespace libquant::io
