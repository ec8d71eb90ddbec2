#pragma once
// Small SVG charts for the HTML reports: bars (stacked or not, with markers),
// scatter plots with a Pareto frontier, and heat maps. Each plotted value is
// one element of class "mark" carrying the caller's data-* attributes and a
// <title> tooltip, so a page can be checked by counting and reading them.
// No scripts, no fonts or images fetched: the output is plain inline SVG.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "libquant/export.hpp"
#include "libquant/io/html_document.hpp"

namespace libquant::io {

struct ChartFrame {
  std::string id;  // the <svg>'s id
  std::string title, x_label, y_label;
  bool log_y = false;  // decades on the value axis (values <= 0 are not drawn)
  int width = 900, height = 320;
};

// One segment of the bar of category `category`; segments of one category
// stack in the order given. `series` picks the colour (and the legend entry).
struct BarSegment {
  size_t category = 0;
  double value = 0;
  std::string series;
  std::string tooltip;
  DataAttributes data;
};

// A triangle drawn above a category's bar (e.g. a super weight in that layer).
struct BarMarker {
  size_t category = 0;
  std::string tooltip;
  DataAttributes data;
};

// Bars over categories, with a legend of the series when there is more than one.
LIBQUANT_API std::string bar_chart(const ChartFrame& frame, const std::vector<std::string>& categories,
                                   const std::vector<BarSegment>& segments, const std::vector<BarMarker>& markers = {});

struct ScatterPoint {
  double x = 0, y = 0;
  std::string label;  // written beside the point
  std::string tooltip;
  DataAttributes data;
};

struct ScatterOptions {
  bool frontier = true;               // join the points no other point beats in both x and y (lower is better)
  std::optional<double> reference_y;  // a dashed horizontal line (e.g. the original's perplexity)
  std::string reference_label;
};

LIBQUANT_API std::string scatter_chart(const ChartFrame& frame, const std::vector<ScatterPoint>& points,
                                       const ScatterOptions& options = {});

// The points of `points` on the lower-left frontier (indices, by increasing x):
// no other point has both a smaller-or-equal x and a smaller y.
LIBQUANT_API std::vector<size_t> pareto_frontier(const std::vector<ScatterPoint>& points);

struct HeatCell {
  size_t row = 0, col = 0;
  double value = 0;
  std::string tooltip;
  DataAttributes data;
};

// Cells coloured from the smallest to the largest value (log10 when
// frame.log_y; non-positive values then stay grey and unmarked).
LIBQUANT_API std::string heat_map(const ChartFrame& frame, const std::vector<std::string>& rows,
                                  const std::vector<std::string>& cols, const std::vector<HeatCell>& cells);

}  // namespace libquant::io
